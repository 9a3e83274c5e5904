import { type Command, InvalidArgumentError, Option } from 'commander'
import { resolve } from 'node:path'
import { devnetStatus, renderStatusTable } from '../runtime/devnet/status.ts'
import { readDevnetState, type DevnetNodeState, type DevnetState } from '../runtime/devnet/state.ts'
import { devnetAccounts, headLevel, injectDevnetTransfer, waitForInclusion } from '../runtime/devnet/transfer.ts'
import { DEVNET_OPERATION_KINDS, injectDevnetOperation, type DevnetOperationKind } from '../runtime/devnet/operations.ts'
import {
  injectDoubleBakingEvidence, injectDoubleEndorsementEvidence, injectEndorsement, injectSeedNonceRevelation, type InjectedConsensusOperation
} from '../runtime/devnet/consensus-operations.ts'
import { fromHex } from '../encoding/index.ts'
import { DevnetError, startDevnet, stopDevnet, type DevnetOptions, type RunningDevnet } from '../runtime/devnet/supervisor.ts'
import { onShutdownSignals } from '../runtime/signals.ts'

/** Default devnet ports: clear of Octez's 9732/8732 so a devnet and a node can run side by side. */
export const DEVNET_BASE_P2P_PORT = 19730
export const DEVNET_BASE_RPC_PORT = 18730
export const DEFAULT_DEVNET_DIR = '.devnet'

