/**
 * Imported for its effect: the process-wide memory settings of a node with many peers, applied as
 * soon as it is evaluated. A program imports it before anything else (the `tzp2p` launcher,
 * bin/tzp2p.js), because loading and type-stripping hundreds of modules allocates enough to grow
 * the young generation, and V8 does not shrink it back.
 *
 * - V8's young generation stays at its initial size (young-generation.ts);
 * - `Buffer.allocUnsafe` cuts small buffers from 8 KiB slabs, not 64 KiB ones (buffer-pool.ts);
 * - libp2p's event targets keep each listener in Node's table only, not in a second one of
 *   main-event's (lean-event-targets.ts); before any libp2p object exists, as it must be;
 * - V8 keeps less room above the live heap: its memory saver mode (heap-headroom.ts), unless
 *   `TZP2P_MEMORY_SAVER=0` is in the environment: it costs CPU (more full GCs), which a node with
 *   few peers and busy cores may prefer to spend on blocks.
 */
import { boundBufferPool } from './buffer-pool.ts'
import { saveHeapMemory } from './heap-headroom.ts'
import { leanEventTargets } from './lean-event-targets.ts'
import { boundYoungGeneration } from './young-generation.ts'

boundYoungGeneration()
boundBufferPool()
/** Why libp2p's event targets keep main-event's listener table (another main-event version), or undefined. */
export const leanEventTargetsSkipped = leanEventTargets()
/** Whether this process runs V8's memory saver mode (off with `TZP2P_MEMORY_SAVER=0`). */
export const memorySaver = process.env.TZP2P_MEMORY_SAVER !== '0'
if (memorySaver) saveHeapMemory()
