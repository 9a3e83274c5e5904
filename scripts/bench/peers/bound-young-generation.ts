/**
 * Imported first by measured-node.ts, so that the young generation is bounded before the rest
 * of its imports are even evaluated (loading and type-stripping hundreds of modules allocates
 * enough to grow it, and V8 does not shrink it back). The `tzp2p` program bounds it too
 * (src/cli/run.ts).
 */
import { boundYoungGeneration } from '../../../src/node/young-generation.ts'

boundYoungGeneration()
