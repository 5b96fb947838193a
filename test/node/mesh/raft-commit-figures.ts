// Figures of the Raft core over the libp2p transport on loopback, as one JSON object:
//   npx tsx test/node/mesh/raft-commit-figures.ts
// Three voters over MemoryRaftStorage (no disk: this measures the transport and the core, not
// fsync). commitMs: one proposal at a time, from propose to applied at the leader.
// appendsPerSecond: entries of 128 bytes proposed in batches of 100, at most 5,000 uncommitted,
// counted as applied at the leader over 5 s.
import '../../../node/polyfills.ts'
import { performance } from 'node:perf_hooks'
import { drive, foundingMembers, startTicking } from './raft-members.ts'
import type { Member } from './raft-members.ts'
import { meshTogether, startRaftPeer } from './raft-peers.ts'

const COMMITS = 1000
const WARMUP = 100
const SECONDS = 5
const BATCH = 100
const IN_FLIGHT_MAX = 5000

async function commitLatency(leader: Member): Promise<number[]> {
  const samples: number[] = []
  const data = new Uint8Array(128).fill(1)
  for (let at = 0; at < WARMUP + COMMITS; at++) {
    const applied = Promise.withResolvers<void>()
    leader.onApplied = () => applied.resolve()
    const start = performance.now()
    leader.node.propose(data)
    drive(leader)
    await applied.promise
    if (at >= WARMUP) samples.push(performance.now() - start)
  }
  return samples.sort((a, b) => a - b)
}

async function appendRate(leader: Member): Promise<number> {
  const data = new Uint8Array(128).fill(2)
  const batch = Array.from({ length: BATCH }, () => data)
  let proposed = 0
  let applied = 0
  let counting = false
  leader.onApplied = (entries) => {
    if (counting) applied += entries.length
  }
  const start = performance.now()
  counting = true
  while (performance.now() - start < SECONDS * 1000) {
    if (proposed - applied >= IN_FLIGHT_MAX) {
      await new Promise((resolve) => setImmediate(resolve))
      continue
    }
    leader.node.proposeBatch(batch)
    proposed += BATCH
    drive(leader)
    await new Promise((resolve) => setImmediate(resolve))
  }
  counting = false
  return Math.round(applied / ((performance.now() - start) / 1000))
}

const quantile = (sorted: number[], q: number) =>
  Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(3))

const peers = await Promise.all([startRaftPeer(), startRaftPeer(), startRaftPeer()])
await meshTogether(peers)
const trio = foundingMembers(peers)
const stop = startTicking(trio, 10)
let leader: Member | undefined
while (leader === undefined) {
  await new Promise((resolve) => setTimeout(resolve, 20))
  leader = trio.find((each) => each.node.status().role === 'leader')
}
const commits = await commitLatency(leader)
const appendsPerSecond = await appendRate(leader)
stop()
await Promise.all(peers.map((peer) => peer.node.stop()))
console.log(
  JSON.stringify({
    voters: 3,
    commitMs: {
      samples: commits.length,
      p50: quantile(commits, 0.5),
      p99: quantile(commits, 0.99),
      max: quantile(commits, 1),
    },
    appendsPerSecond,
  }),
)
