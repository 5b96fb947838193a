// A sharded map/reduce on a mesh of three real `gridx start` processes on loopback, each an
// executor on the real engine: a CSV is split on the submitting peer into four shards whose map
// jobs land on distinct executors, one shard's first run is killed and retried on another
// executor, and the reduce's result is checked against the same sums computed here.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobView, ParentView } from '../../protocol/index.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

const run = promisify(execFile)
const PARENT_DONE_TIMEOUT_MS = 240_000
const SHARDS = 4
/** The shard whose first run the test kills. */
const KILLED_SHARD = 2

/** Sums x*y and counts the rows of its shard; sleeps first so a run can be caught running. */
const MAP = [
  'import csv, json, time',
  'time.sleep(4)',
  'rows = list(csv.DictReader(open("inputs/shard")))',
  'total = sum(int(row["x"]) * int(row["y"]) for row in rows)',
  'json.dump({"rows": len(rows), "total": total}, open("outputs/part.json", "w"))',
].join('\n')

const REDUCE = [
  'import json, os',
  'parts = [json.load(open(f"inputs/{name}/part.json")) for name in sorted(os.listdir("inputs"))]',
  'result = {"shards": len(parts), "rows": sum(p["rows"] for p in parts),',
  '          "total": sum(p["total"] for p in parts)}',
  'print(json.dumps(result, sort_keys=True))',
  'json.dump(result, open("outputs/result.json", "w"))',
].join('\n')

/** The containers of `jobId` running on this host's engine. */
async function containersOf(jobId: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-q', '--filter', `label=gridx.job=${jobId}`])
  return stdout.split('\n').filter((id) => id !== '')
}

/** Kills the containers of `jobId` on this host's engine; resolves with how many it killed. */
async function killJob(jobId: string): Promise<number> {
  const ids = await containersOf(jobId)
  for (const id of ids) await run('docker', ['kill', id])
  return ids.length
}

describe.skipIf(!hasEngine)('a sharded map/reduce on a mesh', () => {
  let cluster: MeshCluster
  let work: string

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 3, executors: true })
    await cluster.startMesh(3)
    work = await mkdtemp(join(tmpdir(), 'gridx-shards-'))
    await writeFile(join(work, 'map.py'), MAP)
    await writeFile(join(work, 'reduce.py'), REDUCE)
  }, 180_000)

  afterAll(async () => {
    await cluster?.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
    await rm(work, { recursive: true, force: true })
  })

  it('should run the shards on several executors, retry a killed one and reduce', async () => {
    const rows = Array.from({ length: 103 }, (_, at) => [at + 1, (at * 7) % 11])
    await writeFile(join(work, 'data.csv'), `x,y\n${rows.map((r) => r.join(',')).join('\n')}\n`)
    const expected = {
      rows: rows.length,
      shards: SHARDS,
      total: rows.reduce((sum, [x, y]) => sum + (x as number) * (y as number), 0),
    }
    const args = ['submit', join(work, 'map.py'), '--input', join(work, 'data.csv')]
    const flags = ['--shards', String(SHARDS), '--reduce', join(work, 'reduce.py')]
    const submitted = await cluster.cli(2, [...args, ...flags, '--cpus', '0.5'])
    expect(submitted.code, submitted.stderr).toBe(0)
    const { id } = (JSON.parse(submitted.stdout) as { parent: ParentView }).parent

    // Every peer runs on this host's engine: kill shard 2's first run wherever it runs.
    const victim = `${id}s${KILLED_SHARD}`
    const killDeadline = Date.now() + PARENT_DONE_TIMEOUT_MS
    while ((await killJob(victim)) === 0) {
      expect(Date.now()).toBeLessThan(killDeadline)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }

    const parent = await cluster.waitFor<ParentView>(
      2,
      ['status', id],
      (view) => view.state !== 'running',
      PARENT_DONE_TIMEOUT_MS,
    )
    expect(parent.state, parent.reason ?? '').toBe('succeeded')
    expect(parent.shardsDone).toBe(SHARDS)
    const jobOf = async (jobId: string) => {
      const got = await cluster.cli(2, ['status', jobId])
      expect(got.code, got.stderr).toBe(0)
      return JSON.parse(got.stdout) as JobView
    }
    const killed = parent.shards[KILLED_SHARD]!
    expect(killed.jobs).toEqual([victim, `${victim}r1`])
    const [first, retry] = [await jobOf(victim), await jobOf(`${victim}r1`)]
    expect(first.state).toBe('failed')
    expect(retry.state).toBe('succeeded')
    expect(retry.executor).not.toBe(first.executor)

    const maps = await Promise.all(parent.shards.map((shard) => jobOf(shard.jobs.at(-1)!)))
    expect(new Set(maps.map((map) => map.executor)).size).toBeGreaterThanOrEqual(2)
    // Four first runs on three executors with room for all: each executor got one at least.
    const firstRuns = await Promise.all(parent.shards.map((shard) => jobOf(shard.jobs[0]!)))
    expect(new Set(firstRuns.map((map) => map.executor)).size).toBe(3)
    const reduce = await jobOf(parent.reduce!)
    expect(reduce.state).toBe('succeeded')
    expect(JSON.parse(reduce.result!.stdoutTail)).toEqual(expected)
    // `gridx get PARENT` fetches the reduce's outputs, the run's one result.
    const got = await cluster.cli(2, ['get', id, '-o', join(work, 'got')])
    expect(got.code, got.stderr).toBe(0)
    expect(JSON.parse(await readFile(join(work, 'got', 'result.json'), 'utf8'))).toEqual(expected)

    // The parent's cost is what its children were charged, the failed run included.
    const children = [...maps, first, reduce]
    expect(parent.costMc).toBe(children.reduce((sum, job) => sum + (job.priceMc ?? 0), 0))
    expect(first.priceMc).toBeGreaterThan(0)
  }, 300_000)

  it('should stop every running shard’s container when the parent is cancelled', async () => {
    await writeFile(join(work, 'slow.py'), 'import time\ntime.sleep(240)\n')
    await writeFile(join(work, 'few.csv'), 'x\n1\n2\n3\n')
    const args = ['submit', join(work, 'slow.py'), '--input', join(work, 'few.csv')]
    const limits = ['--cpus', '0.1', '--memory', '64', '--timeout', '300']
    const submitted = await cluster.cli(1, [...args, '--shards', '3', ...limits])
    expect(submitted.code, submitted.stderr).toBe(0)
    const { id } = (JSON.parse(submitted.stdout) as { parent: ParentView }).parent
    const running = await cluster.waitFor<ParentView>(
      1,
      ['status', id],
      (view) => view.shards.every((shard) => shard.state === 'running'),
      PARENT_DONE_TIMEOUT_MS,
    )
    const children = running.shards.map((shard) => shard.jobs[0]!)
    const cancelled = await cluster.cli(1, ['cancel', id])
    expect(cancelled.code, cancelled.stderr).toBe(0)
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ id, state: 'cancelled' })
    // Each executor is told at once; the bound only allows for a loaded machine, and is far
    // below the 240 s the shards would run for untold.
    const deadline = Date.now() + 45_000
    for (;;) {
      const left = (await Promise.all(children.map(containersOf))).flat()
      if (left.length === 0) break
      expect(Date.now(), `containers still running: ${left.join(' ')}`).toBeLessThan(deadline)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }, 300_000)
})
