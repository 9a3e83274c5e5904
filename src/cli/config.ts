import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { Command } from 'commander'
import {
  CONFIG_FILE_NAME, configToJson, flagsToConfigOverrides, loadConfig, registerRunOptions,
  renderConfigReference, resolveConfig, type NodeConfig
} from '../config/index.ts'

/**
 * `tzp2p config init|show|validate|reference`, as `octez-node config …`: `init` writes a
 * config.json holding the settings given as options, `show` prints the configuration the node
 * would run with, `validate` checks it. Each takes every `tzp2p run` option, so a command line
 * can be checked before it is run.
 */
export function registerConfigCommands (program: Command): void {
  const config = program.command('config')
    .description(`manage the node configuration (${CONFIG_FILE_NAME} in the data dir, Octez key names)`)

  registerRunOptions(config.command('init')
    .description(`write a ${CONFIG_FILE_NAME} holding the settings given as options (only those that differ from the defaults)`)
    .option('--force', 'replace an existing config file'))
    .addHelpText('after', `
Writes <data-dir>/${CONFIG_FILE_NAME}, or the file named by --config-file. An existing file is kept
unless --force is given.

Examples:
  $ tzp2p config init --data-dir ./node1 --net-addr 127.0.0.1:9733 --rpc-addr 127.0.0.1:8733 --expected-pow 0
  $ tzp2p run --data-dir ./node1`)
    .action(async (opts: Record<string, unknown>) => { await initCommand(opts) })

  registerRunOptions(config.command('show')
    .description('print the configuration the node would run with (defaults < config file < options) as a config file')
    .option('--changed', 'print only the settings that differ from the defaults'))
    .action(async (opts: Record<string, unknown>) => {
      const resolved = await loadConfig({ cliFlags: opts })
      printWarnings(resolved)
      process.stdout.write(`${JSON.stringify(configToJson(resolved, { omitDefaults: opts.changed === true }), null, 2)}\n`)
    })

  registerRunOptions(config.command('validate')
    .description('check the config file and options; exits with 1 naming every bad key or option'))
    .action(async (opts: Record<string, unknown>) => {
      const resolved = await loadConfig({ cliFlags: opts })
      printWarnings(resolved)
      const source = resolved.configFile !== null ? resolved.configFile : 'no config file (defaults and options)'
      process.stdout.write(`OK: ${source}: valid configuration for chain ${resolved.network.chainName}, data dir ${resolved.dataDir}\n`)
    })

  config.command('reference')
    .description('print the reference of every config key and run option (markdown)')
    .action(() => { process.stdout.write(renderConfigReference()) })
}

/** `config init` would overwrite a config file. */
export class ConfigFileExistsError extends Error {
  override readonly name = 'ConfigFileExistsError'
  readonly file: string
  constructor (file: string) {
    super(`${file} already exists: edit it, check it with \`tzp2p config validate\`, or pass --force to replace it`)
    this.file = file
  }
}

function printWarnings (config: NodeConfig): void {
  for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`)
}

async function initCommand (opts: Record<string, unknown>): Promise<void> {
  const overrides = flagsToConfigOverrides(opts)
  // The settings come from the options alone: an existing file is replaced, never merged.
  const config = resolveConfig({}, overrides)
  const file = overrides.configFile !== undefined ? resolve(overrides.configFile) : join(config.dataDir, CONFIG_FILE_NAME)
  printWarnings(config)
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  const text = `${JSON.stringify(configToJson(config, { omitDefaults: true }), null, 2)}\n`
  try {
    await writeFile(file, text, { flag: opts.force === true ? 'w' : 'wx' })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    throw new ConfigFileExistsError(file)
  }
  process.stdout.write(`Wrote ${file}\n`)
}
