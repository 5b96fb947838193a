// The chaos run's kill schedule: every few seconds `kill -9` of the coordinator, at random of
// another voter with it, each restarted from its data dir after a short time down. Every draw
// comes from the seeded generator, made before anything that timing decides, so that a seed
// always gives the same plan.
import type { raft } from '../../ledger/index.ts'
import type { MeshCluster } from './mesh-cluster.ts'

/** Between two kills: "every few seconds". */
const KILL_EVERY_MS_MIN = 4_000
const KILL_EVERY_MS_MAX = 9_000
/** Chance in percent that a kill of the coordinator takes another voter down with it. */
const EXTRA_KILL_PERCENT = 30
/** How long a killed peer stays down before its restart begins. */
const DOWN_MS_MIN = 500
const DOWN_MS_MAX = 3_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function between(random: raft.SeededRandom, min: number, max: number): number {
  return min + random.nextInt(max - min + 1)
}

export interface KillerInit {
  readonly cluster: MeshCluster
  /** The peers that may be killed: the voters, one of which coordinates. */
  readonly voters: readonly number[]
  /** A peer never killed, asked who the coordinator is. */
  readonly observer: number
  readonly random: raft.SeededRandom
  readonly log: (line: string) => void
}

/** The kill schedule: the coordinator every few seconds, at random another voter with it,
 * each restarted from its data dir after a short time down. */
export class Killer {
  kills = 0
  coordinatorKills = 0
  restarts = 0
  /** When each peer was killed (ms since the epoch), by index. */
  readonly killedAt = new Map<number, number[]>()
  readonly #init: KillerInit
  readonly #cluster: MeshCluster
  readonly #random: raft.SeededRandom
  readonly #log: (line: string) => void
  readonly #restarting = new Set<Promise<void>>()

  constructor(init: KillerInit) {
    this.#init = init
    this.#cluster = init.cluster
    this.#random = init.random
    this.#log = init.log
  }

  /** Kills until `durationMs` has passed; resolves with the highest term seen. */
  async run(durationMs: number, violations: string[]): Promise<number> {
    const endAt = Date.now() + durationMs
    let maxTerm = 0
    while (Date.now() < endAt) {
      await sleep(between(this.#random, KILL_EVERY_MS_MIN, KILL_EVERY_MS_MAX))
      // Drawn before anything can fail, so that the plan does not depend on the timing.
      const extra = this.#random.nextInt(100) < EXTRA_KILL_PERCENT
      const extraPick = this.#random.nextInt(this.#init.voters.length - 1)
      const downMs = [0, 1].map(() => between(this.#random, DOWN_MS_MIN, DOWN_MS_MAX))
      // A restart that is still under way holds the next kill back: kill, then restart it.
      await Promise.all([...this.#restarting])
      if (Date.now() >= endAt) break
      const info = await this.#cluster.rpc(this.#init.observer, 'mesh.info', {}).catch(() => null)
      maxTerm = Math.max(maxTerm, info?.term ?? 0)
      const coordinator = this.#cluster.indexOf(info?.coordinator ?? null)
      if (coordinator === null || !this.#init.voters.includes(coordinator)) continue
      this.coordinatorKills++
      await this.#kill(coordinator, downMs[0] as number, violations)
      if (!extra) continue
      const others = this.#init.voters.filter((index) => index !== coordinator)
      await this.#kill(others[extraPick] as number, downMs[1] as number, violations)
    }
    return maxTerm
  }

  /** Waits for every restart, then starts every peer still down, all at once: a voter's
   * start waits for a coordinator, which needs a quorum of voters up at the same time. */
  async settle(violations: string[]): Promise<void> {
    await Promise.all([...this.#restarting])
    const down = this.#cluster.peers.filter((peer) => peer.daemon === null)
    await Promise.all(down.map((peer) => this.#restart(peer.index, violations)))
  }

  async #kill(index: number, downMs: number, violations: string[]): Promise<void> {
    if (this.#cluster.peers[index]?.daemon === null) return
    this.#log(`kill -9 peer ${index}; back in ${downMs} ms`)
    this.killedAt.set(index, [...(this.killedAt.get(index) ?? []), Date.now()])
    await this.#cluster.kill(index)
    this.kills++
    const restart = sleep(downMs).then(() => this.#restart(index, violations))
    this.#restarting.add(restart)
    void restart.finally(() => this.#restarting.delete(restart))
  }

  async #restart(index: number, violations: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#cluster.start(index)
        this.restarts++
        return
      } catch (error) {
        // A port may linger for a moment after kill -9; a second try tells that from a bug.
        if (attempt >= 2) {
          violations.push(`peer ${index} did not come back: ${(error as Error).message}`)
          return
        }
      }
    }
  }
}
