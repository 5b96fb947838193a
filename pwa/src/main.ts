// Entry of the app: defines the root element and registers the service worker (built by
// Workbox into /sw.js, so only in a production build).
import './parse-without-eval.ts'
import './elements/gridx-app.ts'

if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch((error: unknown) => {
      console.warn('gridx: the service worker could not register; no offline use', error)
    })
  })
}
