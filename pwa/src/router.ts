// App routes are paths (the fragment carries the login token): the daemon and the service
// worker answer every extension-less path with index.html, so a reload keeps the page.

export type Route =
  | { readonly name: 'jobs' }
  | { readonly name: 'job'; readonly id: string }
  | { readonly name: 'submit'; readonly from: string | undefined }
  | { readonly name: 'wallet' }
  | { readonly name: 'mesh' }
  | { readonly name: 'not-found' }

export function parseRoute(pathname: string, search = ''): Route {
  const parts = pathname.split('/').filter((part) => part !== '')
  const [first, second] = parts
  if (parts.length === 0 || (first === 'jobs' && parts.length === 1)) return { name: 'jobs' }
  if (first === 'jobs' && second !== undefined && parts.length === 2) {
    return { name: 'job', id: decodeURIComponent(second) }
  }
  if (parts.length === 1 && first === 'submit') {
    const from = new URLSearchParams(search).get('from') ?? undefined
    return { name: 'submit', from }
  }
  if (parts.length === 1 && (first === 'wallet' || first === 'mesh')) return { name: first }
  return { name: 'not-found' }
}

/** Title of each route, for the document title and the nav's aria-current. */
export function routeTitle(route: Route): string {
  switch (route.name) {
    case 'jobs':
      return 'Jobs'
    case 'job':
      return `Job ${route.id}`
    case 'submit':
      return 'Submit a job'
    case 'wallet':
      return 'Wallet'
    case 'mesh':
      return 'Mesh'
    case 'not-found':
      return 'Not found'
  }
}
