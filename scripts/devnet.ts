/**
 * `npm run devnet -- --nodes 5`: a local devnet in the foreground (Ctrl-C stops it), i.e.
 * `tzp2p devnet up …`. `npm run devnet -- status|down|transfer|accounts` work as well.
 */
import { Command } from 'commander'
import { registerDevnetCommands } from '../src/cli/devnet.ts'

const program = new Command('npm run').showHelpAfterError('(add --help for usage)')
registerDevnetCommands(program)
// Help prints each command's path from the root: `npm run` + `devnet --` + `transfer` is how
// these commands are typed here.
const devnet = program.commands.find(c => c.name() === 'devnet')
if (devnet === undefined) throw new Error('registerDevnetCommands registered no devnet command')
devnet.name('devnet --')
const args = process.argv.slice(2)
const sub = ['up', 'status', 'down', 'transfer', 'accounts', 'help', '--help', '-h'].includes(args[0] ?? '') ? [] : ['up']
try {
  await program.parseAsync([devnet.name(), ...sub, ...args], { from: 'user' })
} catch (e) {
  process.stderr.write(`tzp2p: ${(e as Error).message}\n`)
  process.exitCode = 1
}
