// Replays every transcript under testdata/ and compares the output; `REWRITE=1 npx vitest run
// test/ledger/raft/transcript.test.ts` rewrites them from what the code prints now (then read
// the diff before committing: the transcripts are the specification).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Interpreter, commentsOf, formatTranscript, parseTranscript } from './transcript.ts'

const directory = join(import.meta.dirname, 'testdata')
const rewrite = process.env.REWRITE === '1'

describe('Raft transcripts', () => {
  const files = readdirSync(directory).filter((name) => name.endsWith('.txt'))

  it.each(files)('should print the stored transcript when %s is replayed', (file) => {
    const path = join(directory, file)
    const text = readFileSync(path, 'utf8')
    const blocks = parseTranscript(text)
    const interpreter = new Interpreter()
    const actual = blocks.map((block) => ({
      command: block.command,
      expected: interpreter.run(block.command) || 'ok',
    }))
    if (rewrite) {
      writeFileSync(path, formatTranscript(actual, commentsOf(text)))
      return
    }
    actual.forEach((block, index) => {
      expect(block.expected, `${file}: ${block.command}`).toBe(blocks[index]?.expected)
    })
  })
})