function integer (min: number, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`)
    return n
  }
}

function seconds (value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0.1 || n > 86400) throw new InvalidArgumentError('expected a number of seconds from 0.1 to 86400.')
  return n
}

const dirOption = (): Option => new Option('--dir <dir>', 'directory holding the nodes\' data dirs, logs and devnet.json').default(DEFAULT_DEVNET_DIR)

/** Adds the `up` options to a command (shared by `tzp2p devnet up` and `npm run devnet`). */
export function addDevnetUpOptions (command: Command): Command {
  return command
    .addOption(new Option('--nodes <n>', 'number of nodes').argParser(integer(1, 200)).default(5))
    .addOption(dirOption())
    .addOption(new Option('--bake-interval <seconds>', 'time between two blocks (node0 bakes)').argParser(seconds).default(2))
    .addOption(new Option('--base-p2p-port <port>', 'P2P port of node0; node i uses base + i (0: any free port)').argParser(integer(0, 65535)).default(DEVNET_BASE_P2P_PORT))
    .addOption(new Option('--base-rpc-port <port>', 'RPC port of node0; node i uses base + i (0: any free port)').argParser(integer(0, 65535)).default(DEVNET_BASE_RPC_PORT))
    .addOption(new Option('--protocol <name>', 'protocol of the chain').choices(['demo', 'accept-all']).default('demo'))
    .option('--activate <protocol@level>', 'node0 makes its block at level activate the protocol, e.g. demo-v2@20 (the nodes run demo v1 and v2)')
    .addOption(new Option('--bakers <n>', 'a chain of delegates: demo v3 from genesis, nodes 0 to n-1 each bake and endorse with their own delegate key (devnet accounts 0 to n-1)').argParser(integer(1, 8)))
    .addOption(new Option('--equivocate <node>', 'with --bakers: this node\'s delegate bakes two blocks at each level it bakes (double baking, to see evidence and slashing)').argParser(integer(0, 7)))
    .addOption(new Option('--double-endorse <node>', 'with --bakers: this node\'s delegate endorses every head, a second one at a level it endorsed included (double endorsement, to see evidence and slashing)').argParser(integer(0, 7)))
    .option('--net-namespaces', 'run each node in its own network namespace, linked by veth pairs to a bridge (Linux, root)')
    .option('--clean', 'remove the nodes\' data dirs first: a new chain from genesis')
    .option('--detach', 'start the nodes and return; stop them with `tzp2p devnet down`')
    .addOption(new Option('--log-level <level>', 'log level of the nodes (logs go to <dir>/nodeN/node.log)').default('info'))
}

interface UpOptions {
  nodes: number
  dir: string
  bakeInterval: number
  baseP2pPort: number
  baseRpcPort: number
  protocol: 'demo' | 'accept-all'
  activate?: string
  bakers?: number
  equivocate?: number
  doubleEndorse?: number
  netNamespaces?: boolean
  clean?: boolean
  detach?: boolean
  logLevel: string
}

/** `tzp2p devnet up|status|down`. */
export function registerDevnetCommands (program: Command): void {
  const devnet = program.command('devnet')
    .description('a local network of tzp2p nodes: N child processes, own data dirs, PoW 0, one baker, wired through a seed node')

  addDevnetUpOptions(devnet.command('up')
    .description('start the devnet, print each node\'s RPC URL and a status table; Ctrl-C stops every node'))
    .addHelpText('after', `
node0 is the seed and the only baker; every other node is given node0 as its one trusted peer
and finds the others through peer exchange. The chain is the devnet preset: the demo protocol
with well-known accounts (see the README), so transfers can be injected at once.

Examples:
  $ tzp2p devnet up --nodes 5                 # foreground; Ctrl-C stops it
  $ tzp2p devnet up --nodes 3 --detach && tzp2p devnet status && tzp2p devnet down
  $ sudo tzp2p devnet up --nodes 4 --net-namespaces`)
    .action(async (opts: UpOptions) => { await upCommand(opts) })

  devnet.command('status')
    .description('print the status table of the devnet (level, head, peers of each node)')
    .addOption(dirOption())
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { dir: string, json?: boolean }) => {
      const state = await readDevnetState(resolve(opts.dir))
      if (state === undefined) throw new DevnetError(`no devnet runs in ${resolve(opts.dir)} (start one with \`tzp2p devnet up\`)`)
      const rows = await devnetStatus(state)
      process.stdout.write(opts.json === true ? `${JSON.stringify(rows, null, 2)}\n` : renderStatusTable(rows))
    })

  devnet.command('transfer')
    .description('inject a transfer between two of the devnet\'s well-known accounts (the demo protocol\'s)')
    .requiredOption('--amount <n>', 'amount to transfer', parseAmount)
    .addOption(new Option('--from <i>', 'source account index').argParser(integer(0, 7)).default(0))
    .addOption(new Option('--to <j>', 'destination account index').argParser(integer(0, 7)).default(1))
    .addOption(new Option('--node <k>', 'node to inject through (default: the last one, so the operation travels by gossip to the baker)').argParser(integer(0, 199)))
    .option('--wait', 'wait until a block includes it')
    .addOption(dirOption())
    .action(async (opts: { amount: bigint, from: number, to: number, node?: number, wait?: boolean, dir: string }) => {
      const node = await devnetNode(opts.dir, opts.node)
      const level = await headLevel(node.rpc)
      const t = await injectDevnetTransfer({ rpc: node.rpc, from: opts.from, to: opts.to, amount: opts.amount })
      process.stdout.write(`injected ${t.hash} through ${node.name}: ${opts.amount} from account ${opts.from} (${t.source}) to account ${opts.to} (${t.destination}), counter ${t.counter}\n`)
      if (opts.wait === true) {
        const block = await waitForInclusion(node.rpc, t.hash, level + 1)
        process.stdout.write(`included in block ${block.level} ${block.hash}\n`)
      }
    })

  devnet.command('operation')
    .description('demo v3 devnets (--bakers): inject an operation of any kind: a manager operation signed by a well-known account, an activation of a fundraiser commitment, an endorsement by a delegate, a seed nonce revelation, or double baking / endorsement evidence')
    .argument('<kind>', `one of ${OPERATION_KINDS.join(', ')}`)
    .addOption(new Option('--from <i>', 'source account index; activation: the fundraiser index (0 to 3); endorsement: the delegate\'s account index').argParser(integer(0, 7)).default(0))
    .option('--to <j|KT1…>', 'transaction: destination account index or KT1 address (default 1)')
    .option('--amount <n>', 'transaction: amount; origination: the new contract\'s balance', parseAmount)
    .addOption(new Option('--delegate <j>', 'delegation, origination: the delegate\'s account index (delegation without it withdraws)').argParser(integer(0, 7)))
    .addOption(new Option('--level <L>', 'endorsement: the level endorsed (default: the head\'s); seed-nonce-revelation: the level whose nonce is revealed').argParser(integer(1, 0x7fffffff)))
    .addOption(new Option('--slot <s>', 'endorsement: the slot (default: the delegate\'s first slot at the level, from the endorsing rights RPC)').argParser(integer(0, 0xffff)))
    .option('--nonce <hex>', 'seed-nonce-revelation: the 32-byte nonce in hex (default: the committing devnet baker\'s)', parseNonce)
    .addOption(new Option('--block <hash>', 'double-baking-evidence: a block hash, given twice; endorsement: the branch, a block id such as head~1 (default: the block at --level)').argParser(collect))
    .addOption(new Option('--operation <hash>', 'double-endorsement-evidence: an endorsement\'s operation hash, given twice').argParser(collect))
    .addOption(new Option('--node <k>', 'node to inject through (default: the last one)').argParser(integer(0, 199)))
    .option('--wait', 'wait until a block includes it')
    .addOption(dirOption())
    .addHelpText('after', `
The genesis commits 4 fundraiser accounts (keys named tzp2p-devnet/fundraiser/<i>, each blinded
by a well-known secret); an activation carries fundraiser i's key hash and secret and credits its
balance.

The delegates' nodes inject endorsements, seed nonce revelations and evidence themselves; these
kinds inject them by hand, checked like the nodes' own (a slot already endorsed, a nonce already
revealed or an offence already denounced is refused with the node's reason):
  endorsement                  signed with delegate --from's key for the head (or --level's block,
                               or --block's); the mempool admits endorsements of the head's level
                               only, one per delegate
  seed-nonce-revelation        the nonce committed in block --level's seed_nonce_hash (shown by
                               GET /chains/main/blocks/<level> under metadata.protocol_data), revealed
                               during the next cycle. A devnet baker's nonces derive from its key,
                               so without --nonce the CLI finds the committing delegate's
  double-baking-evidence       two blocks of one level by one baker (hashes from
                               GET /chains/main/blocks/<level>/hash on nodes on either branch, or the
                               bh1/bh2 of evidence in a block, GET …/blocks/<level>/operations/2);
                               their headers are fetched from the devnet's nodes
  double-endorsement-evidence  two endorsements of one level by one delegate, found by hash in a
                               node's mempool (GET /chains/main/mempool/pending_operations) or its
                               last 48 blocks (GET /chains/main/blocks/<level>/operations/0)

Examples:
  $ tzp2p devnet operation reveal --from 5
  $ tzp2p devnet operation delegation --from 5 --delegate 0 --wait
  $ tzp2p devnet operation origination --from 0 --amount 1000 --delegate 1
  $ tzp2p devnet operation transaction --from 0 --to KT1… --amount 10
  $ tzp2p devnet operation activation --from 1 --wait
  $ tzp2p devnet operation endorsement --from 2 --node 2
  $ tzp2p devnet operation seed-nonce-revelation --level 20 --nonce 5a0c…
  $ tzp2p devnet operation double-baking-evidence --block BL… --block BM…
  $ tzp2p devnet operation double-endorsement-evidence --operation oo… --operation op…`)
    .action(async (kind: string, opts: OperationOptions) => {
      if (!(OPERATION_KINDS as readonly string[]).includes(kind)) throw new InvalidArgumentError(`<kind> must be one of ${OPERATION_KINDS.join(', ')}, got ${JSON.stringify(kind)}`)
      const state = await devnetState(opts.dir)
      const node = devnetNodeOf(state, opts.node)
      const level = await headLevel(node.rpc)
      let hash: string
      if ((DEVNET_OPERATION_KINDS as readonly string[]).includes(kind)) {
        const to = opts.to === undefined ? undefined : /^\d+$/.test(opts.to) ? Number(opts.to) : opts.to
        const op = await injectDevnetOperation({
          rpc: node.rpc,
          kind: kind as DevnetOperationKind,
          from: opts.from,
          ...(to === undefined ? {} : { to }),
          ...(opts.amount === undefined ? {} : { amount: opts.amount }),
          ...(opts.delegate === undefined ? {} : { delegate: opts.delegate })
        })
        hash = op.hash
        process.stdout.write(op.secret !== undefined
          ? `injected ${kind} ${op.hash} through ${node.name} for fundraiser ${opts.from} (${op.source}) with secret ${op.secret}\n`
          : `injected ${kind} ${op.hash} through ${node.name} from account ${opts.from} (${op.source}), counter ${op.counter}${op.originated === undefined ? '' : `, originating ${op.originated}`}\n`)
      } else {
        const op = await injectConsensusKind(kind as ConsensusKind, node.rpc, state.nodes.filter(n => n !== node).map(n => n.rpc), opts)
        hash = op.hash
        process.stdout.write(`injected ${kind} ${op.hash} through ${node.name}: ${op.summary}\n`)
      }
      if (opts.wait === true) {
        const block = await waitForInclusion(node.rpc, hash, level + 1)
        process.stdout.write(`included in block ${block.level} ${block.hash}\n`)
      }
    })

  devnet.command('accounts')
    .description('list the devnet\'s well-known accounts with their balances and counters')
    .addOption(new Option('--node <k>', 'node to ask').argParser(integer(0, 199)).default(0))
    .addOption(dirOption())
    .action(async (opts: { node: number, dir: string }) => {
      const node = await devnetNode(opts.dir, opts.node)
      for (const a of await devnetAccounts(node.rpc)) process.stdout.write(`${a.index}  ${a.address}  balance ${a.balance}  counter ${a.counter}\n`)
    })

  devnet.command('down')
    .description('stop every node of the devnet (cleanly: SIGTERM, then SIGKILL after 20 s) and remove its namespaces')
    .addOption(dirOption())
    .action(async (opts: { dir: string }) => {
      const report = await stopDevnet(opts.dir)
      for (const r of report) process.stdout.write(`${r.name}: ${r.result}\n`)
    })
}

