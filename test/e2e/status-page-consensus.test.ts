import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { b58Encode } from '../../src/crypto/index.ts'
import { devnetAccountKeypairs } from '../../src/config/presets.ts'
import type { DevnetState } from '../../src/runtime/devnet/state.ts'
import { Child } from '../rpc/child.ts'
import { getJson, type HeaderJson } from '../rpc/rpc-json.ts'
import { withTempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

/** Debian's chromium (`.ci/run` installs it with apt-get); playwright-core never downloads one. */
const CHROMIUM = '/usr/bin/chromium'
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the status page test`
const FREE_PORTS = ['--base-p2p-port', '0', '--base-rpc-port', '0']

interface DelegateJson { frozen_balance: string, denounced: Array<{ level: number, kind: string, deposit_taken: string }> }
interface OpJson { contents: { pass: number, contents: { kind: string } } }
/** What the page's consensus panel shows, read from its data attributes. */
interface PanelJson { level: number, block: string, rights: Array<{ level: number, bakers: string, slots: string }>, deposits: Array<{ delegate: string, frozen: string, text: string }> }

const READ_PANEL = `(() => {
  const panel = document.getElementById('consensus')
  return {
    level: Number(panel.dataset.level),
    block: panel.dataset.block,
    rights: [...document.querySelectorAll('#rights tr')].map(tr => ({ level: Number(tr.dataset.level), bakers: tr.children[1].dataset.delegates, slots: tr.children[2].dataset.slots })),
    deposits: [...document.querySelectorAll('#deposits tr')].map(tr => ({ delegate: tr.dataset.delegate, frozen: tr.children[3].dataset.frozen, text: tr.textContent }))
  }
})()`

describe('status page of a devnet of delegates in headless Chromium', { skip }, () => {
  it('shows the next levels\' baking and endorsing rights, each delegate\'s frozen deposits and denounced offences, and blocks\' fitness and operations by kind and pass, as the RPC has them', async () => {
    await withTempDir('status-consensus', async dir => {
      let browser: Browser | undefined
      const up = Child.tzp2p(['devnet', 'up', '--nodes', '2', '--bakers', '2', '--equivocate', '1', '--dir', dir, '--detach', ...FREE_PORTS])
      try {
        assert.equal((await up.exited).code, 0, up.stderr)
        const state = JSON.parse(await readFile(join(dir, 'devnet.json'), 'utf8')) as DevnetState
        const rpc = state.nodes[0].rpc
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
        })
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
        const errors: string[] = []
        page.on('pageerror', e => { errors.push(e.message) })
        await page.goto(rpc)
        await page.waitForFunction('document.getElementById("consensus")?.hidden === false', undefined, { timeout: 120_000 })

        // The panel against the RPC at the head it shows (only the head's state is served, and the
        // head moves every few seconds: asked by that head's hash, the views are refused once it
        // has moved on, and the comparison is tried again on a later head).
        const delegates = await getJson<string[]>(`${rpc}/chains/main/blocks/head/context/delegates`)
        assert.equal(delegates.length, 2)
        let compared = 0
        await waitFor(async () => {
          const panel = await page.evaluate<PanelJson>(READ_PANEL)
          const at = `${rpc}/chains/main/blocks/${panel.block}`
          const rights = await Promise.all(panel.rights.map(async r => ({
            level: r.level,
            bakers: (await getJson<Array<{ delegate: string }>>(`${at}/helpers/baking_rights?level=${r.level}&max_priority=3`)).map(b => b.delegate).join(' '),
            slots: (await getJson<Array<{ delegate: string, slots: number[] }>>(`${at}/helpers/endorsing_rights?level=${r.level}`))
              .sort((a, b) => b.slots.length - a.slots.length || (a.delegate < b.delegate ? -1 : 1)).map(e => `${e.delegate}:${e.slots.length}`).join(' ')
          })))
          const frozen = await Promise.all(delegates.map(async d => (await getJson<DelegateJson>(`${at}/context/delegates/${d}`)).frozen_balance))
          assert.deepEqual(panel.rights.map(r => r.level), [panel.level + 1, panel.level + 2, panel.level + 3])
          assert.deepEqual(panel.rights.map(r => ({ level: r.level, bakers: r.bakers, slots: r.slots })), rights)
          assert.deepEqual(panel.deposits.map(d => ({ delegate: d.delegate, frozen: d.frozen })), delegates.map((d, i) => ({ delegate: d, frozen: frozen[i] })))
          compared++
          // Both delegates have endorsed or baked by then: deposits are frozen.
          return frozen.every(f => BigInt(f) > 0n)
        }, { what: () => `the page's consensus panel as the RPC at the head it shows (${compared} heads compared)`, timeoutMs: 180_000, intervalMs: 300, retryOnError: true })

        // Node 1's delegate double bakes: once denounced, its row names the offence and the deposit taken.
        const offender = b58Encode('ed25519PublicKeyHash', devnetAccountKeypairs()[1].publicKeyHash)
        const offence = await waitFor(async () => (await getJson<DelegateJson>(`${rpc}/chains/main/blocks/head/context/delegates/${offender}`)).denounced[0],
          { what: 'node 1\'s double baking denounced on the chain', timeoutMs: 300_000, intervalMs: 1000, retryOnError: true })
        assert.equal(offence.kind, 'double_baking')
        const grouped = offence.deposit_taken.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
        await page.waitForFunction(`[...document.querySelectorAll('#deposits tr')].some(tr => tr.dataset.delegate === ${JSON.stringify(offender)} && tr.textContent.includes('double baking at ${offence.level}: −${grouped}'))`, undefined, { timeout: 60_000 })

        // A block carrying endorsements: found in the explorer, its fitness is level and endorsing
        // power as /fitness decodes it, and its operations are listed by kind and pass.
        const found = await waitFor(async () => {
          const head = await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)
          for (let level = head.level; level >= 2; level--) {
            const ops = await getJson<OpJson[]>(`${rpc}/chains/main/blocks/${level}/operations/0`)
            if (ops.length > 0) return { level, endorsements: ops.length }
          }
          return undefined
        }, { what: 'a block carrying endorsements', timeoutMs: 60_000, intervalMs: 500, retryOnError: true })
        const fitness = await getJson<{ level: number, endorsing_power: number }>(`${rpc}/chains/main/blocks/${found.level}/fitness`)
        assert.ok(fitness.endorsing_power > 0)
        await page.getByTestId('block-find-input').fill(String(found.level))
        await page.getByTestId('block-find').click()
        await page.waitForFunction(`document.getElementById('block-title')?.textContent === 'Block ${found.level}'`, undefined, { timeout: 30_000 })
        assert.match(await page.getByTestId('block-detail').textContent() ?? '', new RegExp(`level ${found.level}, endorsing power ${fitness.endorsing_power}`))
        // Its line in the explorer's list: the operations of each pass and the fitness as level · endorsing power.
        const byPass = await Promise.all([0, 1, 2, 3].map(async p => (await getJson<OpJson[]>(`${rpc}/chains/main/blocks/${found.level}/operations/${p}`)).length))
        const row = page.locator(`[data-testid="blocks"] tr[data-hash="${await getJson<string>(`${rpc}/chains/main/blocks/${found.level}/hash`)}"]`)
        await row.waitFor({ timeout: 30_000 })
        const cells = await row.locator('td').allTextContents()
        assert.equal(cells[3], `${byPass.reduce((a, b) => a + b, 0)} (${byPass.join(' · ')})`)
        assert.equal(cells[4], `${found.level} · ${fitness.endorsing_power}`)
        const kinds = await page.getByTestId('operation-kind').allTextContents()
        assert.equal(kinds.filter(k => k === 'endorsement (pass 0)').length, found.endorsements, kinds.join(' | '))
        const screenshot = process.env.TZP2P_SCREENSHOT
        if (screenshot !== undefined && screenshot !== '') await page.screenshot({ path: screenshot, fullPage: true })
        assert.deepEqual(errors, [])
      } finally {
        await browser?.close()
        const down = Child.tzp2p(['devnet', 'down', '--dir', dir])
        await down.exited
      }
    })
  })
})
