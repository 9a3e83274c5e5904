/**
 * The pure part of the gossip benchmark's emulated network: what `--link-delay`, `--loss`,
 * `--link-emulation` and `--net-namespaces` ask for, the `tc netem` command that shapes one node's
 * link, and a subnet for the namespaces that no interface of this host already uses. The commands
 * themselves run in ./network.ts (netem) and ./relay-network.ts (userspace relays).
 */

export class LinkShapingError extends Error {
  override readonly name = 'LinkShapingError'
}

/** How the benchmark's nodes reach each other. */
export interface LinkShaping {
  /** Each node in its own network namespace on a bridge (else all on 127.0.0.1). */
  namespaces: boolean
  /** One-way delay (ms) netem adds to every packet a node sends; 0: none. */
  delayMs: number
  /** Percent of the packets a node sends that netem drops; 0: none. */
  lossPercent: number
  /**
   * Every edge through a userspace TCP relay on loopback that delays each direction by `delayMs`
   * (`--link-emulation proxy`) instead of netem in namespaces; `namespaces` is then false.
   */
  proxy: boolean
}

/** The values of `--link-emulation`. */
export const LINK_EMULATIONS = ['netem', 'proxy'] as const

/** The most `--link-delay` takes: beyond this the benchmark's deadlines (tens of seconds) no longer mean anything. */
export const MAX_LINK_DELAY_MS = 2_000
/** The most `--loss` takes: beyond this TCP spends its time in retransmission back-off. */
export const MAX_LOSS_PERCENT = 50

function number (option: string, text: string, max: number): number {
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) {
    throw new LinkShapingError(`--${option} must be a number from 0 to ${max}, got ${JSON.stringify(text)}`)
  }
  return n
}

/**
 * The shaping the options ask for. With netem (the default), a delay or a loss needs namespaces
 * (netem on loopback would slow every node's loopback traffic alike, the harness's own included),
 * so either implies them. The proxy emulation needs `--link-delay` (0 included: the relays alone)
 * and refuses `--loss` (a relay sits between two TCP connections and cannot lose a segment: TCP
 * would never see it missing) and `--net-namespaces` (the relays run on loopback).
 */
export function parseLinkShaping (options: { linkDelay?: string, loss?: string, netNamespaces?: boolean, linkEmulation?: string }): LinkShaping {
  const delayMs = options.linkDelay === undefined ? 0 : number('link-delay', options.linkDelay, MAX_LINK_DELAY_MS)
  const lossPercent = options.loss === undefined ? 0 : number('loss', options.loss, MAX_LOSS_PERCENT)
  const emulation = options.linkEmulation ?? 'netem'
  if (!(LINK_EMULATIONS as readonly string[]).includes(emulation)) {
    throw new LinkShapingError(`--link-emulation must be ${LINK_EMULATIONS.join(' or ')}, got ${JSON.stringify(emulation)}`)
  }
  if (emulation === 'proxy') {
    if (options.linkDelay === undefined) throw new LinkShapingError('--link-emulation proxy needs --link-delay <ms> (0: the relays without delay)')
    if (options.loss !== undefined) {
      throw new LinkShapingError('--loss needs --link-emulation netem: the proxy relays TCP streams and cannot drop packets (TCP would never see them missing)')
    }
    if (options.netNamespaces === true) throw new LinkShapingError('--link-emulation proxy runs on loopback: drop --net-namespaces')
    return { namespaces: false, delayMs, lossPercent: 0, proxy: true }
  }
  return { namespaces: options.netNamespaces === true || delayMs > 0 || lossPercent > 0, delayMs, lossPercent, proxy: false }
}

/** Whether netem has anything to do. */
export function shapesLinks (s: LinkShaping): boolean {
  return !s.proxy && (s.delayMs > 0 || s.lossPercent > 0)
}

/**
 * `tc` arguments that put netem on `device` inside `namespace`, as the root qdisc of the node's
 * end of its veth: every packet the node sends crosses it once, and nothing else does, so the
 * one-way delay between any two nodes is `delayMs` and a round trip costs twice that.
 * netem's default queue (1 000 packets) would itself drop packets at a few MB/s under a 25 ms
 * delay; the limit is raised so that only `loss` drops.
 */
export function netemArgs (namespace: string, device: string, s: LinkShaping): string[] {
  if (!shapesLinks(s)) throw new LinkShapingError('netemArgs: no delay and no loss to apply')
  return [
    '-n', namespace, 'qdisc', 'add', 'dev', device, 'root', 'netem',
    ...(s.delayMs > 0 ? ['delay', `${s.delayMs}ms`] : []),
    ...(s.lossPercent > 0 ? ['loss', `${s.lossPercent}%`] : []),
    'limit', '100000'
  ]
}

/** The devnet takes its subnets from 10.99.20.0/24 to 10.99.219.0/24; the benchmark keeps above. */
export const BENCH_SUBNETS = { first: 220, last: 254 }

/**
 * A third octet for 10.99.x.0/24 that no address in `ip -o addr show`'s output (`inUse`) falls
 * in, starting from `preferred` (wrapped into the benchmark's range) so that two benchmarks
 * started together are unlikely to pick the same one.
 */
export function pickSubnet (inUse: string, preferred: number): number {
  const { first, last } = BENCH_SUBNETS
  const span = last - first + 1
  const taken = new Set([...inUse.matchAll(/\binet 10\.99\.(\d{1,3})\.\d{1,3}\//g)].map(m => Number(m[1])))
  for (let k = 0; k < span; k++) {
    const subnet = first + (((preferred + k) % span) + span) % span
    if (!taken.has(subnet)) return subnet
  }
  throw new LinkShapingError(`every subnet 10.99.${first}.0/24 to 10.99.${last}.0/24 is in use on this host: remove leftover bridges (ip -o addr show | grep 10.99.)`)
}

/** The command-line options that ask for `s` (none for loopback), as a result's command shows them. */
export function shapingOptions (s: LinkShaping): string[] {
  if (s.proxy) return ['--link-delay', String(s.delayMs), '--link-emulation', 'proxy']
  if (!s.namespaces) return []
  if (!shapesLinks(s)) return ['--net-namespaces']
  return [...(s.delayMs > 0 ? ['--link-delay', String(s.delayMs)] : []), ...(s.lossPercent > 0 ? ['--loss', String(s.lossPercent)] : [])]
}

/** How the run's parameters describe the network (in the JSON and on the first line). */
export function describeShaping (s: LinkShaping): string {
  if (s.proxy) return `loopback, every edge through a userspace TCP relay delaying each direction by ${s.delayMs} ms`
  if (!s.namespaces) return 'loopback'
  if (!shapesLinks(s)) return 'network namespaces on a bridge, no netem'
  const parts = [...(s.delayMs > 0 ? [`${s.delayMs} ms one-way delay`] : []), ...(s.lossPercent > 0 ? [`${s.lossPercent} % loss`] : [])]
  return `network namespaces on a bridge, netem ${parts.join(' and ')} on every node's link`
}
