/**
 * The in-process node fixture every test builds on: identities with (or without) a given proof of
 * work, a started node on loopback, its address, its next event, and stopping several at once.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { randomBytes, x25519Keypair } from '../../src/crypto/index.ts'
import { makeIdentity, type Identity } from '../../src/identity/identity.ts'
import { checkProofOfWork, makePowTarget, POW_STAMP_BYTES } from '../../src/identity/pow.ts'
import { createNode, type NodeEventMap, type TzNode } from '../../src/node/create-node.ts'
import type { NodeOptions } from '../../src/node/options.ts'
import { DEFAULT_WAIT_MS } from './wait.ts'

export const TEST_CHAIN = 'TZP2P_TEST'

/** A fresh identity whose stamp meets `difficulty` (random stamps: fine for the small values tests use). */
export function identityWithPow (difficulty = 0): Identity {
  const { publicKey, secretKey } = x25519Keypair()
  const target = makePowTarget(difficulty)
  for (;;) {
    const stamp = randomBytes(POW_STAMP_BYTES)
    if (checkProofOfWork(publicKey, stamp, target)) return makeIdentity(publicKey, secretKey, stamp)
  }
}

/** A fresh identity whose stamp does NOT meet `difficulty`. */
export function identityFailingPow (difficulty: number): Identity {
  const { publicKey, secretKey } = x25519Keypair()
  const target = makePowTarget(difficulty)
  for (;;) {
    const stamp = randomBytes(POW_STAMP_BYTES)
    if (!checkProofOfWork(publicKey, stamp, target)) return makeIdentity(publicKey, secretKey, stamp)
  }
}

/**
 * A started node on loopback: with a `dataDir`, its keys and store are that directory's; otherwise
 * an in-memory identity at difficulty 0 unless told otherwise.
 */
export async function startNode (options: Partial<NodeOptions> = {}): Promise<TzNode> {
  const keys = options.dataDir !== undefined
    ? {}
    : { identity: options.identity ?? identityWithPow(options.expectedPow ?? 0), privateKey: options.privateKey ?? await generateKeyPair('Ed25519') }
  const node = await createNode({
    ...keys,
    chainName: TEST_CHAIN,
    expectedPow: 0,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    // A bare host: these tests drive every connection themselves (no maintenance, no peer exchange).
    manageConnections: false,
    ...options
  })
  await node.start()
  return node
}

export function addressOf (node: TzNode): string {
  const ma = node.getMultiaddrs()[0]
  if (ma === undefined) throw new Error('node has no listen address')
  return ma.toString()
}

/**
 * The next `name` event (matching `filter`) of a node. The deadline is only a safety net so a broken
 * build fails instead of hanging; no test asserts on it.
 */
export async function nextEvent<K extends keyof NodeEventMap> (
  node: TzNode, name: K, filter: (...args: NodeEventMap[K]) => boolean = () => true, deadlineMs = DEFAULT_WAIT_MS
): Promise<NodeEventMap[K][0]> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      node.events.off(name, listener as never)
      reject(new Error(`no ${name} event within ${deadlineMs} ms`))
    }, deadlineMs)
    const listener = (...args: NodeEventMap[K]): void => {
      if (!filter(...args)) return
      clearTimeout(timer)
      node.events.off(name, listener as never)
      resolve(args[0])
    }
    node.events.on(name, listener as never)
  })
}

export async function stopAll (...nodes: Array<{ stop: () => unknown } | undefined>): Promise<void> {
  await Promise.all(nodes.map(async n => { await n?.stop() }))
}
