import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { b58Encode } from '../../src/crypto/index.ts'
import type { DemoSetup } from '../helpers/demo-chain.ts'
import { encode } from '../../src/encoding/index.ts'
import { signTransfer } from '../../src/protocol/demo/index.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import type { TzNode } from '../../src/node/create-node.ts'
import { startRpcServer, type RpcServer } from '../../src/rpc/server.ts'
import { addressOf, startNode, stopAll } from '../helpers/node.ts'
import { startDemoNode, type DemoNode } from '../rpc/demo-node.ts'

/** Debian's chromium (`.ci/run` installs it with apt-get); playwright-core never downloads one. */
const CHROMIUM = '/usr/bin/chromium'
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the status page test`

describe('status page in headless Chromium', { skip }, () => {
  let demo: DemoNode
  let node: TzNode
  let peers: TzNode[]
  let rpc: RpcServer
  let browser: Browser
  let page: Page
  let setup: DemoSetup

  before(async () => {
    demo = await startDemoNode({ name: 'status-page', accounts: 2 })
    setup = demo.setup
    node = demo.node
    await node.bake()
    peers = [await startNode(), await startNode()]
    await peers[0].dial(addressOf(node))
    await node.dial(addressOf(peers[1]))
    rpc = await startRpcServer({ node, listen: [{ host: '127.0.0.1', port: 0 }], historyIntervalMs: 250, latencyIntervalMs: 500 })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  })
  after(async () => {
    await browser?.close()
    await rpc?.close()
    await stopAll(...(peers ?? []))
    await demo?.close()
  })

  it('loads, shows the node\'s identity, peer count and head, and updates when a block arrives without a reload', async () => {
    const errors: string[] = []
    page.on('pageerror', e => { errors.push(e.message) })
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text()) })
    await page.goto(rpc.urls[0])
    const text = async (id: string): Promise<string> => (await page.getByTestId(id).textContent()) ?? ''

    // Functions run in the page are given as text: this project's TypeScript has no DOM types.
    await page.waitForFunction('document.querySelector(\'[data-testid="peer-count"]\')?.textContent === "2"')
    assert.equal(await text('self-peer-id'), node.identity.peerId)
    assert.equal(await text('head-level'), '1')
    assert.equal(await text('head-hash'), b58Encode('blockHash', node.head()!.hash))
    const rows = await page.getByTestId('peers').locator('tr').allTextContents()
    assert.equal(rows.length, 2)
    assert.ok(rows.some(r => r.includes('inbound')) && rows.some(r => r.includes('outbound')), rows.join('\n'))
    // Latency from libp2p pings shows up in the table.
    await page.waitForFunction('[...document.querySelectorAll(\'[data-testid="peers"] tr\')].every(tr => / ms$/.test(tr.children[3]?.textContent ?? ""))')

    // A marker on the window survives only if the page is never reloaded.
    await page.evaluate('window.marker = 42')
    // A transfer goes into the next block, which the explorer then shows.
    const from = setup.accounts[0]
    const branch = node.head()!.hash
    const data = signTransfer(branch, { publicKey: from.publicKey, destination: setup.accounts[1].publicKeyHash, amount: 77n, fee: 0n, counter: 1n }, from.secretKey)
    const injected = await node.inject(encode(operationCodec, { branch, data }))
    const opHash = b58Encode('operationHash', injected.hash)
    const baked = await node.bake()
    assert.equal(baked.operations, 1)
    await page.waitForFunction(`document.querySelector('[data-testid="head-level"]')?.textContent === "${baked.header.shell.level}"`)
    assert.equal(await text('head-hash'), baked.hash)
    assert.equal(await page.evaluate('window.marker'), 42)

    // The explorer lists the new block with its operation; opening it shows the transfer.
    await page.waitForFunction(`document.querySelector('[data-testid="blocks"] tr')?.dataset.hash === "${baked.hash}"`)
    const firstRow = page.getByTestId('blocks').locator('tr').first()
    assert.equal((await firstRow.locator('td').nth(3).textContent())?.trim(), '1')
    await firstRow.click()
    await page.waitForFunction(`document.querySelector('[data-testid="block-operations"]')?.textContent.includes("${opHash}")`)
    assert.match(await page.getByTestId('block-detail').textContent() ?? '', /amount 77/)
    assert.equal(await page.getByTestId('operation-kind').first().textContent(), 'transfer')

    // The chart has drawn both series.
    await page.waitForFunction('document.querySelectorAll("#chart polyline").length === 2')
    const screenshot = process.env.TZP2P_SCREENSHOT
    if (screenshot !== undefined && screenshot !== '') await page.screenshot({ path: screenshot, fullPage: true })
    assert.deepEqual(errors, [])
  })

  it('pages the explorer back to genesis and forward again, and finds a block by level or hash', async () => {
    const errors: string[] = []
    page.on('pageerror', e => { errors.push(e.message) })
    // Three pages of 12: the latest, a full one below it, and the last one down to genesis.
    while (node.head()!.header.shell.level < 30) await node.bake()
    const head = node.head()!.header.shell.level
    await page.goto(rpc.urls[0])
    const firstLevel = 'document.querySelector(\'[data-testid="blocks"] tr td\')?.textContent'
    const lastLevel = '[...document.querySelectorAll(\'[data-testid="blocks"] tr\')].at(-1)?.children[0]?.textContent'
    const levels = async (): Promise<number[]> =>
      (await page.getByTestId('blocks').locator('tr td:first-child').allTextContents()).map(Number)
    const isDisabled = async (id: string): Promise<boolean> => await page.getByTestId(id).isDisabled()
    await page.waitForFunction(`${firstLevel} === "${head}"`)
    assert.deepEqual(await levels(), Array.from({ length: 12 }, (_, i) => head - i))
    assert.equal(await isDisabled('block-latest'), true)

    // Older, page by page, down to genesis.
    await page.getByTestId('block-older').click()
    await page.waitForFunction(`${firstLevel} === "${head - 12}"`)
    assert.deepEqual(await levels(), Array.from({ length: 12 }, (_, i) => head - 12 - i))
    assert.equal(await isDisabled('block-latest'), false)
    await page.getByTestId('block-older').click()
    await page.waitForFunction(`${lastLevel} === "0"`)
    assert.deepEqual(await levels(), Array.from({ length: head - 23 }, (_, i) => head - 24 - i))
    assert.equal(await isDisabled('block-older'), true)

    // A new block does not pull a paged-back list to the head.
    const baked = await node.bake()
    await page.waitForFunction(`document.querySelector('[data-testid="head-level"]')?.textContent === "${baked.header.shell.level}"`)
    assert.equal((await levels())[0], head - 24)

    // Newer pages come back up, 12 levels at a time; past the head the list follows it again.
    await page.getByTestId('block-newer').click()
    await page.waitForFunction(`${firstLevel} === "${head - 12}"`)
    await page.getByTestId('block-newer').click()
    await page.waitForFunction(`${firstLevel} === "${head}"`)
    assert.equal(await isDisabled('block-newer'), false)
    await page.getByTestId('block-newer').click()
    await page.waitForFunction(`${firstLevel} === "${head + 1}"`)
    assert.equal(await isDisabled('block-newer'), true)

    // Find by level: the block opens and its page shows it first, selected.
    await page.getByTestId('block-find-input').fill('3')
    await page.getByTestId('block-find').click()
    await page.waitForFunction(`${firstLevel} === "3" && document.getElementById('block-title')?.textContent === 'Block 3'`)
    const level3 = await (await fetch(`${rpc.urls[0]}/chains/main/blocks/3/hash`)).json() as string
    assert.equal(await page.locator('[data-testid="blocks"] tr.selected').getAttribute('data-hash'), level3)

    // Find by hash.
    const level17 = await (await fetch(`${rpc.urls[0]}/chains/main/blocks/17/hash`)).json() as string
    await page.getByTestId('block-find-input').fill(level17)
    await page.getByTestId('block-find').click()
    await page.waitForFunction(`${firstLevel} === "17" && document.getElementById('block-title')?.textContent === 'Block 17'`)
    assert.match(await page.getByTestId('block-detail').textContent() ?? '', new RegExp(level17))

    // An unknown level is reported, and the list stays where it was.
    await page.getByTestId('block-find-input').fill('999999')
    await page.getByTestId('block-find').click()
    await page.waitForFunction('document.querySelector(\'[data-testid="block-find-error"]\')?.textContent.includes("no block at level 999999")')
    assert.equal((await levels())[0], 17)

    // The page's source answers a bad level with 400 and a message.
    const bad = await fetch(`${rpc.urls[0]}/status/blocks?below=-1`)
    assert.equal(bad.status, 400)
    assert.match((await bad.json() as { error: string }).error, /below: expected a block level/)

    // Latest: back to the head, live.
    await page.getByTestId('block-latest').click()
    await page.waitForFunction(`${firstLevel} === "${node.head()!.header.shell.level}"`)
    assert.equal(await isDisabled('block-latest'), true)
    assert.deepEqual(errors, [])
  })
})
