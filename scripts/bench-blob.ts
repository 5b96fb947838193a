// blob-transfer: one 256 MiB blob fetched over /gridx/blob/2.0.0 between two libp2p peers on
// loopback (TCP, Noise, Yamux, as the daemon's MeshNode runs them), each chunk checked against
// its digest and the whole against its CID, into a real blob store on disk. The baseline, in
// the same run, sends the same file from the same holder over a plain TCP socket on loopback
// into the same kind of store (hash, write, fsync): the ratio is what the protocol and its
// encryption cost. Raw TCP (bytes read and dropped) and a bare libp2p stream (no framing,
// hashing or store) are reported beside it, to tell the transport's share from the protocol's,
// and so is the cost of Noise's cipher alone, the ceiling of any encrypted stream here.
//
// The holder runs in a process of its own, as every peer does (bench-blob-holder.ts); the same
// measurements with the holder inside the fetcher's process are reported as `oneProcess`, where
// one thread does both ends' work. Runs alternate; medians count. CPU time (both peers') per
// GiB is reported beside each rate: on a shared machine it moves less than the wall time.
//
// `npm run bench -- blob-transfer --json`, or on its own: `tsx scripts/bench-blob.ts --json`.
import '../node/polyfills.ts'
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { BlobStore } from '../node/blobs/index.ts'
import { BLOB_CHUNK_BYTES } from '../protocol/index.ts'
import { RAW_PROTOCOL, startHolder, startPeer } from './bench-blob-holder.ts'
import type { BenchPeer, HolderInfo } from './bench-blob-holder.ts'

export interface BenchBlobOptions {
  readonly megabytes?: number
  readonly runs?: number
}

const MIB = 1024 * 1024
const PATHS = ['libp2p', 'tcpIntoStore', 'tcpRaw', 'libp2pRaw'] as const
type Path = (typeof PATHS)[number]

interface HolderHandle {
  readonly info: HolderInfo
  /** The holder's CPU time so far when it is a process of its own; 0 inside this one, whose
   * own CPU time then counts both ends. */
  cpuMs(): Promise<number>
  stop(): Promise<void>
}

