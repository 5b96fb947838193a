// CPU time and peak memory of a running container, read from its cgroup files. The engine's
// stats endpoint costs a second per call and the cgroup is deleted the moment the container
// exits, so the executor samples the files while the job runs and keeps the last reading.
// Figures are therefore lower bounds that lag by at most one sampling interval.

import { readFile } from 'node:fs/promises'
import { CGROUP_SAMPLE_INTERVAL_MS } from './constants.ts'

/** How the engine lays out cgroups, from its `info` (CgroupVersion, CgroupDriver). */
export interface CgroupLayout {
  readonly version: '1' | '2'
  readonly driver: 'cgroupfs' | 'systemd'
  /** Mount point of the cgroup filesystem as this process sees it. */
  readonly root: string
}

export interface CgroupReading {
  readonly cpuMs: number | null
  readonly memoryPeakBytes: number | null
  /** Kills by the cgroup's OOM killer, counted by the kernel (memory.events, oom_control). */
  readonly oomKills: number | null
}

const NO_READING: CgroupReading = { cpuMs: null, memoryPeakBytes: null, oomKills: null }

/** Layout from the fields of the engine's `info`; null when it is one we cannot read. */
export function cgroupLayout(info: {
  CgroupVersion?: string
  CgroupDriver?: string
}): CgroupLayout | null {
  const version = info.CgroupVersion === '2' ? '2' : info.CgroupVersion === '1' ? '1' : null
  const driver =
    info.CgroupDriver === 'systemd'
      ? 'systemd'
      : info.CgroupDriver === 'cgroupfs'
        ? 'cgroupfs'
        : null
  if (version === null || driver === null) return null
  return { version, driver, root: '/sys/fs/cgroup' }
}

function containerGroup(layout: CgroupLayout, containerId: string): string {
  return layout.driver === 'systemd'
    ? `system.slice/docker-${containerId}.scope`
    : `docker/${containerId}`
}

async function readNumber(path: string): Promise<number | null> {
  try {
    const value = Number((await readFile(path, 'utf8')).trim())
    return Number.isFinite(value) ? value : null
  } catch {
    // The container has exited and its cgroup is gone, or this engine keeps it elsewhere.
    return null
  }
}

async function readKeyed(path: string, key: string): Promise<number | null> {
  try {
    const text = await readFile(path, 'utf8')
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${key} `))
    return line === undefined ? null : Number(line.slice(key.length + 1))
  } catch {
    // As above: a vanished cgroup is the normal end of sampling, not an error.
    return null
  }
}

/** One reading of a container's cgroup; all null once the cgroup is gone. */
export async function readCgroup(
  layout: CgroupLayout,
  containerId: string,
): Promise<CgroupReading> {
  const group = containerGroup(layout, containerId)
  if (layout.version === '2') {
    const base = `${layout.root}/${group}`
    const [usageUsec, peak, oomKills] = await Promise.all([
      readKeyed(`${base}/cpu.stat`, 'usage_usec'),
      readNumber(`${base}/memory.peak`),
      readKeyed(`${base}/memory.events`, 'oom_kill'),
    ])
    return { cpuMs: usageUsec === null ? null : usageUsec / 1000, memoryPeakBytes: peak, oomKills }
  }
  const [usageNs, peak, oomKills] = await Promise.all([
    readNumber(`${layout.root}/cpuacct/${group}/cpuacct.usage`),
    readNumber(`${layout.root}/memory/${group}/memory.max_usage_in_bytes`),
    readKeyed(`${layout.root}/memory/${group}/memory.oom_control`, 'oom_kill'),
  ])
  return { cpuMs: usageNs === null ? null : usageNs / 1e6, memoryPeakBytes: peak, oomKills }
}

function laterOf(previous: number | null, next: number | null): number | null {
  if (next === null) return previous
  return previous === null ? next : Math.max(previous, next)
}

/**
 * Samples a container's cgroup every CGROUP_SAMPLE_INTERVAL_MS until stopped. Every counter is
 * monotonic while the cgroup lives, so the reading kept is the maximum of all samples.
 */
export class CgroupSampler {
  private last: CgroupReading = NO_READING
  private timer: NodeJS.Timeout | null = null
  private pending: Promise<void> = Promise.resolve()
  private busy = false

  constructor(
    private readonly layout: CgroupLayout | null,
    private readonly containerId: string,
  ) {}

  start(): void {
    if (this.layout === null || this.timer !== null) return
    this.sample()
    this.timer = setInterval(() => {
      // A sample still in flight means the disk is slow: skip a beat rather than queue reads.
      if (!this.busy) this.sample()
    }, CGROUP_SAMPLE_INTERVAL_MS)
  }

  /** Takes one last sample (the cgroup may still be there) and returns the best reading. */
  async stop(): Promise<CgroupReading> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    if (this.layout !== null) this.sample()
    await this.pending
    return this.last
  }

  private sample(): void {
    const layout = this.layout
    if (layout === null) return
    this.busy = true
    // Samples run one after another, in order, so the last one really is the latest.
    this.pending = this.pending.then(async () => {
      const reading = await readCgroup(layout, this.containerId)
      this.last = {
        cpuMs: laterOf(this.last.cpuMs, reading.cpuMs),
        memoryPeakBytes: laterOf(this.last.memoryPeakBytes, reading.memoryPeakBytes),
        oomKills: laterOf(this.last.oomKills, reading.oomKills),
      }
      this.busy = false
    })
  }
}
