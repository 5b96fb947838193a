const encoder = new TextEncoder()

/** Length of a string in UTF-8 bytes, which is what every byte limit counts. */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).byteLength
}