function parseAmount (value: string): bigint {
  if (!/^[0-9]{1,18}$/.test(value) || BigInt(value) === 0n) throw new InvalidArgumentError('expected a positive whole number.')
  return BigInt(value)
}

async function devnetState (dir: string): Promise<DevnetState> {
  const state = await readDevnetState(resolve(dir))
  if (state === undefined) throw new DevnetError(`no devnet runs in ${resolve(dir)} (start one with \`tzp2p devnet up\`)`)
  return state
}

/** A node of the devnet (default: the last one). */
function devnetNodeOf (state: DevnetState, index: number | undefined): DevnetNodeState {
  const node = state.nodes[index ?? state.nodes.length - 1]
  if (node === undefined) throw new DevnetError(`--node ${index}: the devnet has nodes 0 to ${state.nodes.length - 1}`)
  return node
}

/** A node of the devnet in `dir` (default: the last one). */
async function devnetNode (dir: string, index: number | undefined): Promise<DevnetNodeState> {
  return devnetNodeOf(await devnetState(dir), index)
}

const CONSENSUS_KINDS = ['endorsement', 'seed-nonce-revelation', 'double-baking-evidence', 'double-endorsement-evidence'] as const
type ConsensusKind = typeof CONSENSUS_KINDS[number]
const OPERATION_KINDS = [...DEVNET_OPERATION_KINDS, ...CONSENSUS_KINDS]

