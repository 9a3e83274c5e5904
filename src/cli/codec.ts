/**
 * `tzp2p codec list|decode|encode`: the wire structures by their Octez names, between binary (hex)
 * and Octez-style JSON, like `octez-codec`. Bad input ends in one line on stderr and exit code 1
 * (main.ts prints the error thrown here).
 */
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { DecodeError, EncodeError, decodeExact, encode, fromHex, toHex } from '../encoding/index.ts'
import { WIRE_ENCODINGS, WireJsonError, type JsonConverter, type AnyNamedEncoding } from '../wire/index.ts'
import { b58Decode } from '../crypto/index.ts'
import { describeTezosContents } from '../protocol/tezos/operation-kinds.ts'
import type { Operation } from '../wire/operation.ts'
import { blockDataCodec, blockDataJson, operationDataCodec, operationDataJson } from '../protocol/demo-v3/json.ts'
import { IdentityFileError, identityCodec, identityFromJson, identityToJson, type Identity } from '../identity/index.ts'

/** The input could not be decoded or encoded; the message says what and where. */
export class CodecCommandError extends Error {
  override readonly name = 'CodecCommandError'
}

const identityJson: JsonConverter<Identity> = {
  toJson: identityToJson,
  fromJson: j => identityFromJson(j)
}

/** Wire structures plus the identity (identity.json's binary form), as `codec list` shows them. */
export const CODEC_ENCODINGS: ReadonlyArray<AnyNamedEncoding> = [
  ...WIRE_ENCODINGS,
  { name: 'identity', description: 'identity.json: peer_id, public_key, secret_key, proof_of_work_stamp', codec: identityCodec, json: identityJson },
  // The demo v3 protocol's own structures (protocols/sync.md, Appendix A.2).
  { name: 'demo_v3.operation_data', description: 'demo v3 operation data after the branch: one contents by kind (endorsement, seed_nonce_revelation, evidence, activation, reveal, transaction, origination, delegation) and its signature', codec: operationDataCodec, json: operationDataJson },
  { name: 'demo_v3.block_header.protocol_data', description: 'demo v3 block protocol data: priority, proof_of_work_nonce, seed_nonce_hash, next_protocol, signature', codec: blockDataCodec, json: blockDataJson }
]

function lookup (name: string): AnyNamedEncoding {
  const e = CODEC_ENCODINGS.find(x => x.name === name)
  if (e === undefined) throw new CodecCommandError(`unknown encoding ${JSON.stringify(name)} (run "tzp2p codec list")`)
  return e
}

/** `-` reads the argument from standard input (for values too large for a command line). */
function argument (value: string): string {
  return value === '-' ? readFileSync(0, 'utf8') : value
}

function oneLine (s: string): string {
  return s.replace(/\s*\n\s*/g, ' ')
}

export interface DecodeOptions {
  /** For `operation`: the protocol (b58 `P…`) whose encodings read the operation's contents by kind. */
  protocol?: string
}

export function decodeCommand (name: string, hexInput: string, options: DecodeOptions = {}): string {
  const e = lookup(name)
  if (options.protocol !== undefined) checkProtocolOption(e.name, options.protocol)
  let bytes: Uint8Array
  try {
    bytes = fromHex(argument(hexInput))
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    // The reason alone: it names the character position already.
    throw new CodecCommandError(`invalid hex input: ${err.reason} (give the bytes as hex digits, optionally prefixed by 0x)`)
  }
  let value: unknown
  try {
    value = decodeExact(e.codec, bytes)
  } catch (err) {
    if (err instanceof DecodeError) throw new CodecCommandError(`cannot decode ${e.name}: ${oneLine(err.message)}`)
    throw err
  }
  const json = e.json.toJson(value)
  if (options.protocol === undefined) return JSON.stringify(json, null, 2)
  return JSON.stringify({ ...(json as Record<string, unknown>), ...operationKindsJson(value as Operation, options.protocol) }, null, 2)
}

function checkProtocolOption (name: string, protocol: string): void {
  if (name !== 'operation') throw new CodecCommandError(`--protocol applies to the operation encoding only, not ${name}`)
  try {
    b58Decode('protocolHash', protocol)
  } catch {
    throw new CodecCommandError(`--protocol ${JSON.stringify(protocol)} is not a protocol hash (b58check, P…)`)
  }
}

/** The operation's contents by kind, as the protocol's encodings read them (the library's, else the tag's kind). */
function operationKindsJson (op: Operation, protocol: string): Record<string, unknown> {
  const d = describeTezosContents(op, protocol)
  if (d.decoded) return { protocol, contents: d.contents, signature: d.signature }
  return { protocol, decoded: false, ...(d.kind === undefined ? {} : { kind: d.kind }), ...(d.tag === undefined ? {} : { tag: d.tag }) }
}

export function encodeCommand (name: string, jsonInput: string): string {
  const e = lookup(name)
  let json: unknown
  try {
    json = JSON.parse(argument(jsonInput))
  } catch (err) {
    throw new CodecCommandError(`invalid JSON input: ${oneLine((err as Error).message)}`)
  }
  try {
    return toHex(encode(e.codec, e.json.fromJson(json)))
  } catch (err) {
    if (err instanceof WireJsonError || err instanceof EncodeError || err instanceof IdentityFileError || err instanceof DecodeError) {
      throw new CodecCommandError(`cannot encode ${e.name}: ${oneLine(err.message)}`)
    }
    throw err
  }
}

export function listCommand (): string {
  const width = Math.max(...CODEC_ENCODINGS.map(e => e.name.length))
  return CODEC_ENCODINGS.map(e => `${e.name.padEnd(width)}  ${e.description}`).join('\n')
}

/** Adds `tzp2p codec list|decode|encode`. */
export function registerCodecCommands (program: Command): void {
  const codec = program.command('codec')
    .description('convert Octez wire structures between binary (hex) and JSON, like octez-codec')

  codec.command('list')
    .description('list the encodings, with what each one is')
    .action(() => { process.stdout.write(`${listCommand()}\n`) })

  codec.command('decode')
    .description('decode hex bytes of an encoding and print its JSON')
    .argument('<name>', 'encoding name (see "tzp2p codec list")')
    .argument('<hex>', 'the bytes in hexadecimal, or - to read them from standard input')
    .addHelpText('after', `
Example:
  $ tzp2p codec decode p2p_message 000000020002
  {
    "kind": "Bootstrap"
  }`)
    .option('--protocol <hash>', 'for an operation: the Tezos protocol (P…) whose encodings read its contents by kind')
    .action((name: string, hex: string, opts: { protocol?: string }) => {
      process.stdout.write(`${decodeCommand(name, hex, opts.protocol === undefined ? {} : { protocol: opts.protocol })}\n`)
    })

  codec.command('encode')
    .description('encode a JSON value of an encoding and print its bytes in hex')
    .argument('<name>', 'encoding name (see "tzp2p codec list")')
    .argument('<json>', 'the value as JSON, or - to read it from standard input')
    .addHelpText('after', `
Example:
  $ tzp2p codec encode p2p_message '{"get_current_head": "NetXdQprcVkpaWU"}'
  0000000600137a06a770`)
    .action((name: string, json: string) => { process.stdout.write(`${encodeCommand(name, json)}\n`) })
}
