/**
 * The bounds Octez's shell enforces on a block's operations without running the economic
 * protocol. In Octez they come from the protocol (`Proto.validation_passes`,
 * `Proto.max_operation_data_length`, `max_operations_ttl`) and the shell checks them in
 * `src/lib_validation/block_validation.ml` (`check_operation_quota`, `parse`) and
 * `check_liveness`. A shell-only node cannot ask the protocol, so it uses the values of the
 * current Tezos protocol, Tallinn (`src/proto_024_PtTALLiN/lib_protocol/main.ml`,
 * `constants_repr.ml`, `lib_parameters/default_parameters.ml`); Ushuaia
 * (`src/proto_025_PsUshuai`) keeps the same values.
 */

/** Tezos blocks carry 4 operation lists: consensus, voting, anonymous, manager. */
export const TEZOS_VALIDATION_PASSES = 4

/**
 * Octez's genesis protocols (`src/proto_000_Ps9mPmXa`, mainnet's and ghostnet's, and
 * `src/proto_genesis`) have no validation pass (`validation_passes = []`): the block they
 * validate, the one at level 1 that activates the first real protocol, carries no operation list.
 */
export const OCTEZ_GENESIS_PROTOCOLS: ReadonlySet<string> = new Set([
  'Ps9mPmXaRzmzk35gbAYNCAw6UXdE2qoABTHbN2oEEc1qM7CwT9P',
  'ProtoGenesisGenesisGenesisGenesisGenesisGenesk612im'
])

/** `Constants_repr.max_operation_data_length`: an operation (branch + data) is at most 32 KiB. */
export const MAX_OPERATION_DATA_LENGTH = 32 * 1024

/** `Constants_repr.max_anon_ops_per_block`. */
const MAX_ANON_OPS_PER_BLOCK = 132

/**
 * `Main.validation_passes`: per pass, at most `maxOp` operations (null: no bound). `maxSize` is
 * the protocol's own bound on a pass's bytes; Octez's shell does not check it (only bakers and
 * the protocol do), and neither does tzp2p, but it is kept here for the record.
 */
export const TEZOS_PASS_QUOTAS: ReadonlyArray<{ maxOp: number | null, maxSize: number }> = [
  { maxOp: 2048, maxSize: 2048 * 2048 },
  { maxOp: null, maxSize: 32 * 1024 },
  { maxOp: MAX_ANON_OPS_PER_BLOCK, maxSize: MAX_ANON_OPS_PER_BLOCK * 1024 },
  { maxOp: null, maxSize: 512 * 1024 }
]

/**
 * `max_operations_time_to_live` of Tallinn's parameters: an operation is live for 600 blocks
 * (an hour at 6 s per block).
 */
export const TEZOS_MAX_OPERATIONS_TTL = 600
