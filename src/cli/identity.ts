import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import {
  DATA_DIR_ENV, DEFAULT_DATA_DIR_NAME, DEFAULT_EXPECTED_POW, IDENTITY_FILE_NAME, IdentityFileError,
  IdentityKeysMismatchError, IdentityMismatchError, InsufficientProofOfWorkError, Libp2pKeyFileError,
  PowSearchAbortedError, createLibp2pKey, expectedPowAttempts, generateIdentity, libp2pKeyPath, loadIdentity,
  loadLibp2pKey, makePowTarget, formatPowDifficulty, powDifficultyFloor, resolveDataDir, saveIdentity, saveLibp2pKey, type Identity
} from '../identity/index.ts'
import { toHex } from '../encoding/index.ts'
import { createProgressLine, formatCount, formatPowProgress } from './progress.ts'

/** `identity check` found a problem; the message names the failed check. */
export class IdentityCheckFailedError extends Error {
  override readonly name = 'IdentityCheckFailedError'
  readonly check: string
  constructor (check: string, cause: Error) {
    super(`identity check failed (${check}): ${cause.message}`, { cause })
    this.check = check
  }
}

/** generate was interrupted (Ctrl-C); the CLI exits with 130 as shells expect after SIGINT. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError'
  readonly exitCode = 130
}

function parseDifficulty (value: string): number {
  const d = Number(value)
  if (value.trim() === '' || !Number.isFinite(d) || d < 0 || d > 256) {
    throw new InvalidArgumentError('expected a number from 0 to 256 (fractions allowed, e.g. 26.5).')
  }
  return d
}

function parseWorkers (value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InvalidArgumentError('expected an integer from 1 to 1024.')
  return n
}

const dataDirOption = (): Option => new Option('--data-dir <dir>',
  `data directory holding ${IDENTITY_FILE_NAME} and the libp2p key (default: $${DATA_DIR_ENV}, else ~/${DEFAULT_DATA_DIR_NAME})`)

/** Adds `tzp2p identity generate|show|check`, which behave like `octez-node identity …`. */
export function registerIdentityCommands (program: Command): void {
  const identity = program.command('identity')
    .description(`manage the node identity: the Tezos PoW identity (${IDENTITY_FILE_NAME}, Octez format) and the libp2p key`)

  identity.command('generate')
    .description('generate a new identity: an X25519 keypair with a proof-of-work stamp, plus a libp2p key')
    .argument('[difficulty]', 'proof-of-work difficulty, as Octez\'s --expected-pow (each +1 doubles the work)', parseDifficulty, DEFAULT_EXPECTED_POW)
    .addOption(dataDirOption())
    .option('--force', 'replace an existing identity and libp2p key (their peer ids are lost)')
    .addOption(new Option('--workers <n>', 'search threads (default: one per core)').argParser(parseWorkers))
    .addHelpText('after', `
Refuses to overwrite an existing ${IDENTITY_FILE_NAME} unless --force is given. The search runs on
every core; difficulty 26 (the public-network default) takes about 2^26 attempts.

Examples:
  $ tzp2p identity generate                 # difficulty ${DEFAULT_EXPECTED_POW}, in ~/${DEFAULT_DATA_DIR_NAME}
  $ tzp2p identity generate 0 --data-dir ./devnet/node1`)
    .action(async (difficulty: number, opts: { dataDir?: string, force?: boolean, workers?: number }) => {
      await generateCommand(difficulty, opts)
    })

  identity.command('show')
    .description('print the identity: peer_id, public key, proof-of-work stamp and the difficulty it reaches, libp2p PeerId')
    .addOption(dataDirOption())
    .option('--json', 'print one JSON object instead of text')
    .action(async (opts: { dataDir?: string, json?: boolean }) => {
      await showCommand(opts)
    })

  identity.command('check')
    .description('check the identity file: peer_id = hash(public_key), keys match, proof of work ≥ the expected difficulty')
    .addOption(dataDirOption())
    .addOption(new Option('--expected-pow <difficulty>', 'difficulty the proof of work must reach')
      .argParser(parseDifficulty).default(DEFAULT_EXPECTED_POW))
    .addHelpText('after', '\nExits with 0 and prints one "OK" line, or exits with 1 naming the failed check.')
    .action(async (opts: { dataDir?: string, expectedPow: number }) => {
      await checkCommand(opts)
    })
}

async function exists (file: string): Promise<boolean> {
  return await access(file).then(() => true, () => false)
}

