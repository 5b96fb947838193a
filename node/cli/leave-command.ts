// gridx leave: this peer leaves its mesh for good, through its daemon's API (`mesh.leave`).
import { Command } from 'commander'
import { call, target } from './api.ts'
import type { CliContext, CommonOptions } from './context.ts'

type Decorate = (command: Command) => Command

const HELP = `
This peer leaves its mesh for good:
  - a coordinator first hands leadership to another voter, so the mesh has no election gap;
  - the leave is refused, with what to do, when it would leave the voters without a quorum
    (the mesh's only voter, or too few of the other voters reachable);
  - a committed peer.remove takes the peer out of the mesh: every member refuses its streams,
    and the jobs its executor held go back to the queue for other executors, at no charge;
  - the coordinator removes it from the voters or learners, and the autopilot promotes a
    voter-token learner if the voters fall below the mesh's target;
  - the daemon stops and says so. Its data dir does not rejoin: to join a mesh again, start
    with a new --data-dir and --join HOST[:PORT] --token T (ask a member for \`gridx token\`).
The owner's account and credits stay in the mesh.`

export function leaveCommand(context: CliContext, decorate: Decorate): Command {
  return decorate(new Command('leave'))
    .description('leave the mesh for good (a coordinator hands leadership to another voter)')
    .addHelpText('after', HELP)
    .action(async (options: CommonOptions) => {
      const left = await call(await target(context, options), 'mesh.leave', {})
      if (options.json) return void context.stdout.write(`${JSON.stringify(left)}\n`)
      const lines = [
        `this peer (${left.peerId}) left mesh ${left.meshId} for good; its daemon stops now`,
        ...(left.handedOver ? ['it was the coordinator: another voter leads the mesh now'] : []),
        ...(left.requeuedJobs > 0
          ? [`${left.requeuedJobs} job(s) it held went back to the queue for other executors`]
          : []),
        'to join a mesh again, start with a new --data-dir and --join HOST[:PORT] --token T',
      ]
      context.stdout.write(`${lines.join('\n')}\n`)
    })
}
