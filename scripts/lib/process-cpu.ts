// CPU time a process has used, from Linux's /proc/PID/stat (user plus system), for benchmarks
// that split a machine's CPU between several daemons: on a shared machine wall-clock rates
// depend on the load, CPU spent per unit of work much less.
import { readFile } from 'node:fs/promises'

/** Clock ticks per second of /proc's counters (USER_HZ): 100 on every Linux this runs on. */
const USER_HZ = 100

/** Milliseconds of CPU `pid` has used, or null where /proc cannot tell (not Linux, gone). */
export async function processCpuMs(pid: number): Promise<number | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null)
  if (stat === null) return null
  // The command name (field 2) may hold spaces and parentheses: count from its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null
  return ((utime + stime) * 1000) / USER_HZ
}