async function generateCommand (difficulty: number, opts: { dataDir?: string, force?: boolean, workers?: number }): Promise<void> {
  const dataDir = resolveDataDir(opts.dataDir)
  const file = join(dataDir, IDENTITY_FILE_NAME)
  const force = opts.force === true
  // Checked before the search too, so no one waits minutes to learn the file cannot be written.
  if (!force && await exists(file)) {
    throw new IdentityFileError('exists', `${file} already exists: refusing to overwrite the current identity ` +
      '(move it away first, or pass --force to replace it)', { file })
  }

  const abort = new AbortController()
  const onSigint = (): void => { abort.abort() }
  process.once('SIGINT', onSigint)
  const line = createProgressLine()
  const expected = expectedPowAttempts(makePowTarget(difficulty))
  process.stderr.write(`Generating a new identity with proof-of-work difficulty ${difficulty} ` +
    `(~${formatCount(expected)} attempts on average); Ctrl-C to stop\n`)
  let identity: Identity
  try {
    identity = await generateIdentity({
      difficulty,
      workers: opts.workers,
      signal: abort.signal,
      onProgress: (p) => { line.update(formatPowProgress(p)) }
    })
  } catch (e) {
    if (e instanceof PowSearchAbortedError) throw new InterruptedError('interrupted: no identity was written')
    throw e
  } finally {
    line.clear()
    process.removeListener('SIGINT', onSigint)
  }

  await saveIdentity(file, identity, { overwrite: force })
  let key = force ? undefined : await loadLibp2pKey(dataDir)
  const keyCreated = key === undefined
  if (key === undefined) {
    key = await createLibp2pKey()
    await saveLibp2pKey(dataDir, key, { overwrite: force })
  }
  const reached = formatPowDifficulty(powDifficultyFloor(identity.publicKey, identity.powStamp))
  process.stdout.write(`Stored the new identity ${identity.peerId} (proof of work ${reached}) in ${file}\n` +
    `libp2p PeerId ${peerIdFromPrivateKey(key).toString()} (${keyCreated ? 'new key' : 'existing key'} in ${libp2pKeyPath(dataDir)})\n`)
}

interface ShownIdentity {
  peer_id: string
  public_key: string
  proof_of_work_stamp: string
  proof_of_work: number
  libp2p_peer_id: string | null
  identity_file: string
  libp2p_key_file: string | null
}

function describeIdentity (dataDir: string, identity: Identity, key: Ed25519PrivateKey | undefined): ShownIdentity {
  return {
    peer_id: identity.peerId,
    public_key: toHex(identity.publicKey),
    proof_of_work_stamp: toHex(identity.powStamp),
    // Floored to two decimals, as every difficulty tzp2p prints: never above what the stamp reaches.
    proof_of_work: powDifficultyFloor(identity.publicKey, identity.powStamp),
    libp2p_peer_id: key === undefined ? null : peerIdFromPrivateKey(key).toString(),
    identity_file: join(dataDir, IDENTITY_FILE_NAME),
    libp2p_key_file: key === undefined ? null : libp2pKeyPath(dataDir)
  }
}

async function showCommand (opts: { dataDir?: string, json?: boolean }): Promise<void> {
  const dataDir = resolveDataDir(opts.dataDir)
  const identity = await loadIdentity(join(dataDir, IDENTITY_FILE_NAME))
  const shown = describeIdentity(dataDir, identity, await loadLibp2pKey(dataDir))
  if (opts.json === true) {
    process.stdout.write(JSON.stringify(shown, null, 2) + '\n')
    return
  }
  process.stdout.write([
    `peer_id:             ${shown.peer_id}`,
    `public_key:          ${shown.public_key}`,
    `proof_of_work_stamp: ${shown.proof_of_work_stamp}`,
    `proof of work:       difficulty ${formatPowDifficulty(shown.proof_of_work)}`,
    `libp2p PeerId:       ${shown.libp2p_peer_id ?? 'none yet (created by `identity generate` or on the first run)'}`,
    `identity file:       ${shown.identity_file}`
  ].join('\n') + '\n')
}

function checkName (e: unknown): string | undefined {
  if (e instanceof IdentityMismatchError) return 'peer_id'
  if (e instanceof IdentityKeysMismatchError) return 'keys'
  if (e instanceof InsufficientProofOfWorkError) return 'proof of work'
  if (e instanceof IdentityFileError) return 'identity file'
  if (e instanceof Libp2pKeyFileError) return 'libp2p key'
  return undefined
}

async function checkCommand (opts: { dataDir?: string, expectedPow: number }): Promise<void> {
  const dataDir = resolveDataDir(opts.dataDir)
  const file = join(dataDir, IDENTITY_FILE_NAME)
  let identity: Identity
  let key: Ed25519PrivateKey | undefined
  try {
    identity = await loadIdentity(file, { expectedPow: opts.expectedPow })
    key = await loadLibp2pKey(dataDir)
  } catch (e) {
    const check = checkName(e)
    if (check === undefined) throw e
    throw new IdentityCheckFailedError(check, e as Error)
  }
  const reached = formatPowDifficulty(powDifficultyFloor(identity.publicKey, identity.powStamp))
  const libp2p = key === undefined ? 'no libp2p key yet' : `libp2p PeerId ${peerIdFromPrivateKey(key).toString()}`
  process.stdout.write(`OK: ${file}: peer_id ${identity.peerId} matches its public key, keys match, ` +
    `proof of work ${reached} ≥ ${formatPowDifficulty(opts.expectedPow)}; ${libp2p}\n`)
}
