// The status page's consensus panel (demo v3 chains): baking and endorsing rights for the next
// levels and each delegate's frozen deposits, read from the node's RPC consensus views
// (src/rpc/consensus-routes.ts) whenever the head changes. status.js calls `refreshConsensus`
// only while /status says the protocol has them (`chain.consensus`); otherwise the panel stays hidden.
'use strict'

/** Levels after the head whose rights are shown, and the priorities shown for each. */
const RIGHTS_LEVELS = 3
const RIGHTS_PRIORITIES = 3

let consensusHead = null
let consensusRequest = 0

function consensusCell (text, className, title) {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  if (title) td.title = title
  return td
}

function shortPkh (pkh) {
  return pkh.length > 16 ? `${pkh.slice(0, 8)}…${pkh.slice(-5)}` : pkh
}

/** An amount in the demo's unit, grouped by thousands (the exact digits: no rounding). */
function amountText (text) {
  return String(text).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

async function getJson (path) {
  const response = await fetch(path, { cache: 'no-store' })
  if (!response.ok) {
    const error = new Error(`${path}: HTTP ${response.status}`)
    error.status = response.status
    throw error
  }
  return await response.json()
}

function rightsRow (level, bakers, endorsers) {
  const tr = document.createElement('tr')
  tr.dataset.level = String(level)
  tr.appendChild(consensusCell(String(level), 'num'))
  const baking = consensusCell(bakers.map(b => `${b.priority}: ${shortPkh(b.delegate)}`).join('  '), 'mono')
  baking.dataset.delegates = bakers.map(b => b.delegate).join(' ')
  baking.title = bakers.map(b => `priority ${b.priority}: ${b.delegate}`).join('\n')
  tr.appendChild(baking)
  const sorted = [...endorsers].sort((a, b) => b.slots.length - a.slots.length || (a.delegate < b.delegate ? -1 : 1))
  const endorsing = consensusCell(sorted.map(e => `${shortPkh(e.delegate)} ×${e.slots.length}`).join('  '), 'mono')
  endorsing.dataset.slots = sorted.map(e => `${e.delegate}:${e.slots.length}`).join(' ')
  endorsing.title = sorted.map(e => `${e.delegate}: slots ${e.slots.join(', ')}`).join('\n')
  tr.appendChild(endorsing)
  return tr
}

function depositRow (pkh, d) {
  const tr = document.createElement('tr')
  tr.dataset.delegate = pkh
  tr.appendChild(consensusCell(shortPkh(pkh), 'mono', pkh))
  tr.appendChild(consensusCell(amountText(d.balance), 'num'))
  tr.appendChild(consensusCell(amountText(d.staking_balance), 'num'))
  const frozen = consensusCell(amountText(d.frozen_balance), 'num')
  frozen.dataset.frozen = d.frozen_balance
  tr.appendChild(frozen)
  tr.appendChild(consensusCell(d.frozen_balance_by_cycle.map(c => `c${c.cycle}: ${amountText(c.deposits)}`).join('  ') || '–', 'mono'))
  const offences = d.denounced.map(o => `${o.kind.replace('_', ' ')} at ${o.level}: −${amountText(o.deposit_taken)}`)
  tr.appendChild(consensusCell(offences.join('; ') || '–', offences.length > 0 ? 'neg' : 'muted'))
  return tr
}

/**
 * Redraws the panel for the head `block` at `level` (once per head; a newer call wins over a
 * slower older one). Every view is asked of that block by hash, so the panel shows one head's
 * state: once the head has moved on they are refused, and the next poll's head is drawn instead.
 */
async function refreshConsensus (level, block) {
  if (block === consensusHead) return
  consensusHead = block
  const request = ++consensusRequest
  const panel = document.getElementById('consensus')
  let delegates
  try {
    delegates = await getJson(`/chains/main/blocks/${block}/context/delegates`)
  } catch {
    consensusHead = null // try again on the next poll
    return
  }
  try {
    const levels = Array.from({ length: RIGHTS_LEVELS }, (_, i) => level + 1 + i)
    const rights = await Promise.all(levels.map(async l => ({
      level: l,
      bakers: await getJson(`/chains/main/blocks/${block}/helpers/baking_rights?level=${l}&max_priority=${RIGHTS_PRIORITIES}`),
      endorsers: await getJson(`/chains/main/blocks/${block}/helpers/endorsing_rights?level=${l}`)
    })))
    const views = await Promise.all(delegates.map(async pkh => ({ pkh, view: await getJson(`/chains/main/blocks/${block}/context/delegates/${pkh}`) })))
    if (request !== consensusRequest) return
    document.getElementById('rights').replaceChildren(...rights.map(r => rightsRow(r.level, r.bakers, r.endorsers)))
    document.getElementById('deposits').replaceChildren(...views.map(v => depositRow(v.pkh, v.view)))
    document.getElementById('consensus-meta').textContent = `at head ${level}`
    panel.dataset.level = String(level)
    panel.dataset.block = block
    panel.hidden = false
  } catch {
    // The head moved on while reading (only the head's state is served): the next poll redraws.
    if (request === consensusRequest) consensusHead = null
  }
}
