// The python-torch runtime: offered only by an executor whose engine has its image, whose
// absence is no problem for the other runtimes, and which runs torch as a job runs it.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { DockerExecutor } from '../../../node/executor/index.ts'
import {
  describeWithDocker,
  runJob,
  startedExecutor,
  stopAndCheckClean,
  testExecutorId,
} from '../../fixtures/docker.ts'

describeWithDocker(
  'an executor whose engine lacks the python-torch image',
  (docker) => {
    const executorId = testExecutorId('no-torch')
    let executor: DockerExecutor

    beforeAll(async () => {
      executor = new DockerExecutor({
        executorId,
        docker,
        images: { 'python-torch': 'gridx/runtime-python-torch:absent-in-this-test' },
      })
      await executor.start()
    })

    afterAll(async () => {
      await stopAndCheckClean(docker, executor, executorId)
    })

    it('should offer the other runtimes and report no problem when only torch is missing', () => {
      const status = executor.status()
      expect(status.capacity.runtimes).toEqual(['python', 'node', 'bash'])
      expect(status.available).toBe(true)
      expect(status.problem).toBeNull()
    })

    it('should refuse a python-torch job by the executor, naming the image', async () => {
      const outcome = await runJob(executor, { runtime: 'python-torch', code: 'import torch' })
      expect(outcome.state).toBe('failed')
      expect(outcome.cause).toBe('executor')
      expect(outcome.error).toMatch(
        /the python-torch runtime image gridx\/runtime-python-torch:absent-in-this-test is missing/,
      )
    })
  },
  ['python', 'node', 'bash'],
)

describeWithDocker(
  'the python-torch runtime',
  (docker) => {
    const executorId = testExecutorId('torch')
    let executor: DockerExecutor

    beforeAll(async () => {
      executor = await startedExecutor(docker, executorId)
    })

    afterAll(async () => {
      await stopAndCheckClean(docker, executor, executorId)
    })

    it('should offer python-torch when its image is present', () => {
      expect(executor.status().capacity.runtimes).toContain('python-torch')
    })

    it('should train, save and load a model with torch, numpy and sklearn when a job runs', async () => {
      const outcome = await runJob(executor, {
        runtime: 'python-torch',
        memoryMb: 1024,
        code: `
import io, numpy, sklearn, torch
from sklearn.datasets import load_digits
torch.manual_seed(0)
digits = load_digits()
x = torch.tensor(digits.data[:200], dtype=torch.float32) / 16
y = torch.tensor(digits.target[:200])
model = torch.nn.Linear(64, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
first = None
for step in range(50):
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    first = loss.item() if first is None else first
    loss.backward()
    optimizer.step()
buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
state = torch.load(buffer, weights_only=True)
print(torch.__version__.split('+')[0], sorted(state), loss.item() < first / 2)
`,
      })
      expect(outcome.state, outcome.result.stderrTail).toBe('succeeded')
      expect(outcome.result.stdoutTail).toMatch(/^\d+\.\d+\S* \['bias', 'weight'\] True\n$/)
    })
  },
  ['python-torch'],
)
