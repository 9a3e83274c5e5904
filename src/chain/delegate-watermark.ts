import { toHex } from '../encoding/index.ts'
import { sublevel, type Database, type Sublevel } from '../storage/database.ts'

/**
 * The highest levels a delegate has signed a block and an endorsement at, kept in the node's store
 * so that a restarted node never signs a second block or endorsement at a level it already signed
 * (double baking or double endorsement, which the protocol slashes). Octez keeps the same "high
 * watermark" per key and kind in its signer (`src/bin_signer/handler.ml`) and the baker's own
 * record of what it signed (`lib_delegate/baking_highwatermarks.ml` of each protocol).
 */
export interface DelegateWatermark {
  /** The last level this delegate baked a block at (0: none). */
  baked: number
  /** The last level whose block this delegate endorsed (0: none). */
  endorsed: number
}

export class WatermarkDecodeError extends Error {
  override readonly name = 'WatermarkDecodeError'
}

const WATERMARK_BYTES = 8

/** One record per delegate (its public key hash in hex): two big-endian uint32 levels. */
export class DelegateWatermarks {
  private readonly level: Sublevel

  constructor (db: Database) {
    this.level = sublevel(db, 'delegate-watermark')
  }

  async load (delegate: Uint8Array): Promise<DelegateWatermark> {
    const stored = await this.level.get(toHex(delegate))
    if (stored === undefined) return { baked: 0, endorsed: 0 }
    if (stored.length !== WATERMARK_BYTES) {
      throw new WatermarkDecodeError(`the watermark of delegate ${toHex(delegate)} has ${stored.length} bytes, expected ${WATERMARK_BYTES}`)
    }
    const view = new DataView(stored.buffer, stored.byteOffset, stored.length)
    return { baked: view.getUint32(0), endorsed: view.getUint32(4) }
  }

  /** Written (and awaited) before the signed block or endorsement leaves the delegate. */
  async save (delegate: Uint8Array, mark: DelegateWatermark): Promise<void> {
    const bytes = new Uint8Array(WATERMARK_BYTES)
    const view = new DataView(bytes.buffer)
    view.setUint32(0, mark.baked)
    view.setUint32(4, mark.endorsed)
    await this.level.put(toHex(delegate), bytes)
  }
}
