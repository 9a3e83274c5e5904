/**
 * The node's configuration: the config file (Octez key names), the `tzp2p run` flags, defaults,
 * validation with messages naming the bad key or flag, and the rendered reference.
 */
export { loadConfig, resolveConfig, readConfigFile, parseConfigText, applyOverrides, CONFIG_FILE_NAME, MAX_CONFIG_FILE_BYTES, type LoadConfigOptions, type ResolveConfigOptions } from './load.ts'
export type {
  NodeConfig, NetworkConfig, P2pConfig, ShellConfig, RpcConfig, ProtocolConfig, DemoParametersConfig, AcceptAllParametersConfig,
  BootstrapAccountConfig, BakerConfig, LogConfig, LogLevel, ProtocolName
} from './node-config.ts'
export { ConfigError, ConfigFileError, formatProblem, closestNames, editDistance, type ConfigProblem } from './errors.ts'
export {
  RUN_FLAGS, registerRunOptions, flagsToConfigOverrides, flagName, flagAttribute, flagDefaultText,
  type RunFlagSpec, type FlagKind, type ConfigOverrides
} from './flags.ts'
export { SETTINGS, SETTINGS_BY_KEY, type SettingSpec } from './settings.ts'
export { configFileSchema, protocolParametersSchema } from './schema.ts'
export { defaultConfigJson } from './defaults.ts'
export { configToJson, pointText, type ConfigToJsonOptions } from './to-json.ts'
export { renderConfigReference, flagsForKey } from './reference.ts'
export { genesisFor, loadBakerKey, type ResolvedGenesis } from './runtime-checks.ts'
export { parseHostPort, formatHostPort, hostPortToMultiaddr, isLoopback, InvalidAddressError, type HostPort } from './addresses.ts'
export {
  NETWORK_PRESET_NAMES, networkPreset, devnetBakerKeypair, devnetAccountKeypairs, devnetGenesisBlock, devnetAccountName,
  DEVNET_BAKER_NAME, DEVNET_ACCOUNT_COUNT, DEVNET_ACCOUNT_BALANCE, DEVNET_GENESIS_TIMESTAMP, type NetworkPresetName
} from './presets.ts'
export { DEFAULT_RPC_PORT, DEFAULT_METRICS_PORT, LOG_LEVELS, PROTOCOL_NAMES } from './values.ts'
