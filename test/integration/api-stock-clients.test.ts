// The API as stock JSON-RPC 2.0 clients see it: jayson and json-rpc-2.0, over HTTP and the
// WebSocket, call every method of a real daemon (LevelDB, the Docker executor), send
// notifications that take effect, and batches that get one response per request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ERROR_CODES, isFinalJobState, paramsSchemas } from '../../protocol/index.ts'
import type { JobView } from '../../protocol/index.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'
import { STOCK_CLIENTS } from '../fixtures/stock-rpc-clients.ts'
import type { StockClient, StockResponse } from '../fixtures/stock-rpc-clients.ts'

let counter = 0
const idem = () => `stock-${process.pid}-${++counter}`
/** Short timeouts keep each escrow small: the owner's 100 credits pay for every job here. */
const spec = (code: string) => ({ runtime: 'bash' as const, code, timeoutS: 30, memoryMb: 64 })

/** Resolves with the job once it is in `state` (or past it, in a final state). */
async function reached(node: TestDaemon, id: string, state: JobView['state']): Promise<JobView> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const job = await node.call('job.get', { id })
    if (job.state === state || isFinalJobState(job.state)) return job
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.state}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const ok = (response: StockResponse) => {
  expect(response.error).toBeUndefined()
  return response.result as Record<string, unknown>
}