interface OperationOptions {
  from: number, to?: string, amount?: bigint, delegate?: number, level?: number, slot?: number, nonce?: Uint8Array,
  block?: string[], operation?: string[], node?: number, wait?: boolean, dir: string
}

async function injectConsensusKind (kind: ConsensusKind, rpc: string, others: string[], opts: OperationOptions): Promise<InjectedConsensusOperation> {
  switch (kind) {
    case 'endorsement':
      if ((opts.block?.length ?? 0) > 1) throw new InvalidArgumentError('an endorsement takes at most one --block (its branch)')
      return await injectEndorsement({
        rpc,
        from: opts.from,
        ...(opts.level === undefined ? {} : { level: opts.level }),
        ...(opts.slot === undefined ? {} : { slot: opts.slot }),
        ...(opts.block?.[0] === undefined ? {} : { block: opts.block[0] })
      })
    case 'seed-nonce-revelation':
      if (opts.level === undefined) throw new InvalidArgumentError('a seed nonce revelation needs --level (the level whose block committed the nonce)')
      return await injectSeedNonceRevelation({ rpc, level: opts.level, ...(opts.nonce === undefined ? {} : { nonce: opts.nonce }) })
    case 'double-baking-evidence':
      return await injectDoubleBakingEvidence({ rpc, others, blocks: opts.block ?? [] })
    case 'double-endorsement-evidence':
      return await injectDoubleEndorsementEvidence({ rpc, others, operations: opts.operation ?? [] })
  }
}

function collect (value: string, previous: string[] | undefined): string[] {
  return [...previous ?? [], value]
}

function parseNonce (value: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError('expected 32 bytes in hex (64 hex digits).')
  return fromHex(value)
}

