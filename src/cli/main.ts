/**
 * The `tzp2p` program: builds the commander program, lets each command group register itself,
 * and turns any failure into one line on stderr with exit code 1 (a stack trace only with
 * TZP2P_DEBUG=1), so that user errors never look like crashes.
 */
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { registerIdentityCommands } from './identity.ts'
import { registerCodecCommands } from './codec.ts'
import { registerConfigCommands } from './config.ts'
import { registerRunCommand } from './run.ts'
import { registerDevnetCommands } from './devnet.ts'

// ../../package.json from both src/cli/main.ts and dist/cli/main.js.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

const program = new Command('tzp2p')
  .description('The Tezos peer-to-peer layer on libp2p: PoW identities, the Tezos handshake, gossip and bootstrap sync')
  .version(version, '-V, --version', 'print the tzp2p version')
  .showHelpAfterError('(add --help for usage)')

// Command groups, one module each: identity (generate|show|check); codec (decode|encode), run and
// devnet register themselves here the same way.
registerIdentityCommands(program)
registerCodecCommands(program)
registerConfigCommands(program)
registerRunCommand(program)
registerDevnetCommands(program)

try {
  await program.parseAsync(process.argv)
} catch (e) {
  const error = e instanceof Error ? e : new Error(String(e))
  process.stderr.write(`tzp2p: ${error.message}\n`)
  if (process.env.TZP2P_DEBUG === '1' && error.stack !== undefined) process.stderr.write(`${error.stack}\n`)
  const code = (error as { exitCode?: unknown }).exitCode
  process.exitCode = typeof code === 'number' ? code : 1
}
