import type { Command } from 'commander'
import { loadConfig, registerRunOptions, type NodeConfig } from '../config/index.ts'
import { expectedPowAttempts, makePowTarget, PowSearchAbortedError } from '../identity/index.ts'
import { createNodeLogger, type NodeLogger } from '../runtime/logger.ts'
import { startNodeRuntime, type NodeRuntime } from '../runtime/node-runtime.ts'
import { onShutdownSignals, SIGNAL_EXIT_CODES, type ShutdownSignal } from '../runtime/signals.ts'
import { createProgressLine, formatCount, formatPowProgress } from './progress.ts'

/** `run` was interrupted before the node started (during identity generation). */
export class RunInterruptedError extends Error {
  override readonly name = 'RunInterruptedError'
  readonly exitCode: number
  constructor (signal: ShutdownSignal) {
    super(`interrupted by ${signal} before the node started: no identity was written`)
    this.exitCode = SIGNAL_EXIT_CODES[signal]
  }
}

/** `tzp2p run`: a long-lived node, as `octez-node run`. */
export function registerRunCommand (program: Command): void {
  registerRunOptions(program.command('run')
    .description('run a node: P2P on libp2p, the chain, the HTTP RPC and status page; Ctrl-C stops it cleanly'))
    .addHelpText('after', `
Settings come from the defaults, then the config file (<data-dir>/config.json, or --config-file),
then these options. On the first run the identity is generated at --expected-pow (default 26:
minutes on one core; devnets use 0). The RPC and status page listen on 127.0.0.1:8732 unless
--rpc-addr says otherwise. On an address other than loopback the RPC serves only public reads and
injection, unless rpc.acl or --allow-all-rpc opens more (as Octez).

A first Ctrl-C (or SIGTERM) closes the peers, flushes the store and exits with 0; a second one
exits at once (130 for SIGINT, 143 for SIGTERM).

Examples:
  $ tzp2p run --data-dir ./node1 --expected-pow 0 --net-addr 127.0.0.1:9733 --rpc-addr 127.0.0.1:8733
  $ tzp2p run --data-dir ./node2 --expected-pow 0 --net-addr 127.0.0.1:9734 --rpc-addr 127.0.0.1:8734 --peer 127.0.0.1:9733
  $ tzp2p run --config-file ./node.json --baker`)
    .action(async (opts: Record<string, unknown>) => { await runCommand(opts) })
}

async function runCommand (opts: Record<string, unknown>): Promise<void> {
  const config = await loadConfig({ cliFlags: opts })
  const log = createNodeLogger(config.log)
  const { logger } = log
  for (const warning of config.warnings) logger.warn(warning)

  const abort = new AbortController()
  let runtime: NodeRuntime | undefined
  let signal: ShutdownSignal | undefined
  const finished = Promise.withResolvers<void>()
  const stop = (s: ShutdownSignal): void => {
    signal = s
    logger.info({ signal: s }, 'shutting down (send the signal again to exit at once)')
    abort.abort()
    if (runtime !== undefined) void stopRuntime(runtime, log).then(finished.resolve)
  }
  // The store cannot be written (disk full, read-only): stop cleanly and exit with an error.
  let failed = false
  const fail = (error: Error): void => {
    if (failed) return
    failed = true
    process.exitCode = 1
    process.stderr.write(`tzp2p: ${error.message}; stopping\n`)
    abort.abort()
    if (runtime !== undefined && signal === undefined) void stopRuntime(runtime, log).then(finished.resolve)
  }
  const removeHandlers = onShutdownSignals(stop, {
    onForce: s => { process.stderr.write(`tzp2p: ${s} again: exiting now\n`) }
  })

  const line = createProgressLine()
  try {
    runtime = await startNodeRuntime(config, {
      logger,
      signal: abort.signal,
      onIdentityGeneration: difficulty => {
        const expected = expectedPowAttempts(makePowTarget(difficulty))
        process.stderr.write(`No identity in ${config.dataDir}: generating one with proof-of-work difficulty ${difficulty} ` +
          `(~${formatCount(expected)} attempts on average); Ctrl-C to stop\n`)
      },
      onPowProgress: p => { line.update(formatPowProgress(p)) },
      onIdentityReady: () => { line.clear() },
      onFatal: fail
    })
  } catch (e) {
    removeHandlers()
    await log.flush()
    if (e instanceof PowSearchAbortedError && signal !== undefined) throw new RunInterruptedError(signal)
    throw e
  } finally {
    line.clear()
  }
  if (signal !== undefined || failed) {
    // A signal or a store failure arrived while the node was starting: stop it now that it can be stopped.
    void stopRuntime(runtime, log).then(finished.resolve)
  } else {
    printBanner(runtime, config)
    logger.info({
      peerId: runtime.node.identity.peerId,
      libp2pPeerId: runtime.node.peerId.toString(),
      addresses: runtime.node.getMultiaddrs().map(String),
      ...(runtime.node.octez?.listenAddress === undefined ? {} : { octezAddress: formatOctezListen(runtime.node.octez.listenAddress) }),
      rpc: runtime.rpc?.urls ?? []
    }, 'node running')
  }
  // The process lives on the node's sockets and timers until a signal stops it.
  await finished.promise
  removeHandlers()
}

async function stopRuntime (runtime: NodeRuntime, log: NodeLogger): Promise<void> {
  try {
    await runtime.stop()
    log.logger.info('node stopped cleanly')
  } catch (e) {
    log.logger.error({ err: (e as Error).message }, 'error while stopping')
    process.exitCode = 1
  }
  await log.flush()
}

function formatOctezListen (a: { host: string, port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

function printBanner (runtime: NodeRuntime, config: NodeConfig): void {
  const { node, rpc } = runtime
  const lines = [
    `tzp2p node ${node.identity.peerId} (libp2p ${node.peerId.toString()})`,
    `  chain      ${config.network.chainName}, protocol ${config.protocol.name}${config.baker.enabled ? ', baking' : ''}`,
    `  data dir   ${config.dataDir}`,
    ...(config.shell.checkpoint === null ? [] : [`  checkpoint ${config.shell.checkpoint} (the chain starts there)`]),
    ...node.getMultiaddrs().map((a, i) => `  ${i === 0 ? 'listening' : '         '}  ${a.toString()}`),
    ...(node.octez?.listenAddress === undefined ? [] : [`  octez wire ${formatOctezListen(node.octez.listenAddress)}  (raw TCP, as octez-node)`]),
    ...(rpc?.urls ?? []).map((u, i) => `  ${i === 0 ? 'RPC' : '   '}        ${u}  (status page: ${u}/)`),
    ...(rpc?.metricsUrls ?? []).map(u => `  metrics    ${u}/metrics`)
  ]
  process.stderr.write(`${lines.join('\n')}\n`)
}
