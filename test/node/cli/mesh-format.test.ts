// How `gridx mesh` and `gridx peers` print the mesh for people.
import { describe, expect, it } from 'vitest'
import { meshInfoText, peersText } from '../../../node/cli/index.ts'
import type { MeshInfo, PeerView } from '../../../protocol/index.ts'

const NOW_MS = Date.UTC(2026, 11, 1, 12)

const info: MeshInfo = {
  meshId: 'mesh-test',
  peerId: 'peer-a',
  owner: 'alice',
  coordinator: 'peer-a',
  term: 4,
  appliedIndex: 41,
  version: '0.1.0',
  policy: {
    cpuSecondMc: 10,
    gibSecondMc: 5,
    jobMinimumMc: 100,
    executorSharePpm: 900_000,
    joinGrantMc: 100_000,
  },
  queueLength: 2,
  jobsByState: { queued: 2, running: 1 } as MeshInfo['jobsByState'],
}

const peer: PeerView = {
  peerId: 'peer-b',
  owner: 'bob',
  roles: ['peer', 'executor'],
  addresses: ['/ip4/127.0.0.3/tcp/4001'],
  reachable: true,
  self: false,
  capacity: { cpus: 4, memoryMb: 8192, runtimes: ['python'] },
  load: { runningJobs: 1, cpusInUse: 1, memoryMbInUse: 512 },
  executorProblem: null,
}

describe('gridx mesh output', () => {
  it('should show no member table when the peer is not part of a mesh', () => {
    const text = meshInfoText(info, NOW_MS)
    expect(text).toMatch(/^coordinator\s+peer-a$/m)
    expect(text).toMatch(/^jobs\s+queued 2, running 1$/m)
    expect(text).not.toMatch(/MEMBER|commit index|voters/)
  })

  it('should list each voter and learner with health, match and contact when reported', () => {
    const text = meshInfoText(
      {
        ...info,
        commitIndex: 42,
        voterTarget: 3,
        members: [
          { peerId: 'peer-a', role: 'voter', healthy: true, matchIndex: 42, lastContactMs: NOW_MS },
          {
            peerId: 'peer-b',
            role: 'learner',
            healthy: false,
            matchIndex: 7,
            lastContactMs: NOW_MS - 12_500,
          },
          { peerId: 'peer-c', role: 'voter', healthy: false, matchIndex: 0, lastContactMs: null },
        ],
      },
      NOW_MS,
    )
    expect(text).toMatch(/^commit index\s+42$/m)
    expect(text).toMatch(/^voters\s+2 of 3 wanted, 1 learner$/m)
    expect(text).toMatch(/^MEMBER\s+ROLE\s+HEALTH\s+MATCH INDEX\s+LAST CONTACT$/m)
    expect(text).toMatch(/^peer-a \(coordinator\)\s+voter\s+healthy\s+42\s+now$/m)
    expect(text).toMatch(/^peer-b\s+learner\s+unhealthy\s+7\s+12.5 s ago$/m)
    expect(text).toMatch(/^peer-c\s+voter\s+unhealthy\s+0\s+never$/m)
  })

  it('should say health is not known here, never unhealthy, when the view is missing', () => {
    const member = { role: 'voter', healthy: false, matchIndex: 3, lastContactMs: null } as const
    const text = meshInfoText(
      {
        ...info,
        members: [{ ...member, peerId: 'peer-a' }],
        membersUnknown: 'the coordinator peer-a did not answer',
      },
      NOW_MS,
    )
    expect(text).not.toMatch(/unhealthy|never/)
    expect(text).toMatch(/^peer-a \(coordinator\)\s+voter\s+unknown here\s+3\s+-$/m)
    expect(text).toMatch(/^health not known on this peer: the coordinator peer-a did not answer$/m)
  })
})

describe('gridx peers output', () => {
  it('should add the last heartbeat column only when the mesh reports heartbeats', () => {
    const plain = peersText([peer], NOW_MS)
    const header = /^PEER\s+OWNER\s+ROLES\s+ADDRESS\s+REACHABLE\s+CAPACITY\s+RUNTIMES\s+LOAD/
    expect(plain).toMatch(new RegExp(`${header.source}$`, 'm'))
    expect(plain).toMatch(/\s+yes\s+4 cpus, 8192 MB\s+python\s+1 jobs$/m)
    const meshed = peersText([{ ...peer, lastHeartbeatMs: NOW_MS - 800 }], NOW_MS)
    expect(meshed).toMatch(new RegExp(`${header.source}\\s+LAST HEARTBEAT$`, 'm'))
    expect(meshed).toMatch(/\s+1 jobs\s+0.8 s ago$/m)
  })

  it('should name the owner or say "itself" when a peer owns its own account', () => {
    const text = peersText([peer, { ...peer, peerId: 'peer-c', owner: 'peer-c' }], NOW_MS)
    expect(text).toMatch(/^peer-b\s+bob\s/m)
    expect(text).toMatch(/^peer-c\s+itself\s/m)
  })

  it('should say heartbeats are not known here when the coordinator cannot be asked', () => {
    const text = peersText([{ ...peer, capacity: null, load: null }], NOW_MS, 'an election')
    expect(text).toMatch(/^peer-b\s+bob\s+peer,executor\s+127.0.0.3:4001\s+yes(\s+\?){4}$/m)
    expect(text).toMatch(/^capacity, load and heartbeats not known on this peer: an election$/m)
  })

  it('should show the address to join through and the runtimes when a peer has them', () => {
    const text = peersText(
      [
        {
          ...peer,
          addresses: [
            '/ip4/127.0.2.7/tcp/4001/ws/p2p/peer-b',
            '/ip4/127.0.2.7/tcp/4000/p2p/peer-b',
            '/ip6/::1/tcp/4000/p2p/peer-b',
          ],
          capacity: { cpus: 4, memoryMb: 8192, runtimes: ['python', 'node', 'bash'] },
        },
        { ...peer, peerId: 'peer-c', addresses: [], roles: ['peer'], capacity: null, load: null },
      ],
      NOW_MS,
    )
    // The TCP address is what `gridx start --join` takes; the others are counted.
    expect(text).toMatch(/^peer-b\s+bob\s+peer,executor\s+127.0.2.7:4000 \(\+2\)\s+yes\s/m)
    expect(text).toMatch(/\s+4 cpus, 8192 MB\s+python,node,bash\s+1 jobs$/m)
    expect(text).toMatch(/^peer-c\s+bob\s+peer\s+-\s+yes\s+-\s+-\s+-$/m)
  })

  it('should say why a peer runs no jobs when it reports a problem', () => {
    const text = peersText([{ ...peer, executorProblem: 'no container engine' }], NOW_MS)
    expect(text).toMatch(/^peer-b runs no jobs: no container engine$/m)
  })
})
