// The peer's Ed25519 key: its PeerId names it in the mesh and is its owner account. Created
// on first start and kept in the data dir, readable by its owner only.
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface Identity {
  readonly privateKey: PrivateKey
  readonly peerId: string
}

export const PEER_KEY_FILE = 'peer-key'

export async function loadOrCreateIdentity(
  dataDir: string,
): Promise<Identity & { created: boolean }> {
  const path = join(dataDir, PEER_KEY_FILE)
  let privateKey: PrivateKey
  let created = false
  try {
    privateKey = privateKeyFromProtobuf(await readFile(path))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    privateKey = await generateKeyPair('Ed25519')
    await writeFile(path, privateKeyToProtobuf(privateKey), { mode: 0o600, flag: 'wx' })
    created = true
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created }
}
