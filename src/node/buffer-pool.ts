import { Buffer } from 'node:buffer'

/** Node's `Buffer.poolSize` before Node 24 raised it to 64 KiB; what a node with many peers runs with. */
export const NODE_BUFFER_POOL_SIZE = 8 * 1024

/**
 * Sets the size of the slabs `Buffer.allocUnsafe` carves small buffers from (`Buffer.poolSize`,
 * 64 KiB by default since Node 24, 8 KiB before).
 *
 * Why: a slab is freed only once every buffer cut from it is garbage, so one small buffer that
 * lives as long as a connection keeps its whole slab. libp2p keeps several per peer: the remote
 * peer id's multihash (encoded by protons through `allocUnsafe`), its peer-store record. With
 * 64 KiB slabs, heap snapshots of `npm run bench:peers` showed 20 slabs kept by 60 peers: array
 * buffers of 20–22 KiB per peer, 7–8 KiB with 8 KiB slabs (docs/profiles.md, "bench:peers: the
 * buffer pool, ping streams, a release after bursts").
 *
 * Process-wide, so the `tzp2p` program calls it (src/node/memory-settings.ts), not `createNode`:
 * a program embedding the node chooses for itself. It applies to slabs cut after the call.
 */
export function boundBufferPool (size: number = NODE_BUFFER_POOL_SIZE): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`buffer pool size must be a non-negative integer, got ${size}`)
  Buffer.poolSize = size
}
