/**
 * Imported for its effect: bounds V8's young generation (young-generation.ts) as soon as it is
 * evaluated. A program imports it before anything else (the `tzp2p` launcher, bin/tzp2p.js),
 * because loading and type-stripping hundreds of modules allocates enough to grow the young
 * generation, and V8 does not shrink it back.
 */
import { boundYoungGeneration } from './young-generation.ts'

boundYoungGeneration()
