import { link, mkdir, readFile, rename, stat, unlink, writeFile, chmod } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { IdentityFileError, identityGenerateCommand } from './errors.ts'
import { checkIdentity, type Identity } from './identity.ts'
import { formatIdentityJson, parseIdentityJson } from './identity-json.ts'

/** Octez's `Data_version.default_identity_file_name`. */
export const IDENTITY_FILE_NAME = 'identity.json'

/** An identity file is a few hundred bytes; anything far larger is not one (and is not read whole). */
const IDENTITY_FILE_MAX_BYTES = 64 * 1024

/** Secrets are readable by their owner only, as Octez writes them. */
export const SECRET_FILE_MODE = 0o600
export const DATA_DIR_MODE = 0o700

/**
 * Where the identity of `location` lives: `location` itself when it names a file (an existing
 * non-directory, or a path ending in `.json`), else `identity.json` inside that data directory.
 */
export async function identityFilePath (location: string): Promise<string> {
  try {
    if ((await stat(location)).isDirectory()) return join(location, IDENTITY_FILE_NAME)
    return location
  } catch {
    return location.endsWith('.json') ? location : join(location, IDENTITY_FILE_NAME)
  }
}

export interface LoadIdentityOptions {
  /** Refuse an identity whose PoW is below this difficulty (Octez `--expected-pow`). */
  expectedPow?: number
}

/**
 * Octez `Identity_file.read`: reads `identity.json` (from a data dir or a file path), recomputes a
 * missing peer_id, and runs the three checks. Throws `IdentityFileError` when the file is missing,
 * unreadable or malformed, and the check's own error otherwise.
 */
export async function loadIdentity (location: string, options: LoadIdentityOptions = {}): Promise<Identity> {
  const file = await identityFilePath(location)
  const identity = parseIdentityJson(await readIdentityText(file), file)
  checkIdentity(identity, { expectedPow: options.expectedPow, file })
  return identity
}

async function readIdentityText (file: string): Promise<string> {
  try {
    const info = await stat(file)
    if (!info.isFile()) throw new IdentityFileError('unreadable', `${file} is not a regular file`, { file })
    if (info.size > IDENTITY_FILE_MAX_BYTES) {
      throw new IdentityFileError('malformed', `${file}: ${info.size} bytes is far too large for an identity file`, { file })
    }
    return await readFile(file, 'utf8')
  } catch (e) {
    if (e instanceof IdentityFileError) throw e
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new IdentityFileError('missing', `no identity file at ${file}: create one with \`${identityGenerateCommand({ file })}\` ` +
        '(the node also creates one on its first run)', { file, cause: e })
    }
    throw new IdentityFileError('unreadable', `cannot read ${file} (${code ?? (e as Error).message}): check the path and its permissions`, { file, cause: e })
  }
}

export interface SaveIdentityOptions {
  /** Replace an existing file (`identity generate --force`); without it an existing file is an error. */
  overwrite?: boolean
}

/**
 * Writes `identity.json` with Octez's exact layout and mode 0600, creating the data dir (0700) if
 * needed. The text goes to a temporary file first and is then moved into place, so a crash never
 * leaves a half-written identity; without `overwrite` the move is a hard link, which fails rather
 * than replace a file that appeared meanwhile. Returns the file path.
 */
export async function saveIdentity (location: string, identity: Identity, options: SaveIdentityOptions = {}): Promise<string> {
  const file = await identityFilePath(location)
  await writeSecretFile(file, formatIdentityJson(identity), options.overwrite === true, 'identity')
  return file
}

/** Atomic, owner-only write shared by the identity and the libp2p key. */
export async function writeSecretFile (file: string, data: string | Uint8Array, overwrite: boolean, what: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: DATA_DIR_MODE })
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
  await writeFile(tmp, data, { mode: SECRET_FILE_MODE, flag: 'wx' })
  try {
    await chmod(tmp, SECRET_FILE_MODE)
    if (overwrite) {
      await rename(tmp, file)
    } else {
      try {
        await link(tmp, file)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new IdentityFileError('exists', `${file} already exists: refusing to overwrite the current ${what} ` +
            '(move it away first, or pass --force to replace it)', { file, cause: e })
        }
        throw e
      }
    }
  } finally {
    await unlink(tmp).catch(() => {})
  }
}
