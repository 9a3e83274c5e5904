import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { IdentityFileError } from './errors.ts'
import type { Identity } from './identity.ts'
import { IDENTITY_FILE_NAME, loadIdentity, saveIdentity, writeSecretFile } from './identity-file.ts'
import { generateIdentity, type PowProgress } from './pow-search.ts'
import { DEFAULT_EXPECTED_POW } from './pow.ts'

/** The libp2p key beside `identity.json`: the protobuf bytes of `privateKeyToProtobuf`. */
export const LIBP2P_KEY_FILE_NAME = 'libp2p-key'

/** A protobuf-encoded Ed25519 private key is about 70 bytes; bound reads well above that. */
const LIBP2P_KEY_MAX_BYTES = 4096

/** The libp2p key file is missing, unreadable or not an Ed25519 key in libp2p's protobuf form. */
export class Libp2pKeyFileError extends Error {
  override readonly name = 'Libp2pKeyFileError'
  readonly file: string
  constructor (file: string, reason: string, cause?: unknown) {
    super(`${file}: ${reason}`, cause === undefined ? undefined : { cause })
    this.file = file
  }
}

export function libp2pKeyPath (dataDir: string): string {
  return join(dataDir, LIBP2P_KEY_FILE_NAME)
}

/** A fresh Ed25519 libp2p key (its PeerId is the node's libp2p identity). */
export async function createLibp2pKey (): Promise<Ed25519PrivateKey> {
  return await generateKeyPair('Ed25519')
}

/** Reads the data dir's libp2p key; `undefined` when there is none yet. */
export async function loadLibp2pKey (dataDir: string): Promise<Ed25519PrivateKey | undefined> {
  const file = libp2pKeyPath(dataDir)
  let bytes: Uint8Array
  try {
    const info = await stat(file)
    if (info.size > LIBP2P_KEY_MAX_BYTES) throw new Libp2pKeyFileError(file, `${info.size} bytes is far too large for a libp2p key`)
    bytes = await readFile(file)
  } catch (e) {
    if (e instanceof Libp2pKeyFileError) throw e
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Libp2pKeyFileError(file, `cannot read the libp2p key (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e)
  }
  let key
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (e) {
    throw new Libp2pKeyFileError(file, 'not a libp2p private key (protobuf); remove the file to have a new libp2p key created', e)
  }
  if (key.type !== 'Ed25519') {
    throw new Libp2pKeyFileError(file, `holds a ${key.type} key; tzp2p uses Ed25519 libp2p keys (remove the file to have one created)`)
  }
  return key
}

/** Writes the libp2p key (mode 0600, atomically); refuses to replace one unless `overwrite`. */
export async function saveLibp2pKey (dataDir: string, key: Ed25519PrivateKey, options: { overwrite?: boolean } = {}): Promise<string> {
  const file = libp2pKeyPath(dataDir)
  try {
    await writeSecretFile(file, privateKeyToProtobuf(key), options.overwrite === true, 'libp2p key')
  } catch (e) {
    if (e instanceof IdentityFileError && e.problem === 'exists') {
      throw new Libp2pKeyFileError(file, 'already exists: refusing to replace the libp2p key (move it away first, or pass --force)', e)
    }
    throw e
  }
  return file
}

export interface NodeKeys {
  identity: Identity
  libp2pKey: Ed25519PrivateKey
  /** What this call created (nothing on a normal restart). */
  created: { identity: boolean, libp2pKey: boolean }
}

export interface LoadOrCreateNodeKeysOptions {
  /** PoW difficulty demanded of the identity, and used to generate one (default 26). */
  expectedPow?: number
  onProgress?: (progress: PowProgress) => void
  signal?: AbortSignal
  workers?: number
}

/**
 * The node's keys at start-up, as Octez does for its identity: use `identity.json` when it exists
 * (refusing it, with `InsufficientProofOfWorkError`, if its PoW is below `expectedPow`), else
 * generate one at `expectedPow` and store it; likewise load or create the libp2p key beside it.
 */
export async function loadOrCreateNodeKeys (dataDir: string, options: LoadOrCreateNodeKeysOptions = {}): Promise<NodeKeys> {
  const expectedPow = options.expectedPow ?? DEFAULT_EXPECTED_POW
  const created = { identity: false, libp2pKey: false }
  let identity: Identity
  try {
    identity = await loadIdentity(join(dataDir, IDENTITY_FILE_NAME), { expectedPow })
  } catch (e) {
    if (!(e instanceof IdentityFileError && e.problem === 'missing')) throw e
    identity = await generateIdentity({ difficulty: expectedPow, onProgress: options.onProgress, signal: options.signal, workers: options.workers })
    await saveIdentity(join(dataDir, IDENTITY_FILE_NAME), identity)
    created.identity = true
  }
  let libp2pKey = await loadLibp2pKey(dataDir)
  if (libp2pKey === undefined) {
    libp2pKey = await createLibp2pKey()
    await saveLibp2pKey(dataDir, libp2pKey)
    created.libp2pKey = true
  }
  return { identity, libp2pKey, created }
}