describe.skipIf(!hasEngine)('stock JSON-RPC 2.0 clients', () => {
  let node: TestDaemon
  const clients: StockClient[] = []
  beforeAll(async () => {
    node = await startTestDaemon()
    const daemon = { url: node.daemon.address.url, token: node.daemon.token }
    for (const { open } of STOCK_CLIENTS) clients.push(await open(daemon))
  })
  afterAll(async () => {
    for (const client of clients) client.close()
    await node?.destroy()
  })

  const each = (title: string, body: (client: StockClient) => Promise<void>) => {
    for (const [index, { name }] of STOCK_CLIENTS.entries()) {
      it(`should ${title} with ${name}`, async () => {
        await body(clients[index]!)
      }, 90_000)
    }
  }

  // A refusal before the body is read cannot echo the request's id: in a 200 with `id: null`
  // a client that matches answers by id (json-rpc-2.0) would wait forever, so these keep
  // their HTTP status (401 here) and stock clients fail the call at once.
  it('should fail the call at once, not hang, when the token is wrong over HTTP', async () => {
    const daemon = { url: node.daemon.address.url, token: 'x'.repeat(43) }
    for (const { name, open } of STOCK_CLIENTS.filter((c) => c.name.endsWith('HTTP'))) {
      const client = await open(daemon)
      try {
        // jayson rejects with the body (which names -32001); json-rpc-2.0's transport rejects.
        const answer = await client.call('account.balance', {}).then(
          (response) => response,
          (error: unknown) => ({ error }),
        )
        expect('result' in answer && answer.result, name).toBeFalsy()
        expect(answer.error, name).toBeDefined()
      } finally {
        client.close()
      }
    }
  }, 20_000)

  each('call every method over its transport', async (client) => {
    const called = new Set<string>()
    const call = async (method: string, params: object = {}) => {
      called.add(method)
      return client.call(method, params)
    }
    expect(ok(await call('job.quote', { spec: spec('true') })).maxPriceMc).toBeGreaterThan(0)
    const submitted = ok(await call('job.submit', { idempotencyId: idem(), spec: spec('echo hi') }))
    const { id } = submitted.job as JobView
    expect(ok(await call('job.get', { id })).id).toBe(id)
    expect(ok(await call('job.list', { limit: 5 })).jobs).toContainEqual(
      expect.objectContaining({ id }),
    )
    await reached(node, id, 'succeeded')
    expect(ok(await call('job.logs', { id }))).toMatchObject({ stdout: 'hi\n' })
    const long = ok(await call('job.submit', { idempotencyId: idem(), spec: spec('sleep 30') }))
    const cancelled = ok(
      await call('job.cancel', { id: (long.job as JobView).id, idempotencyId: idem() }),
    )
    expect(['cancelled', 'running']).toContain(cancelled.state)
    // Sharded jobs: the dataset is an uploaded input, so a spec with none is refused.
    const sharded = await call('job.submit-sharded', {
      idempotencyId: idem(),
      spec: spec('true'),
      shards: 2,
    })
    expect(sharded.error?.message).toMatch(/input/)
    // Training jobs are sharded jobs run round after round: the same refusal.
    const training = await call('job.submit-training', {
      idempotencyId: idem(),
      spec: spec('true'),
      shards: 2,
      rounds: 2,
    })
    expect(training.error?.message).toMatch(/input/)
    expect(ok(await call('job.parents', { limit: 5 })).parents).toEqual([])
    const unknown = 'jnotaparent01'
    expect((await call('job.parent', { id: unknown })).error?.code).toBe(ERROR_CODES.NOT_FOUND)
    const cancelParent = await call('job.cancel-parent', { id: unknown, idempotencyId: idem() })
    expect(cancelParent.error?.code).toBe(ERROR_CODES.NOT_FOUND)
    expect(ok(await call('account.balance')).availableMc).toBeGreaterThan(0)
    const { transfers } = ok(await call('account.history', { limit: 1 })) as { transfers: [] }
    expect(transfers).toHaveLength(1)
    expect(ok(await call('mesh.info')).peerId).toBe(node.daemon.peerId)
    expect(ok(await call('mesh.peers')).peers).toHaveLength(1)
    expect(ok(await call('mesh.state')).ledgerViolations).toEqual([])
    expect(typeof ok(await call('mesh.token')).token).toBe('string')
    // The only peer of its mesh has nothing to leave: refused, and it keeps running.
    const left = await call('mesh.leave')
    expect(left.error).toMatchObject({ code: ERROR_CODES.INVALID_STATE })
    expect(left.error?.message).toMatch(/only one of its mesh/)
    const subscribed = await call('subscribe', { topic: 'balance' })
    if (client.transport === 'http') {
      // A method of the WebSocket: over HTTP it does not exist, and says where it does.
      expect(subscribed.error).toMatchObject({ code: ERROR_CODES.METHOD_NOT_FOUND })
      expect(subscribed.error?.message).toContain('/api/v1/ws')
      expect((await call('unsubscribe', { subscription: 's1' })).error?.code).toBe(
        ERROR_CODES.METHOD_NOT_FOUND,
      )
    } else {
      const { subscription } = ok(subscribed) as { subscription: string }
      expect(ok(await call('unsubscribe', { subscription }))).toEqual({ removed: true })
    }
    expect([...called].sort()).toEqual(Object.keys(paramsSchemas).sort())
  })

  each('cancel a running job with a job.cancel notification', async (client) => {
    const { job } = await node.call('job.submit', { idempotencyId: idem(), spec: spec('sleep 30') })
    expect((await reached(node, job.id, 'running')).state).toBe('running')
    await client.notify('job.cancel', { id: job.id, idempotencyId: idem() })
    expect((await reached(node, job.id, 'cancelled')).state).toBe('cancelled')
  })

  each('answer a batch with a response per request, none for notifications', async (client) => {
    const idempotencyId = idem()
    const responses = await client.batch([
      { method: 'account.balance' },
      { method: 'job.submit', params: { idempotencyId, spec: spec('true') }, notification: true },
      { method: 'job.get', params: { id: 7 } },
      { method: 'job.explode' },
      { method: 'mesh.info' },
    ])
    expect(responses).toHaveLength(4)
    const codes = responses.map((response) => response.error?.code ?? 'ok')
    expect(codes).toEqual(['ok', ERROR_CODES.INVALID_PARAMS, ERROR_CODES.METHOD_NOT_FOUND, 'ok'])
    // Every member has run once the batch is answered, the notification too.
    const { jobs } = await node.call('job.list', {})
    expect(jobs.filter((job) => job.idempotencyId === idempotencyId)).toHaveLength(1)
  })

  it('should answer nothing to a batch of notifications', async () => {
    // jayson's WebSocket client waits for an answer to any batch, one the specification forbids
    // the server to send; the other three resolve with nothing.
    const [jaysonHttp, , jsonRpc2Http, jsonRpc2Ws] = clients
    for (const client of [jaysonHttp!, jsonRpc2Http!, jsonRpc2Ws!]) {
      const idempotencyId = idem()
      const submit = { method: 'job.submit', params: { idempotencyId, spec: spec('true') } }
      expect(await client.batch([{ ...submit, notification: true }])).toEqual([])
      // Over HTTP the 204 comes once it has run; over the WebSocket, nothing comes: wait.
      const deadline = Date.now() + 30_000
      let found: JobView | undefined
      while (found === undefined && Date.now() < deadline) {
        found = (await node.call('job.list', {})).jobs.find(
          (j) => j.idempotencyId === idempotencyId,
        )
        if (found === undefined) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(found, client.name).toBeDefined()
    }
  })

  it('should stream subscription events to json-rpc-2.0 over the WebSocket', async () => {
    const client = clients[3]!
    const { job } = await node.call('job.submit', { idempotencyId: idem(), spec: spec('echo x') })
    const { subscription } = ok(await client.call('subscribe', { topic: 'jobs', id: job.id })) as {
      subscription: string
    }
    await reached(node, job.id, 'succeeded')
    const deadline = Date.now() + 30_000
    type Pushed = { subscription: string; event: { job?: JobView } }
    const final = () =>
      client.events.some((pushed) => {
        const { subscription: to, event } = pushed as Pushed
        return to === subscription && event.job?.state === 'succeeded'
      })
    while (!final() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(final()).toBe(true)
  })
})
