// gridx peers | mesh
import { Command } from 'commander'
import { call, target } from './api.ts'
import type { CliContext, CommonOptions } from './context.ts'
import { credits, table } from './format.ts'

type Decorate = (command: Command) => Command

export function meshCommands(context: CliContext, decorate: Decorate): Command[] {
  const peers = decorate(new Command('peers'))
    .description('list the peers of the mesh with their roles, capacity and load')
    .action(async (options: CommonOptions) => {
      const { peers: list } = await call(await target(context, options), 'mesh.peers', {})
      if (options.json) return void context.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
      const rows = list.map((peer) => [
        peer.peerId + (peer.self ? ' (this peer)' : ''),
        peer.roles.join(','),
        peer.reachable ? 'yes' : 'no',
        peer.capacity ? `${peer.capacity.cpus} cpus, ${peer.capacity.memoryMb} MB` : '-',
        peer.load ? `${peer.load.runningJobs} jobs` : '-',
      ])
      context.stdout.write(
        `${table([['PEER', 'ROLES', 'REACHABLE', 'CAPACITY', 'LOAD'], ...rows])}\n`,
      )
      for (const peer of list) {
        if (peer.executorProblem)
          context.stdout.write(`\n${peer.peerId} runs no jobs: ${peer.executorProblem}\n`)
      }
    })
  const mesh = decorate(new Command('mesh'))
    .description('show the mesh: its id, coordinator, queue and policy')
    .action(async (options: CommonOptions) => {
      const info = await call(await target(context, options), 'mesh.info', {})
      if (options.json) return void context.stdout.write(`${JSON.stringify(info, null, 2)}\n`)
      const counts = Object.entries(info.jobsByState)
        .filter(([, count]) => count > 0)
        .map(([state, count]) => `${state} ${count}`)
        .join(', ')
      const lines = [
        ['mesh', info.meshId],
        ['this peer', info.peerId],
        ['coordinator', info.coordinator ?? 'none (no quorum)'],
        ['term', String(info.term)],
        ['applied index', String(info.appliedIndex)],
        ['queue', `${info.queueLength} waiting`],
        ['jobs', counts || 'none'],
        [
          'price',
          `${credits(info.policy.cpuSecondMc)} per cpu-second, ${credits(info.policy.gibSecondMc)} per GiB-second, at least ${credits(info.policy.jobMinimumMc)} per job`,
        ],
        ['executor share', `${info.policy.executorSharePpm / 10_000} %`],
        ['version', info.version],
      ]
      context.stdout.write(`${table(lines)}\n`)
    })
  return [peers, mesh]
}
