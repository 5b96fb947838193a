// A small text language for Raft scenarios in the style of etcd's testdata: each block is a
// command line, a `----` line, and the output the command printed. Running a file replays the
// commands against a Harness and compares what they print with the stored output.
import { EMPTY_BYTES, decodeConfChange } from '../../../ledger/raft/index.ts'
import type { ConfChange, Entry, Message, TestingKnobs } from '../../../ledger/raft/index.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/raft-memory-storage.ts'
import { Harness, bytes } from './harness.ts'
import type { ConfigOverrides } from './harness.ts'

export interface Block {
  readonly command: string
  readonly expected: string
}

/** Splits a transcript into blocks; lines starting with `#` outside outputs are comments. */
export function parseTranscript(text: string): Block[] {
  const blocks: Block[] = []
  const lines = text.split('\n')
  let i = 0
  while (i < lines.length) {
    const line = (lines[i] as string).trim()
    i++
    if (line === '' || line.startsWith('#')) continue
    if (lines[i]?.trim() !== '----') throw new Error(`line ${i}: expected ---- after ${line}`)
    i++
    const output: string[] = []
    while (i < lines.length && lines[i] !== '') output.push(lines[i++] as string)
    blocks.push({ command: line, expected: output.join('\n') })
  }
  return blocks
}

export function formatTranscript(
  blocks: readonly Block[],
  comments: Map<number, string[]>,
): string {
  const parts: string[] = []
  blocks.forEach((block, index) => {
    for (const comment of comments.get(index) ?? []) parts.push(comment)
    parts.push(`${block.command}\n----\n${block.expected === '' ? 'ok' : block.expected}\n`)
  })
  return parts.join('\n')
}

/** Comment lines preceding each block, kept when a transcript is rewritten. */
export function commentsOf(text: string): Map<number, string[]> {
  const result = new Map<number, string[]>()
  let pending: string[] = []
  let block = 0
  let inOutput = false
  for (const line of text.split('\n')) {
    if (inOutput) {
      if (line === '') inOutput = false
      continue
    }
    if (line.startsWith('#')) pending.push(line)
    else if (line.trim() === '----') inOutput = true
    else if (line.trim() !== '') {
      result.set(block++, pending)
      pending = []
    }
  }
  return result
}

export class Interpreter {
  harness: Harness | undefined
  readonly #decoder = new TextDecoder()

  run(command: string): string {
    const [name, ...words] = command.split(/\s+/)
    const args = words.filter((word) => !word.includes('='))
    const options = new Map(
      words.filter((word) => word.includes('=')).map((word) => word.split('=') as [string, string]),
    )
    if (name === 'add-nodes') return this.#addNodes(Number(args[0]), options)
    const h = this.harness
    if (h === undefined) throw new Error('add-nodes first')
    return this.#dispatch(h, name ?? '', args, options)
  }

  #dispatch(h: Harness, name: string, args: string[], options: Map<string, string>): string {
    const [first = '', second = '', third = ''] = args
    switch (name) {
      case 'campaign':
        h.node(first).campaign()
        return ''
      case 'propose':
        return this.#guard(() => h.node(first).propose(bytes(second)))
      case 'propose-conf-change':
        return this.#guard(() =>
          h.node(first).proposeConfChange({ type: second as ConfChange['type'], node: third }),
        )
      case 'transfer-leader':
        h.node(first).transferLeadership(second)
        return ''
      case 'read-index':
        h.node(first).readIndex(bytes(second))
        return ''
      case 'tick':
        for (let i = 0; i < Number(second || 1); i++) h.node(first).tick()
        return ''
      case 'tick-all':
        // Every peer ticks, then the cluster settles, N times; the traffic is not printed.
        h.tickAll(Number(first || 1))
        return ''
      case 'stabilize': {
        // quiet=true settles the cluster without printing: for setup already shown elsewhere.
        const out = this.#stabilize(h)
        return options.get('quiet') === 'true' ? '' : out
      }
      case 'deliver':
        return this.#deliver(h, args, options.get('drop') === 'true')
      case 'process-ready':
        return args.map((id) => this.#processReady(h, id)).join('\n')
      case 'isolate':
        h.isolate(first)
        return ''
      case 'cut':
        h.cut.add(`${first}->${second}`)
        return ''
      case 'heal':
        h.heal()
        return ''
      case 'restart':
        h.restart(first)
        return ''
      case 'crash':
        h.crash(first)
        return ''
      case 'add-peer':
        h.addPeer(first, new MemoryRaftStorage())
        return ''
      case 'compact':
        return this.#compact(h, first, Number(second), Number(third || 0))
      case 'status':
        return (args.length > 0 ? args : [...h.peers.keys()])
          .map((id) => this.#status(h, id))
          .join('\n')
      case 'log':
        return this.#log(h, first)
      case 'applied':
        return `${first}: ${JSON.stringify(h.appliedData(first))}`
      case 'read-states':
        return h
          .peer(first)
          .readStates.splice(0)
          .map((read) => `${first}: read ${this.#decoder.decode(read.context)} at ${read.index}`)
          .join('\n')
      default:
        throw new Error(`unknown command ${name}`)
    }
  }

