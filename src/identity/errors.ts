/**
 * Typed failures around the node's identity. The three Octez checks of `Identity_file.read` each
 * have their own class (`IdentityMismatchError`, `IdentityKeysMismatchError`,
 * `InsufficientProofOfWorkError`); everything that makes a file unusable before those checks can
 * run (missing, unreadable, not JSON, a bad key) is an `IdentityFileError` that names the key and
 * says how to fix it.
 */
import { dirname } from 'node:path'
import { formatPowDifficulty } from './pow.ts'

export type IdentityFileProblem = 'missing' | 'unreadable' | 'malformed' | 'exists'

export class IdentityFileError extends Error {
  override readonly name = 'IdentityFileError'
  readonly problem: IdentityFileProblem
  /** The file concerned, when the error comes from a file rather than an in-memory value. */
  readonly file: string | undefined
  /** The JSON key at fault (`public_key`, …) when one is. */
  readonly key: string | undefined

  constructor (problem: IdentityFileProblem, message: string, options: { file?: string, key?: string, cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.problem = problem
    this.file = options.file
    this.key = options.key
  }
}

/** Octez `Identity_mismatch`: the stored peer_id is not the hash of the stored public key. */
export class IdentityMismatchError extends Error {
  override readonly name = 'IdentityMismatchError'
  readonly declared: string
  readonly computed: string
  readonly file: string | undefined

  constructor (declared: string, computed: string, file?: string) {
    super(`${where(file)}peer_id ${declared} is not the hash of public_key (which gives ${computed}); ` +
      'the file was edited or mixes two identities: remove "peer_id" to have it recomputed, or generate a new identity')
    this.declared = declared
    this.computed = computed
    this.file = file
  }
}

/** Octez `Identity_keys_mismatch`: public_key is not X25519(secret_key). */
export class IdentityKeysMismatchError extends Error {
  override readonly name = 'IdentityKeysMismatchError'
  readonly file: string | undefined

  constructor (file?: string) {
    super(`${where(file)}public_key does not belong to secret_key (X25519(secret_key) differs); ` +
      'the keys come from two different identities: generate a new identity')
    this.file = file
  }
}

/** Octez `Insufficient_proof_of_work`: the stamp does not reach the expected difficulty. */
export class InsufficientProofOfWorkError extends Error {
  override readonly name = 'InsufficientProofOfWorkError'
  /** The difficulty demanded (`--expected-pow`, `p2p.expected-proof-of-work`). */
  readonly expected: number
  /** The largest difficulty the stamp satisfies (two decimals, rounded down). */
  readonly actual: number
  readonly file: string | undefined

  constructor (expected: number, actual: number, file?: string) {
    super(`${where(file)}insufficient proof of work: the identity reaches difficulty ${formatPowDifficulty(actual)}, ` +
      `below the expected ${formatPowDifficulty(expected)}; generate a new identity with ` +
      `\`${identityGenerateCommand({ difficulty: expected, file, replace: true })}\` or lower the expected proof of work`)
    this.expected = expected
    this.actual = actual
    this.file = file
  }
}

/**
 * The `tzp2p identity generate` command that writes `file` (an identity.json): with the data dir
 * it lives in, and `--force` when an identity is there to be replaced, so that it can be run as
 * printed.
 */
export function identityGenerateCommand (options: { difficulty?: number, file?: string, replace?: boolean }): string {
  return [
    'tzp2p identity generate',
    ...(options.difficulty !== undefined ? [String(options.difficulty)] : []),
    ...(options.file !== undefined ? ['--data-dir', shellWord(dirname(options.file))] : []),
    ...(options.replace === true ? ['--force'] : [])
  ].join(' ')
}

/** `s` as one shell word: quoted when it holds anything but the characters of plain paths. */
function shellWord (s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`
}

function where (file: string | undefined): string {
  return file === undefined ? '' : `${file}: `
}
