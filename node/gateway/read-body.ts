// Reads a request body with a byte cap: never more than `bytesMax` bytes are held, whatever
// the client declares or sends.
import type { IncomingMessage } from 'node:http'
import { GridxError } from '../../protocol/index.ts'

/** Resolves to the body's bytes; rejects with TOO_LARGE past the cap (the caller then closes
 * the connection, since the rest of the body is left unread). */
export function readBody(request: IncomingMessage, bytesMax: number): Promise<Buffer> {
  const tooLarge = () =>
    new GridxError('TOO_LARGE', `request body exceeds ${bytesMax} bytes`, { bytesMax })
  const declared = Number(request.headers['content-length'] ?? '0')
  if (Number.isFinite(declared) && declared > bytesMax) return Promise.reject(tooLarge())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let bytes = 0
    const onData = (chunk: Buffer) => {
      bytes += chunk.byteLength
      if (bytes > bytesMax) {
        cleanup()
        request.pause()
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(Buffer.concat(chunks, bytes))
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    const cleanup = () => {
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('error', onError)
    }
    request.on('data', onData)
    request.on('end', onEnd)
    request.on('error', onError)
  })
}
