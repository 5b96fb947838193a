import { describe, expect, it } from 'vitest'
import {
  datasetKind,
  ShardSplitError,
  splitCsv,
  splitFiles,
} from '../../../node/shards/split-dataset.ts'

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const csv = (value: string) => new TextEncoder().encode(value)
const cid = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

describe('splitCsv', () => {
  it('should keep the header in every shard and spread rows evenly when rows do not divide', () => {
    const shards = splitCsv(csv('a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n'), 3).map(text)
    expect(shards).toEqual(['a,b\n1,2\n3,4\n', 'a,b\n5,6\n7,8\n', 'a,b\n9,10\n'])
  })

  it('should give every data row to exactly one shard when the last row has no newline', () => {
    const rows = Array.from({ length: 37 }, (_, at) => `${at},${at * at}`)
    const shards = splitCsv(csv(`x,y\n${rows.join('\n')}`), 4).map(text)
    const back = shards.flatMap((shard) => shard.split('\n').slice(1, -1))
    expect(back).toEqual(rows)
    for (const shard of shards) expect(shard.startsWith('x,y\n')).toBe(true)
  })

  it('should keep a quoted newline inside its row when a field spans lines', () => {
    const shards = splitCsv(csv('n,t\n1,"one\ntwo"\n2,three\n'), 2).map(text)
    expect(shards).toEqual(['n,t\n1,"one\ntwo"\n', 'n,t\n2,three\n'])
  })

  it('should keep CRLF rows whole when the file uses CRLF', () => {
    const shards = splitCsv(csv('a\r\n1\r\n2\r\n'), 2).map(text)
    expect(shards).toEqual(['a\r\n1\r\n', 'a\r\n2\r\n'])
  })

  it('should refuse when there are fewer data rows than shards', () => {
    expect(() => splitCsv(csv('a\n1\n2\n'), 3)).toThrow(/2 data rows, fewer than 3/)
    expect(() => splitCsv(csv(''), 1)).toThrow(ShardSplitError)
  })
})

describe('splitFiles', () => {
  const file = (name: string) => ({ name, cid, size: 1 })

  it('should give each shard consecutive files under shard/ when the dataset is files', () => {
    const files = ['d/e.txt', 'd/a.txt', 'd/c.txt', 'd/b.txt', 'd/x/f.txt'].map(file)
    const shards = splitFiles(files, 2).map((group) => group.map((one) => one.name))
    expect(shards).toEqual([
      ['shard/a.txt', 'shard/b.txt', 'shard/c.txt'],
      ['shard/e.txt', 'shard/x/f.txt'],
    ])
  })

  it('should keep whole names when the files share no directory', () => {
    const shards = splitFiles([file('a/1'), file('b/2')], 2)
    expect(shards.map((group) => group[0]?.name)).toEqual(['shard/a/1', 'shard/b/2'])
  })

  it('should refuse when there are fewer files than shards', () => {
    expect(() => splitFiles([file('d/a')], 2)).toThrow(/1 files, fewer than 2 shards/)
  })
})

describe('datasetKind', () => {
  const one = (name: string) => [{ name, cid, size: 1 }]

  it('should split one CSV by rows and several files by file', () => {
    expect(datasetKind(one('Data.CSV'))).toBe('csv')
    expect(datasetKind([...one('d/a'), ...one('d/b')])).toBe('files')
  })

  it('should refuse an .npz archive and other single files with a clear message', () => {
    expect(datasetKind(one('x.NPY'))).toBe('npy')
    expect(() => datasetKind(one('x.npz'))).toThrow(/.npz archives are not split/)
    expect(() => datasetKind(one('x.json'))).toThrow(/only a .csv or .npy file/)
    expect(() => datasetKind([])).toThrow(/needs --input/)
  })
})
