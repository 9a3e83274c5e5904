import { setFlagsFromString } from 'node:v8'

/**
 * Keeps V8's young generation at its initial size (1 MiB per semi-space) for the rest of the
 * process, instead of letting it grow to its default maximum (32–64 MiB per semi-space on a
 * 64-bit machine with a few GiB of memory).
 *
 * Why: with many peers a node allocates fast, V8 grows the young generation to its maximum and
 * keeps it committed (115 MiB resident and empty after a full GC in `npm run bench:peers`, 50
 * peers), and the longer time between scavenges lets short-lived buffers' native backing stores
 * (socket reads, Noise frames) pile up in malloc's heap, which does not shrink back: together
 * about 2.2 MiB of RSS per peer at 50 peers. Bounded, the same run costs 0.75 MiB per peer and
 * no more CPU per head (docs/profiles.md, "Memory per peer").
 *
 * Process-wide, so the `tzp2p` program calls it (src/node/memory-settings.ts), not `createNode`: a
 * program embedding the node chooses for itself (this, or `node --max-semi-space-size=1`). Only
 * growth can be changed once V8 is running (`--max-semi-space-size` is read when the heap is set
 * up); call it early.
 */
export function boundYoungGeneration (): void {
  setFlagsFromString('--semi-space-growth-factor=1')
}
