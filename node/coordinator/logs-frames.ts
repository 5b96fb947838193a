// The frames of `/gridx/logs/1.0.0`: one long-lived stream from a peer to the coordinator, over
// which the peer follows (and stops following) the jobs its clients follow, and the coordinator
// sends their live output, numbered as the executor numbered it, and their end.
import { z } from 'zod'
import { JOB_STATES, jobIdSchema } from '../../protocol/index.ts'

const cursorSchema = z
  .object({ fence: z.number().int().min(0), seq: z.number().int().min(0) })
  .strict()

/** What a following peer sends. `after` is the last chunk it has (null: none yet). */
export const followerFrameSchema = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('follow'), jobId: jobIdSchema, after: cursorSchema.nullable() })
    .strict(),
  z.object({ type: z.literal('unfollow'), jobId: jobIdSchema }).strict(),
])
export type FollowerFrame = z.infer<typeof followerFrameSchema>

/** What the coordinator sends. The frame size bound (LOGS_FRAME_BYTES_MAX) bounds `data`. */
export const coordinatorFrameSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('output'),
      jobId: jobIdSchema,
      fence: z.number().int().min(0),
      seq: z.number().int().min(0),
      stream: z.enum(['stdout', 'stderr']),
      data: z.string(),
    })
    .strict(),
  z.object({ type: z.literal('end'), jobId: jobIdSchema, state: z.enum(JOB_STATES) }).strict(),
])
export type CoordinatorFrame = z.infer<typeof coordinatorFrameSchema>
