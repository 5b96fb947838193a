// What the page says when a file could not be saved: the file's name and why, whatever was thrown.
import { describe, expect, it } from 'vitest'
import { saveBlobFailure } from '../../../../pwa/src/net/save-blob.ts'

const FILE = { name: 'round-2/weights.npz', cid: 'bafkrei', size: 10 }

describe('saveBlobFailure', () => {
  it('should name the file and the error’s message when an Error was thrown', () => {
    const message = saveBlobFailure(FILE, new Error('3 bytes came, not 10'))
    expect(message).toBe('Could not download round-2/weights.npz: 3 bytes came, not 10')
  })

  it('should name the file and the thrown value when it is not an Error', () => {
    expect(saveBlobFailure(FILE, 'offline')).toBe('Could not download round-2/weights.npz: offline')
  })
})
