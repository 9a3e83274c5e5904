/**
 * A `tzp2p`-like program holding only the config commands, with the same one-line error handling
 * as `src/cli/main.ts`, so the commands are tested as a real process.
 */
import { Command } from 'commander'
import { registerConfigCommands } from '../../src/cli/config.ts'

const program = new Command('tzp2p').showHelpAfterError('(add --help for usage)')
registerConfigCommands(program)
try {
  await program.parseAsync(process.argv)
} catch (e) {
  process.stderr.write(`tzp2p: ${(e as Error).message}\n`)
  process.exitCode = 1
}