/** The next message of `child`, or a rejection if it exits first. */
async function message(child: ChildProcess): Promise<unknown> {
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the holder process exited (${String(code)})`)
  })
  const [received] = await Promise.race([once(child, 'message'), exited])
  return received
}

async function forkHolder(dir: string, bytes: number, admit: string): Promise<HolderHandle> {
  const script = fileURLToPath(new URL('./bench-blob-holder.ts', import.meta.url))
  const args = ['--dir', dir, '--bytes', String(bytes), '--admit', admit]
  const child = fork(script, args, {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const { ready } = (await message(child)) as { ready: HolderInfo }
  return {
    info: ready,
    cpuMs: async () => {
      child.send('cpu')
      return ((await message(child)) as { cpuMs: number }).cpuMs
    },
    stop: async () => {
      const exited = once(child, 'exit')
      child.send('stop')
      await exited
    },
  }
}

async function inlineHolder(dir: string, bytes: number, admit: string): Promise<HolderHandle> {
  const holder = await startHolder(dir, bytes, new Set([admit]))
  return { info: holder.info, cpuMs: () => Promise.resolve(0), stop: () => holder.stop() }
}

interface Sample {
  readonly ms: number
  readonly cpuMs: number
}

async function measure(holder: HolderHandle, run: () => Promise<void>): Promise<Sample> {
  const holderBefore = await holder.cpuMs()
  const before = process.cpuUsage()
  const began = performance.now()
  await run()
  const ms = performance.now() - began
  const own = process.cpuUsage(before)
  const holderMs = (await holder.cpuMs()) - holderBefore
  return { ms, cpuMs: (own.user + own.system) / 1000 + holderMs }
}

/** What each path does once, from the fetcher's side. */
function paths(fetcher: BenchPeer, into: BlobStore, holder: HolderInfo, bytes: number) {
  const connect = () => createConnection(holder.tcpPort, '127.0.0.1')
  return {
    libp2p: async () => {
      await fetcher.blobs.fetch(holder.cid, { preferred: [holder.peerId] })
    },
    tcpIntoStore: async () => {
      await into.write(holder.cid, bytes, connect())
    },
    tcpRaw: async () => {
      const socket = connect()
      socket.resume()
      await once(socket, 'end')
    },
    libp2pRaw: async () => {
      const stream = await fetcher.node.dialProtocol(peerIdFromString(holder.peerId), RAW_PROTOCOL)
      const done = Promise.withResolvers<void>()
      let received = 0
      stream.addEventListener('message', (event) => {
        received += event.data.byteLength
        if (received >= bytes) done.resolve()
      })
      await done.promise
      await stream.close()
    },
  } satisfies Record<Path, () => Promise<void>>
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

type Samples = Record<Path, Sample[]>

/** Every path `runs` times, alternating, with the holder in its own process or in this one. */
async function measureAll(
  root: string,
  mode: 'process' | 'inline',
  bytes: number,
  runs: number,
): Promise<Samples> {
  const dir = join(root, mode)
  const admitted = new Set<string>()
  const fetcher = await startPeer(join(dir, 'fetcher'), admitted)
  const into = new BlobStore({ dir: join(dir, 'baseline'), references: () => [] })
  await into.open()
  const self = fetcher.node.peerId.toString()
  const start = mode === 'process' ? forkHolder : inlineHolder
  const holder = await start(join(dir, 'holder'), bytes, self)
  try {
    admitted.add(holder.info.peerId)
    await fetcher.node.peerStore.merge(peerIdFromString(holder.info.peerId), {
      multiaddrs: holder.info.multiaddrs.map((address) => multiaddr(address)),
    })
    const run = paths(fetcher, into, holder.info, bytes)
    const samples: Samples = { libp2p: [], tcpIntoStore: [], tcpRaw: [], libp2pRaw: [] }
    for (let round = 0; round < runs; round++) {
      for (const path of PATHS) {
        samples[path].push(await measure(holder, run[path]))
        await fetcher.store.remove(holder.info.cid)
        await into.remove(holder.info.cid)
      }
    }
    return samples
  } finally {
    await holder.stop()
    await fetcher.node.stop()
  }
}

function summary(samples: Samples, bytes: number) {
  const rate = (path: Path) => {
    const ms = median(samples[path].map((sample) => sample.ms))
    return Math.round((bytes / MIB / (ms / 1000)) * 10) / 10
  }
  const cpu = (path: Path) => {
    const ms = median(samples[path].map((sample) => sample.cpuMs))
    return Math.round((ms * 1024 * MIB) / bytes)
  }
  const libp2p = rate('libp2p')
  const tcpIntoStore = rate('tcpIntoStore')
  return {
    libp2pMiBPerSecond: libp2p,
    baseline: {
      tcpIntoStoreMiBPerSecond: tcpIntoStore,
      tcpRawMiBPerSecond: rate('tcpRaw'),
      libp2pRawStreamMiBPerSecond: rate('libp2pRaw'),
    },
    ratio: Math.round((libp2p / tcpIntoStore) * 100) / 100,
    cpuMsPerGiB: Object.fromEntries(PATHS.map((path) => [path, cpu(path)])),
    runsMs: Object.fromEntries(
      PATHS.map((path) => [path, samples[path].map((sample) => Math.round(sample.ms))]),
    ),
  }
}

/** Noise's cipher alone, in one thread: @libp2p/noise seals each message of up to 65519 bytes
 * with a fresh node:crypto ChaCha20-Poly1305 (for messages of 1200 bytes or more) and opens
 * it likewise. No encrypted stream here moves faster than this. */
function noiseCipher(bytes: number) {
  const frameBytes = 65535 - 16
  const plain = randomBytes(frameBytes)
  const key = randomBytes(32)
  const nonce = Buffer.alloc(12)
  const rate = (run: () => void) => {
    const began = performance.now()
    for (let done = 0; done < bytes; done += frameBytes) run()
    return Math.round(bytes / MIB / ((performance.now() - began) / 1000))
  }
  let sealed = Buffer.alloc(0)
  const seal = () => {
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
    sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
  }
  const open = () => {
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
    decipher.setAuthTag(sealed.subarray(frameBytes))
    decipher.update(sealed.subarray(0, frameBytes))
    decipher.final()
  }
  seal()
  const sealMiBPerSecond = rate(seal)
  const openMiBPerSecond = rate(open)
  const bothMs = 1000 / sealMiBPerSecond + 1000 / openMiBPerSecond
  return {
    sealMiBPerSecond,
    openMiBPerSecond,
    oneThreadBothMiBPerSecond: Math.round(1000 / bothMs),
  }
}

export async function benchBlob(options: BenchBlobOptions = {}): Promise<object> {
  const bytes = (options.megabytes ?? 256) * MIB
  const runs = options.runs ?? 3
  const root = await mkdtemp(join(tmpdir(), 'gridx-bench-blob-'))
  const loadBefore = loadavg()[0] as number
  try {
    const twoProcesses = summary(await measureAll(root, 'process', bytes, runs), bytes)
    const oneProcess = summary(await measureAll(root, 'inline', bytes, runs), bytes)
    return {
      benchmark: 'blob-transfer',
      bytes,
      runs,
      chunkBytes: BLOB_CHUNK_BYTES,
      transport: 'libp2p TCP + Noise + Yamux on 127.0.0.1, holder and fetcher in two processes',
      into: 'BlobStore on disk: one SHA-256 pass checking each chunk and the CID, write, fsync',
      ...twoProcesses,
      target: 0.5,
      oneProcess,
      noiseCipher: noiseCipher(bytes),
      loadAverage: { before: loadBefore, after: loadavg()[0] },
      note: 'the machine was shared with other work while this ran',
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      megabytes: { type: 'string', default: '256' },
      runs: { type: 'string', default: '3' },
    },
  })
  const report = await benchBlob({ megabytes: Number(values.megabytes), runs: Number(values.runs) })
  process.stdout.write(`${JSON.stringify(report, null, values.json ? 0 : 2)}\n`)
  process.exit(0)
}
