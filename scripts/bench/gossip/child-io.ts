/**
 * The child side of the gossip benchmark's processes (both stacks): JSON-line events on stdout,
 * JSON-line commands on stdin, a clock comparable across processes, the bytes written to the
 * network, and the block payload both stacks carry.
 */
import { createInterface } from 'node:readline'
import type { Registry } from 'prom-client'
import { Reader, Writer, toHex } from '../../../src/encoding/index.ts'
import { BLOCK_HEADER_MAX_BYTES, blockHashOfBytes } from '../../../src/wire/block-header.ts'

export type Command = Record<string, unknown> & { cmd: string }

/**
 * Milliseconds since the epoch with sub-millisecond resolution. `performance.timeOrigin` is the
 * process's start on the wall clock, so on one machine the values of different processes compare.
 */
export function now (): number {
  return performance.timeOrigin + performance.now()
}

export function emit (event: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(event) + '\n')
}

/**
 * Runs `handle` for each command line; a failing command is answered with an `error` event. When
 * stdin closes (the parent is gone) `onClose` runs and the process exits.
 */
export function serveCommands (handle: (c: Command) => Promise<void>, onClose: () => Promise<void>): void {
  const lines = createInterface({ input: process.stdin })
  lines.on('line', line => {
    let c: Command
    try { c = JSON.parse(line) as Command } catch { return }
    handle(c).catch((err: Error) => { emit({ event: 'error', cmd: c.cmd, name: err.name, message: err.message }) })
  })
  lines.on('close', () => {
    const exit = (): void => process.exit(0)
    onClose().then(exit, exit)
  })
}

/**
 * Dials every address, each retried a few times: on a loaded machine (twenty processes per stack
 * on a few cores) a Noise or Tezos handshake can miss its timeout, which says nothing about gossip.
 */
export async function dialAll (addresses: readonly string[], dial: (address: string) => Promise<unknown>, attempts = 5): Promise<void> {
  await Promise.all(addresses.map(async address => {
    for (let attempt = 1; ; attempt++) {
      try {
        await dial(address)
        return
      } catch (err) {
        if (attempt >= attempts) throw err
        await new Promise(resolve => setTimeout(resolve, 500 * attempt))
      }
    }
  }))
}

/**
 * Bytes this process has written to its TCP connections (after Noise and the muxer: what goes on
 * the wire), from `@libp2p/prometheus-metrics`' `libp2p_data_transfer_bytes_total`, whose
 * `global sent` label counts every write on every connection; the per-protocol labels count the
 * payload written on each protocol's streams.
 */
export async function sentBytes (registry: Registry): Promise<{ total: number, byProtocol: Record<string, number> }> {
  const metric = registry.getSingleMetric('libp2p_data_transfer_bytes_total')
  if (metric === undefined) throw new Error('libp2p metrics are not enabled')
  const { values } = await metric.get()
  let total = 0
  const byProtocol: Record<string, number> = {}
  for (const v of values) {
    const label = String(v.labels.protocol ?? '')
    if (!label.endsWith(' sent')) continue
    if (label === 'global sent') total = v.value
    else byProtocol[label.slice(0, -' sent'.length)] = v.value
  }
  return { total, byProtocol }
}

/** What gossipsub carries per head: the block as a push protocol would send it (header, then each operation, length-prefixed). */
export function encodeBlockPayload (header: Uint8Array, operations: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(header.length + operations.reduce((n, o) => n + o.length + 4, 4))
  w.bytes(header)
  for (const op of operations) w.bytes(op)
  return w.finish()
}

/** The block hash (hex) of a payload: the key under which both stacks report a head. */
export function payloadKey (payload: Uint8Array): string {
  return toHex(blockHashOfBytes(new Reader(payload).bytes('block header', BLOCK_HEADER_MAX_BYTES)))
}
