// When the coordinator last had each executor's heartbeat: what `gridx peers` shows of every
// executor in the mesh, on every peer (the others ask the coordinator).
import { afterEach, describe, expect, it } from 'vitest'
import { capacity, FakeRunner, startCoordinator, startExecutor } from './fixtures/executor-mesh.ts'

const nodes: { node: { stop(): Promise<void> | void } }[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map(async ({ node }) => node.stop()))
})

describe('Executor heartbeats on the coordinator', () => {
  it('should record the time of the latest heartbeat when an executor heartbeats', async () => {
    let nowMs = 1_000
    const coordinator = await startCoordinator({ now: () => nowMs })
    nodes.push(coordinator)
    const peer = await startExecutor(() => Promise.resolve(coordinator.address), new FakeRunner())
    nodes.push(peer)
    const id = peer.node.peerId.toString()
    expect(coordinator.server.lastHeartbeatMs('12D3KooWnobody')).toBeNull()
    await expect.poll(() => coordinator.server.lastHeartbeatMs(id), { timeout: 5000 }).toBe(1_000)
    nowMs = 2_500
    await expect.poll(() => coordinator.server.lastHeartbeatMs(id), { timeout: 5000 }).toBe(2_500)
    expect(coordinator.server.link(id)?.capacity()).toMatchObject({ cpus: capacity.cpus })
  })
})
