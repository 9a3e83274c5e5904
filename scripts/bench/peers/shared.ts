/** What the processes of `npm run bench:peers` agree on: the network, the demo chain, the messages. */
import { demoSetup, type DemoSetup } from '../../../test/helpers/demo-chain.ts'

export const BENCH_NETWORK = 'TZP2P_BENCH'
/** Accounts of the bench chain: enough that the injector's rotation reuses one only every few heads. */
export const BENCH_ACCOUNTS = 64

/** The demo chain every process of the benchmark runs (keys and genesis derive from `name`). */
export function benchDemoSetup (name: string, verifyWorkers: number): DemoSetup {
  return demoSetup({ name, accounts: BENCH_ACCOUNTS, validationPasses: 1, verifyWorkers })
}

export interface MeasuredNodeConfig {
  dataDir: string
  chain: string
  /** Authenticated peers the node must accept. */
  maxPeers: number
  bakeIntervalMs: number
  /** Transfers injected after each new head. */
  opsPerHead: number
  /** Where the node logs (pino, info level); default no log. */
  logFile?: string
}

export interface SwarmConfig {
  /** Parent directory of the nodes' data dirs. */
  dataRoot: string
  chain: string
  nodes: number
  /** The measured node's multiaddr. */
  target: string
  /** Dials in flight at once from this process. */
  dialConcurrency: number
}

/** One reading of the measured node (`process.memoryUsage()` and what the node holds). */
export interface MemorySample {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
  /** Anonymous (heaps, malloc) and file-backed resident memory; 0 where /proc is absent. */
  rssAnon: number
  rssFile: number
  /** Resident anonymous memory by mapping: V8's heap pages and code, glibc's main heap and other arenas, the rest; zeros where /proc is absent. */
  residentByMapping: { v8Pages: number, v8Code: number, mallocMain: number, mallocArenas: number, otherAnon: number }
  /** V8 heap spaces: bytes in use and bytes resident. */
  heapSpaces: Record<string, { used: number, committed: number }>
  /** Authenticated peers. */
  peers: number
  /** libp2p connections (authenticated or not). */
  connections: number
  /** Streams open over all connections, by protocol. */
  streams: Record<string, number>
  level: number
  mempool: number
  injected: number
  refused: number
  /** User + system CPU time of the process so far, ms. */
  cpuMs: number
  /** Authenticated peers that went away since the start, and penalties given. */
  disconnections: number
  penalties: number
  /** Entries of the node's point book and of libp2p's peer store: what peers gone away leave behind. */
  knownPoints: number
  peerStorePeers: number
}

export interface SwarmStatus {
  nodes: number
  /** Nodes with an authenticated connection to the measured node. */
  connected: number
  minLevel: number
  /** The lowest head level among the connected nodes (`Number.MAX_SAFE_INTEGER` when none is). */
  minConnectedLevel: number
  maxLevel: number
  dialFailures: number
  /** Greylist entries of the swarm's nodes, by reason (a peer greylists whom it dropped for cause). */
  greylistReasons: Record<string, number>
}