function printNodes (running: RunningDevnet): void {
  const lines = running.state.nodes.map(n => `  ${n.name.padEnd(7)} ${n.rpc.padEnd(26)} status page ${n.rpc}/${n.baker ? '   (seed, baker)' : ''}`)
  process.stdout.write(`RPC:\n${lines.join('\n')}\n`)
}

export async function upCommand (opts: UpOptions): Promise<void> {
  const options: DevnetOptions = {
    dir: opts.dir,
    nodes: opts.nodes,
    bakeInterval: opts.bakeInterval,
    baseP2pPort: opts.baseP2pPort,
    baseRpcPort: opts.baseRpcPort,
    protocol: opts.protocol,
    ...(opts.activate === undefined ? {} : { activate: opts.activate }),
    ...(opts.bakers === undefined ? {} : { bakers: opts.bakers }),
    ...(opts.equivocate === undefined ? {} : { equivocate: opts.equivocate }),
    ...(opts.doubleEndorse === undefined ? {} : { doubleEndorse: opts.doubleEndorse }),
    netNamespaces: opts.netNamespaces === true,
    clean: opts.clean === true,
    logLevel: opts.logLevel,
    onNode: n => { process.stderr.write(`${n.name} running: ${n.rpc} (p2p ${n.p2p}${n.namespace !== undefined ? `, namespace ${n.namespace}` : ''}, log ${n.logFile})\n`) }
  }
  process.stderr.write(`Starting a devnet of ${opts.nodes} node${opts.nodes === 1 ? '' : 's'} in ${resolve(opts.dir)}\n`)
  const running = await startDevnet(options)
  printNodes(running)
  process.stdout.write(renderStatusTable(await devnetStatus(running.state)))
  if (opts.detach === true) {
    process.stdout.write(`devnet up (detached): \`tzp2p devnet status --dir ${opts.dir}\`, \`tzp2p devnet down --dir ${opts.dir}\`\n`)
    return
  }
  process.stdout.write('devnet up: Ctrl-C stops every node\n')
  await superviseDevnet(running, opts.dir)
}

/**
 * The foreground `up`: redraws the table on a terminal, reports nodes that exit, and stops them
 * all on the first Ctrl-C (a second one kills them). Returns once every node has exited, which
 * also happens when `tzp2p devnet down` is run from another shell.
 */
async function superviseDevnet (running: RunningDevnet, dir: string): Promise<void> {
  const live = process.stdout.isTTY === true
  let stopping = false
  let remaining = running.children.length
  const allExited = Promise.withResolvers<void>()
  for (const [i, child] of running.children.entries()) {
    const name = running.state.nodes[i]?.name ?? `node${i}`
    child.on('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`${name} exited (${code ?? signal}); see ${running.state.nodes[i]?.logFile}\n`)
      if (--remaining === 0) allExited.resolve()
    })
    // Keep this process alive while it supervises (the children were unref'd for --detach).
    child.ref()
  }
  let lines = 0
  const timer = live
    ? setInterval(() => {
      void devnetStatus(running.state).then(rows => {
        if (stopping) return
        const table = renderStatusTable(rows)
        // Redraw in place: up over the previous table, clear to the end of the screen.
        process.stdout.write(`${lines > 0 ? `\x1b[${lines}A\x1b[J` : ''}${table}`)
        lines = table.split('\n').length - 1
      })
    }, 2000)
    : undefined
  let stopped: Promise<void> = Promise.resolve()
  const removeHandlers = onShutdownSignals(signal => {
    stopping = true
    process.stderr.write(`${signal}: stopping the devnet (again to kill the nodes at once)\n`)
    stopped = stopDevnet(dir).then(report => {
      for (const r of report) process.stdout.write(`${r.name}: ${r.result}\n`)
      process.stdout.write('devnet stopped\n')
    }, (e: Error) => {
      process.stderr.write(`tzp2p: ${e.message}\n`)
      process.exitCode = 1
    })
  }, {
    onForce: () => { for (const c of running.children) c.kill('SIGKILL') }
  })
  await allExited.promise
  if (timer !== undefined) clearInterval(timer)
  // Namespaces and the state file go after the nodes.
  await stopped
  removeHandlers()
  if (!stopping) {
    // Stopped from outside (`devnet down`): its state is already gone.
    stopping = true
    process.stdout.write('devnet stopped\n')
  }
}
