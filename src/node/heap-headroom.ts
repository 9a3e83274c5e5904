import { setFlagsFromString } from 'node:v8'

/**
 * Turns on V8's memory saver mode for the rest of the process: V8 lets its heap grow less above
 * what is live before a full GC, and gives freed pages back sooner.
 *
 * Why: with the young generation bounded (young-generation.ts), what is left of a node's RSS per
 * peer is mostly the room V8 keeps above the live heap. At 200 peers the live heap is about
 * 37 MiB; between full GCs V8 let it reach about 80 MiB during the connection burst and the
 * catch-up sync, and kept those pages resident afterwards (a forced full GC does not return
 * them). `npm run bench:peers` at 200 peers measured 279–443 KiB of RSS per peer over the
 * baseline without this mode and 123–130 KiB with it, flat over the run (docs/profiles.md,
 * "bench:peers: the buffer pool, ping streams, a release after bursts"). The price is more
 * full GCs: 17 % more CPU per head at 60 peers (129 ms against 110 ms, both runs side by side on
 * the same machine).
 *
 * Process-wide, so the `tzp2p` program calls it (src/node/memory-settings.ts), not `createNode`:
 * a program embedding the node chooses for itself (this, or `node --memory-saver-mode`). V8 reads
 * the setting at each GC decision, so it can be set at any time.
 */
export function saveHeapMemory (): void {
  setFlagsFromString('--memory-saver-mode')
}
