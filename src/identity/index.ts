export {
  type Identity, type CheckIdentityOptions, peerIdOfPublicKey, peerIdHashOfPublicKey, makeIdentity, checkIdentity,
  PUBLIC_KEY_BYTES, SECRET_KEY_BYTES, PEER_ID_HASH_BYTES
} from './identity.ts'
export {
  IdentityFileError, IdentityMismatchError, IdentityKeysMismatchError, InsufficientProofOfWorkError,
  type IdentityFileProblem
} from './errors.ts'
export {
  type IdentityJson, identityToJson, identityFromJson, parseIdentityJson, formatIdentityJson, identityCodec, identityEncoding
} from './identity-json.ts'
export {
  IDENTITY_FILE_NAME, identityFilePath, loadIdentity, saveIdentity, type LoadIdentityOptions, type SaveIdentityOptions
} from './identity-file.ts'
export {
  LIBP2P_KEY_FILE_NAME, Libp2pKeyFileError, libp2pKeyPath, createLibp2pKey, loadLibp2pKey, saveLibp2pKey,
  loadOrCreateNodeKeys, type NodeKeys, type LoadOrCreateNodeKeysOptions
} from './node-keys.ts'
export {
  generateIdentity, searchProofOfWork, PowSearchAbortedError, PowWorkerError, PowSearchOptionsError,
  type GenerateIdentityOptions, type PowSearchOptions, type PowSearchResult, type PowProgress
} from './pow-search.ts'
export {
  makePowTarget, checkProofOfWork, powHash, powDifficultyOf, powDifficultyFloor, formatPowDifficulty, expectedPowAttempts, leBytesToBigInt,
  InvalidDifficultyError, POW_STAMP_BYTES, DEFAULT_EXPECTED_POW
} from './pow.ts'
export { DEFAULT_DATA_DIR_NAME, DATA_DIR_ENV, resolveDataDir } from './data-dir.ts'
