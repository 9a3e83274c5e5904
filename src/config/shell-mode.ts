import type { ConfigProblem } from './errors.ts'
import type { NetworkConfig } from './node-config.ts'
import { TEZOS_NETWORK_PRESETS } from './presets.ts'
import type { ProtocolName } from './values.ts'

/**
 * The settings that only make sense together with `--protocol shell`: a Tezos network (tzp2p
 * cannot run Tezos's economic protocol), a checkpoint (other protocols need the state below it),
 * and a genesis protocol named explicitly (the shell follows whatever chain it names); and the one
 * that does not (the shell cannot bake).
 */
export function shellModeProblems (
  c: { network: NetworkConfig, protocol: ProtocolName, checkpoint: string | null, baking: boolean },
  flagOf: (key: string) => { flag?: string }
): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const shell = c.protocol === 'shell'
  const preset = c.network.preset
  if (!shell && preset !== null && TEZOS_NETWORK_PRESETS.includes(preset)) {
    problems.push({
      key: 'network',
      ...flagOf('network'),
      message: `"${preset}" needs --protocol shell: tzp2p cannot run Tezos's economic protocol, only follow the chain with the shell's checks`,
      hint: 'add --protocol shell (protocol.name "shell"), best with a recent --checkpoint'
    })
  }
  if (!shell && c.checkpoint !== null) {
    problems.push({
      key: 'shell.checkpoint',
      ...flagOf('shell.checkpoint'),
      message: `needs --protocol shell: the ${c.protocol} protocol needs the state below the checkpoint`,
      hint: 'add --protocol shell, or drop --checkpoint'
    })
  }
  if (shell && c.network.genesis.protocol === null) {
    problems.push({
      key: 'network.genesis.protocol',
      message: 'missing: --protocol shell follows the chain whose genesis protocol the network names',
      hint: 'set network.genesis.protocol to that chain\'s genesis protocol hash (P…), or use --network mainnet|ghostnet'
    })
  }
  if (shell && c.baking) {
    problems.push({
      key: 'baker.enabled',
      ...flagOf('baker.enabled'),
      message: 'the shell protocol cannot bake: it has no economic protocol',
      hint: 'drop --baker'
    })
  }
  return problems
}
