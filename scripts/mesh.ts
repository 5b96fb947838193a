// `npm run mesh -- --peers 5 [--voters 3]`: a whole mesh of real daemons on this machine's
// loopback addresses (127.0.0.2 and up), for trying Grid-X and for tests. Prints each peer's
// API URL with its token, and stops them all on Ctrl+C. It runs the same fixture as the
// integration tests, so what a user tries here is what CI checks.
import '../node/polyfills.ts'
import { parseArgs } from 'node:util'
import { MESH_CLUSTER_PEERS_MAX, MeshCluster } from './lib/mesh-cluster.ts'

const USAGE = `usage: npm run mesh -- [--peers N] [--voters 1|3|5] [--no-executors] [--independent]
  --peers N        daemons to run, on 127.0.0.2 and up (default 3)
  --voters N       voters the mesh keeps: 1, 3 or 5, at most --peers (default 3, or 1)
  --no-executors   run no executor on any peer (by default each peer runs jobs when the
                   container engine is there, and says so once when it is not)
  --independent    start the peers without joining them: each is its own one-machine mesh
  --root DIR       where the data dirs and logs go (default: a new temporary directory)
`

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`)
  process.exit(2)
}

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '3' },
    voters: { type: 'string' },
    'no-executors': { type: 'boolean', default: false },
    independent: { type: 'boolean', default: false },
    root: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}
const peers = Number(values.peers)
if (!/^\d+$/.test(values.peers) || peers < 1 || peers > MESH_CLUSTER_PEERS_MAX) {
  fail(`--peers takes a count from 1 to ${MESH_CLUSTER_PEERS_MAX}, not "${values.peers}"`)
}
const voters = Number(values.voters ?? (peers >= 3 ? '3' : '1'))
if (![1, 3, 5].includes(voters) || voters > peers) {
  fail(`--voters takes 1, 3 or 5, at most --peers (${peers}), not "${values.voters}"`)
}

const cluster = await MeshCluster.create({
  peers,
  executors: !values['no-executors'],
  ...(values.root === undefined ? {} : { root: values.root }),
})
const stopped = new AbortController()
const stop = () => stopped.abort()
process.once('SIGINT', stop)
process.once('SIGTERM', stop)

try {
  process.stderr.write(`starting ${peers} peers in ${cluster.root}…\n`)
  if (values.independent) await cluster.startIndependent()
  else await cluster.startMesh(voters as 1 | 3 | 5)
  for (const peer of cluster.peers) {
    const token = await cluster.apiToken(peer.index)
    process.stdout.write(
      `peer ${peer.index}  ${peer.daemon?.peerId}\n` +
        `  API    ${peer.daemon?.apiUrl}  (GRIDX_TOKEN=${token})\n` +
        `  app    ${peer.daemon?.appUrl}\n` +
        `  join   ${peer.joinAddress}\n` +
        `  logs   ${peer.logFile}, ${peer.daemonLogFile}\n`,
    )
  }
  process.stdout.write('Press Ctrl+C to stop them all.\n')
  if (!stopped.signal.aborted) {
    await new Promise((resolve) => stopped.signal.addEventListener('abort', resolve))
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\nlogs: ${cluster.root}\n`)
  process.exitCode = 1
} finally {
  process.stderr.write('stopping every peer…\n')
  await cluster.stopAll()
}