  #addNodes(count: number, options: Map<string, string>): string {
    const ids = Array.from({ length: count }, (_, i) => String(i + 1))
    const learners = options.get('learners')?.split(',') ?? []
    const appendBytesMax = options.get('append-bytes-max')
    const knob = options.get('knob')
    const overrides: ConfigOverrides = {
      preVote: options.get('pre-vote') !== 'false',
      checkQuorum: options.get('check-quorum') !== 'false',
      ...(appendBytesMax === undefined ? {} : { appendBytesMax: Number(appendBytesMax) }),
      ...(knob === undefined ? {} : { testingKnobs: { [knob]: true } as TestingKnobs }),
    }
    const voters = ids.filter((id) => !learners.includes(id))
    this.harness = new Harness(voters, overrides, learners)
    return ''
  }

  #guard(action: () => void): string {
    try {
      action()
      return ''
    } catch (error) {
      return `error: ${(error as Error).message}`
    }
  }

  #stabilize(h: Harness): string {
    const out: string[] = []
    for (let round = 0; round < 100; round++) {
      let moved = false
      for (const id of h.peers.keys()) {
        const text = this.#processReady(h, id)
        if (text !== '') out.push(text)
        moved = moved || text !== ''
      }
      const delivered = this.#deliver(h, [], false)
      if (delivered !== '') out.push(delivered)
      if (!moved && delivered === '') return out.join('\n')
    }
    throw new Error('did not stabilize')
  }

  #processReady(h: Harness, id: string): string {
    const peer = h.peer(id)
    if (!peer.node.hasReady()) return ''
    const ready = peer.node.ready()
    const lines = [`> ${id} ready`]
    if (ready.softState !== undefined) {
      lines.push(`  state: ${ready.softState.role} leader=${ready.softState.leader || '-'}`)
    }
    const hs = ready.hardState
    if (hs !== undefined)
      lines.push(`  hard: term=${hs.term} vote=${hs.vote || '-'} commit=${hs.commit}`)
    if (ready.snapshot !== undefined) {
      const { index, term } = ready.snapshot.metadata
      lines.push(`  snapshot: ${index}/${term}`)
    }
    if (ready.entries.length > 0) lines.push(`  persist: ${this.#entries(ready.entries)}`)
    if (ready.committedEntries.length > 0) {
      lines.push(`  apply: ${this.#entries(ready.committedEntries)}`)
    }
    for (const message of ready.messages) {
      const cut = h.cut.has(`${message.from}->${message.to}`) ? ' (cut)' : ''
      lines.push(`  send: ${this.#message(message)}${cut}`)
    }
    h.processReadyFrom(id, ready)
    return lines.join('\n')
  }

  #deliver(h: Harness, ids: string[], drop: boolean): string {
    const out: string[] = []
    const keep: Message[] = []
    for (const message of h.queue) {
      if (ids.length > 0 && !ids.includes(message.to)) keep.push(message)
      else out.push(`${drop ? 'dropped' : 'deliver'}: ${this.#message(message)}`)
    }
    const deliver = h.queue.filter((message) => !keep.includes(message))
    h.queue = keep
    if (!drop) for (const message of deliver) h.peers.get(message.to)?.node.step(message)
    return out.join('\n')
  }

  #message(m: Message): string {
    const parts = [`${m.from}->${m.to} ${m.type} term=${m.term}`]
    if (m.type === 'append' || m.type === 'vote' || m.type === 'pre-vote') {
      parts.push(`log=${m.logTerm}/${m.index}`)
    }
    if (m.type === 'append-response') parts.push(`index=${m.index}`)
    if (m.type === 'append' || m.type === 'heartbeat') parts.push(`commit=${m.commit}`)
    if (m.reject) {
      parts.push(
        m.type === 'append-response' ? `rejected hint=${m.logTerm}/${m.rejectHint}` : 'rejected',
      )
    }
    if (m.entries.length > 0) parts.push(`entries=[${this.#entries(m.entries)}]`)
    if (m.snapshot !== undefined) {
      parts.push(`snapshot=${m.snapshot.metadata.index}/${m.snapshot.metadata.term}`)
    }
    if (m.context.byteLength > 0 && m.context !== EMPTY_BYTES) {
      parts.push(`context=${this.#decoder.decode(m.context)}`)
    }
    return parts.join(' ')
  }

  #entries(entries: readonly Entry[]): string {
    return entries.map((entry) => this.#entry(entry)).join(', ')
  }

  #entry(entry: Entry): string {
    const at = `${entry.index}/${entry.term}`
    if (entry.type === 'conf-change') {
      const change = decodeConfChange(entry.data)
      return `${at} ${change.type} ${change.node}`
    }
    return entry.data.byteLength === 0
      ? `${at} no-op`
      : `${at} "${this.#decoder.decode(entry.data)}"`
  }

  #status(h: Harness, id: string): string {
    const s = h.node(id).status()
    const conf = `voters=${s.conf.voters.join(',')} learners=${s.conf.learners.join(',') || '-'}`
    return (
      `${id}: ${s.role} term=${s.term} vote=${s.vote || '-'} leader=${s.leader || '-'} ` +
      `commit=${s.commit} applied=${s.applied} last=${s.lastIndex} ${conf}`
    )
  }

  #log(h: Harness, id: string): string {
    const storage = h.peer(id).storage
    const first = storage.firstIndex()
    const entries = storage.entries(first, storage.lastIndex() + 1, Infinity)
    return `${id} log from ${first}: ${this.#entries(entries)}`
  }

  #compact(h: Harness, id: string, index: number, retain: number): string {
    const peer = h.peer(id)
    const conf = peer.node.status().appliedConf
    const data = bytes(JSON.stringify(h.appliedData(id)))
    const term = peer.storage.term(index)
    peer.storage.compactSync({ metadata: { index, term, confState: conf }, data }, retain)
    return `${id}: snapshot at ${index}/${term}, first index now ${peer.storage.firstIndex()}`
  }
}
