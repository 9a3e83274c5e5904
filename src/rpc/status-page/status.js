// The status page: polls /status every second and redraws. No framework, no external resources
// (a node is often on a machine without internet access).
'use strict'

const POLL_MS = 1000
const MAX_SAMPLES = 600
const samples = []
let lastSample = 0
let lastLevel = null

const $ = id => document.getElementById(id)

function setText (id, text) {
  const el = $(id)
  if (el.textContent !== text) el.textContent = text
}

function short (id, head = 8, tail = 6) {
  return id.length > head + tail + 1 ? `${id.slice(0, head)}…${id.slice(-tail)}` : id
}

function ago (seconds) {
  if (seconds < 60) return `${seconds} s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor(seconds % 3600 / 60)} min`
  return `${Math.floor(seconds / 86400)} d`
}

function localTime (iso) {
  return new Date(iso).toLocaleTimeString()
}

function cell (text, className) {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  return td
}

function fillTable (tbody, rows, columns, empty) {
  const fragment = document.createDocumentFragment()
  if (rows.length === 0) {
    const tr = document.createElement('tr')
    const td = cell(empty, 'muted')
    td.colSpan = columns
    tr.appendChild(td)
    fragment.appendChild(tr)
  }
  for (const row of rows) fragment.appendChild(row)
  tbody.replaceChildren(fragment)
}

function renderPeers (peers) {
  const rows = peers.map(p => {
    const tr = document.createElement('tr')
    const id = cell(short(p.peer_id, 10, 6), 'mono')
    id.title = `${p.peer_id}\n${p.wire === 'octez' ? 'Octez wire' : `libp2p ${p.libp2p_peer_id}`}${p.trusted ? '\ntrusted' : ''}`
    if (p.trusted) id.textContent += ' ★'
    tr.appendChild(id)
    const dir = document.createElement('td')
    const badge = document.createElement('span')
    badge.className = `dir ${p.direction}`
    badge.textContent = p.direction
    dir.appendChild(badge)
    tr.appendChild(dir)
    tr.appendChild(cell(`${p.address}${p.wire === 'octez' ? ' (octez)' : ''}`, 'mono'))
    tr.appendChild(cell(p.latency_ms === null ? '–' : `${p.latency_ms.toFixed(p.latency_ms < 10 ? 1 : 0)} ms`, 'num'))
    tr.appendChild(cell(p.score === null ? '–' : p.score.toFixed(1), p.score !== null && p.score < 0 ? 'num neg' : 'num'))
    tr.appendChild(cell(p.since === undefined ? '–' : localTime(p.since)))
    return tr
  })
  fillTable($('peers'), rows, 6, 'no peers')
}

let selectedBlock = null
// The explorer's list: null shows the latest blocks, redrawn on every poll; a level shows the
// page of blocks below it (paged back or found), which stays until the user moves.
let pageBelow = null
let pageSize = 12
let pageRequest = 0

function renderBlocks (blocks) {
  const rows = blocks.map(b => {
    const tr = document.createElement('tr')
    tr.dataset.hash = b.hash
    if (b.hash === selectedBlock) tr.className = 'selected'
    tr.appendChild(cell(String(b.level), 'num'))
    tr.appendChild(cell(short(b.hash, 10, 6), 'mono'))
    tr.appendChild(cell(localTime(b.timestamp)))
    const ops = cell(String(b.operations), 'num')
    // Several validation passes (demo v3): the count in each, consensus first.
    if (b.operations_by_pass.length > 1) {
      const split = document.createElement('span')
      split.className = 'passes muted'
      split.textContent = ` (${b.operations_by_pass.join(' · ')})`
      split.title = 'operations by validation pass'
      ops.appendChild(split)
    }
    tr.appendChild(ops)
    tr.appendChild(cell(b.fitness.map(e => String(parseInt(e, 16))).join(' · '), 'num'))
    tr.addEventListener('click', () => { void showBlock(b.hash) })
    return tr
  })
  fillTable($('blocks'), rows, 5, 'no blocks')
  const live = pageBelow === null
  setText('blocks-title', live || blocks.length === 0 ? 'Latest blocks' : `Blocks ${blocks[blocks.length - 1].level}–${blocks[0].level}`)
  $('block-latest').disabled = live
  $('block-newer').disabled = live
  $('block-older').disabled = blocks.length === 0 || blocks[blocks.length - 1].level === 0
}

/** Shows the page of blocks below `below` (null: the latest, then follows the head). */
async function loadPage (below) {
  const request = ++pageRequest
  const response = await fetch(below === null ? '/status/blocks' : `/status/blocks?below=${below}`, { cache: 'no-store' })
  if (request !== pageRequest) return
  if (!response.ok) {
    showFindError(await errorText(response))
    return
  }
  const page = await response.json()
  pageSize = page.page_size
  pageBelow = below === null || below > page.head_level ? null : below
  renderBlocks(page.blocks)
}

function pageLevels () {
  return [...$('blocks').children].map(tr => Number(tr.children[0]?.textContent)).filter(Number.isInteger)
}

function showFindError (message) {
  const el = $('block-find-error')
  el.textContent = message
  el.hidden = message === ''
}

async function errorText (response) {
  try {
    const body = await response.json()
    if (typeof body.error === 'string') return body.error
  } catch {}
  return `HTTP ${response.status}`
}

function setUpExplorer () {
  $('block-older').addEventListener('click', () => {
    const levels = pageLevels()
    if (levels.length > 0) void loadPage(levels[levels.length - 1])
  })
  $('block-newer').addEventListener('click', () => {
    const levels = pageLevels()
    if (levels.length > 0) void loadPage(levels[0] + 1 + pageSize)
  })
  $('block-latest').addEventListener('click', () => { void loadPage(null) })
  // A level or a hash (anything /chains/main/blocks/<id> takes): show the block and its page.
  $('block-find').addEventListener('submit', event => {
    event.preventDefault()
    const id = $('block-find-input').value.trim()
    if (id === '') return
    void showBlock(id).then(block => {
      if (block !== undefined) void loadPage(block.header.level + 1)
    })
  })
}

/** An operation's kind(s), as its protocol names them (`kind`, or `kinds` for a batch); '' when unnamed. */
function operationKinds (contents) {
  if (Array.isArray(contents?.kinds)) return contents.kinds.join(', ')
  // Demo v3: { pass, contents: { kind, … }, signature }
  if (typeof contents?.contents?.kind === 'string') return `${contents.contents.kind} (pass ${contents.pass})`
  return typeof contents?.kind === 'string' ? contents.kind : ''
}

/** Demo v3's fitness is [level, endorsing power]; other protocols' is the level alone. */
function describeFitness (fitness) {
  if (!Array.isArray(fitness)) return ''
  if (fitness.length === 2 && fitness[1].length === 8) return `level ${parseInt(fitness[0], 16)}, endorsing power ${parseInt(fitness[1], 16)}`
  return fitness.join(' ')
}

/** One operation's protocol view (`contents`) as "key value" pairs. */
function describeContents (contents) {
  const span = document.createElement('div')
  span.className = 'fields mono'
  const flat = typeof contents?.contents?.kind === 'string' ? { ...contents.contents, signature: contents.signature } : contents
  for (const [k, v] of Object.entries(flat ?? {})) {
    const b = document.createElement('b')
    b.textContent = `${k} `
    span.appendChild(b)
    span.appendChild(document.createTextNode(`${typeof v === 'string' ? v : JSON.stringify(v)}  `))
  }
  return span
}

/**
 * The explorer: a block's header and operations, from the node's own RPC. `id` is anything the
 * RPC takes (hash, level, head~n); a block that cannot be loaded is reported above the list.
 * Resolves with the block shown, or undefined.
 */
async function showBlock (id) {
  const detail = $('block-detail')
  const response = await fetch(`/chains/main/blocks/${encodeURIComponent(id)}`, { cache: 'no-store' })
  if (!response.ok) {
    showFindError(`cannot show block ${id}: ${await errorText(response)}`)
    return undefined
  }
  showFindError('')
  const block = await response.json()
  selectedBlock = block.hash
  for (const tr of $('blocks').children) tr.classList.toggle('selected', tr.dataset.hash === block.hash)
  setText('block-title', `Block ${block.header.level}`)
  setText('block-meta', localTime(block.header.timestamp))
  const dl = document.createElement('dl')
  const fields = [
    ['Hash', block.hash],
    ['Predecessor', block.header.predecessor],
    ['Operations hash', block.header.operations_hash],
    ['Context', block.header.context],
    ['Fitness', describeFitness(block.header.fitness)],
    ...Object.entries(block.metadata?.protocol_data ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])
  ]
  for (const [k, v] of fields) {
    const dt = document.createElement('dt')
    dt.textContent = k
    const dd = document.createElement('dd')
    dd.className = 'mono'
    dd.textContent = v
    dl.append(dt, dd)
  }
  const ops = block.operations.flat()
  const list = document.createElement('div')
  list.setAttribute('data-testid', 'block-operations')
  if (ops.length === 0) {
    list.className = 'muted'
    list.textContent = 'No operations.'
  }
  for (const op of ops) {
    const div = document.createElement('div')
    div.className = 'op'
    const h = document.createElement('div')
    h.className = 'hash mono'
    h.textContent = op.hash
    const kinds = operationKinds(op.contents)
    if (kinds !== '') {
      const k = document.createElement('span')
      k.className = 'kind'
      k.setAttribute('data-testid', 'operation-kind')
      k.textContent = kinds
      h.append(' ', k)
    }
    div.append(h, describeContents(op.contents))
    list.appendChild(div)
  }
  detail.className = ''
  detail.replaceChildren(dl, list)
  return block
}

function renderGreylist (greylist) {
  const entries = [
    ...greylist.ips.map(e => ({ who: e.addr, reason: e.reason, until: e.until })),
    ...greylist.peers.map(e => ({ who: short(e.peer_id, 10, 6), reason: e.reason, until: e.until }))
  ]
  const rows = entries.map(e => {
    const tr = document.createElement('tr')
    tr.appendChild(cell(e.who, 'mono'))
    tr.appendChild(cell(e.reason))
    tr.appendChild(cell(new Date(e.until).toLocaleString()))
    return tr
  })
  fillTable($('greylist'), rows, 3, 'empty')
}

const SVG = 'http://www.w3.org/2000/svg'
function svg (name, attributes) {
  const el = document.createElementNS(SVG, name)
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, String(v))
  return el
}

/** Two series on one time axis: connections (left scale) and head level (right scale). */
function renderChart () {
  const chart = $('chart')
  const W = 900
  const H = 220
  const pad = { left: 40, right: 56, top: 12, bottom: 22 }
  const parts = []
  if (samples.length > 0) {
    const t0 = samples[0].t
    const t1 = Math.max(samples[samples.length - 1].t, t0 + 60_000)
    const x = t => pad.left + (t - t0) / (t1 - t0) * (W - pad.left - pad.right)
    const maxConn = Math.max(4, ...samples.map(s => s.connections))
    const levels = samples.map(s => s.level).filter(l => l !== null)
    const minLevel = levels.length > 0 ? Math.min(...levels) : 0
    const maxLevel = levels.length > 0 ? Math.max(minLevel + 4, ...levels) : 4
    const yConn = c => H - pad.bottom - c / maxConn * (H - pad.top - pad.bottom)
    const yLevel = l => H - pad.bottom - (l - minLevel) / (maxLevel - minLevel) * (H - pad.top - pad.bottom)
    for (let i = 0; i <= 4; i++) {
      const y = pad.top + i * (H - pad.top - pad.bottom) / 4
      parts.push(svg('line', { class: 'grid', x1: pad.left, x2: W - pad.right, y1: y, y2: y }))
      const c = Math.round(maxConn * (4 - i) / 4)
      parts.push(svg('text', { class: 'axis', x: pad.left - 6, y: y + 4, 'text-anchor': 'end' }))
      parts[parts.length - 1].textContent = String(c)
      if (levels.length > 0) {
        const l = Math.round(minLevel + (maxLevel - minLevel) * (4 - i) / 4)
        const label = svg('text', { class: 'axis', x: W - pad.right + 6, y: y + 4 })
        label.textContent = String(l)
        parts.push(label)
      }
    }
    const minutes = Math.round((t1 - t0) / 60_000)
    const span = svg('text', { class: 'axis', x: pad.left, y: H - 4 })
    span.textContent = `${minutes <= 1 ? 'last minute' : `last ${minutes} minutes`}`
    parts.push(span)
    const connPoints = samples.map(s => `${x(s.t).toFixed(1)},${yConn(s.connections).toFixed(1)}`)
    parts.push(svg('polygon', {
      class: 'conn-area',
      points: `${x(samples[0].t).toFixed(1)},${H - pad.bottom} ${connPoints.join(' ')} ${x(samples[samples.length - 1].t).toFixed(1)},${H - pad.bottom}`
    }))
    parts.push(svg('polyline', { class: 'conn', points: connPoints.join(' ') }))
    const levelPoints = samples.filter(s => s.level !== null).map(s => `${x(s.t).toFixed(1)},${yLevel(s.level).toFixed(1)}`)
    if (levelPoints.length > 0) parts.push(svg('polyline', { class: 'level', points: levelPoints.join(' ') }))
  }
  chart.replaceChildren(...parts)
}

function render (s) {
  setText('self-peer-id', s.identity.peer_id)
  setText('id-tezos', s.identity.peer_id)
  setText('id-libp2p', s.identity.libp2p_peer_id)
  setText('id-addresses', s.identity.addresses.join('\n') || 'not listening')
  const boot = $('bootstrapped')
  if (s.chain === null) {
    setText('head-level', '–')
    setText('head-hash', 'no chain')
    setText('head-age', '–')
    setText('mempool', '–')
    setText('id-chain', 'none')
    pageBelow = null
    renderBlocks([])
    setText('id-protocol', 'none')
    boot.textContent = 'no chain'
    boot.className = 'pill'
  } else {
    const head = s.chain.head
    const level = $('head-level')
    setText('head-level', String(head.level))
    if (s.chain.consensus) void refreshConsensus(head.level, head.hash)
    else $('consensus').hidden = true
    if (lastLevel !== null && head.level !== lastLevel) {
      level.classList.remove('flash')
      void level.offsetWidth // restart the animation
      level.classList.add('flash')
    }
    lastLevel = head.level
    setText('head-hash', head.hash)
    $('head-hash').title = head.hash
    setText('head-age', ago(head.age_s))
    setText('head-time', localTime(head.timestamp))
    setText('mempool', s.chain.mempool === null ? '–' : String(s.chain.mempool))
    setText('id-chain', s.chain.chain_id)
    setText('id-protocol', s.chain.protocol)
    if (pageBelow === null) renderBlocks(s.chain.blocks)
    if (selectedBlock === null && s.chain.blocks.length > 0) {
      selectedBlock = s.chain.blocks[0].hash
      void showBlock(selectedBlock)
    }
    const b = s.chain.bootstrapped
    boot.textContent = b === null ? 'no sync' : b ? 'bootstrapped' : 'syncing'
    boot.className = `pill ${b === true ? 'ok' : b === false ? 'warn' : ''}`
  }
  const outbound = s.peers.filter(p => p.direction === 'outbound').length
  setText('peer-count', String(s.peers.length))
  setText('peer-split', `${outbound} out · ${s.peers.length - outbound} in`)
  setText('points', s.points === null ? '' : `${s.points.known} known points, ${s.points.trusted} trusted`)
  setText('greylist-count', String(s.greylist.ips.length + s.greylist.peers.length))
  setText('bans', `${s.bans} banned`)
  renderPeers(s.peers)
  renderGreylist(s.greylist)
  for (const sample of s.history) if (sample.t > lastSample) samples.push(sample)
  if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES)
  if (samples.length > 0) lastSample = samples[samples.length - 1].t
  renderChart()
}

async function poll () {
  const link = $('link')
  try {
    const response = await fetch(`/status?since=${lastSample}`, { cache: 'no-store' })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    render(await response.json())
    link.textContent = 'live'
    link.className = 'pill ok'
  } catch (e) {
    link.textContent = 'node unreachable'
    link.className = 'pill bad'
    link.title = String(e)
  } finally {
    setTimeout(poll, POLL_MS)
  }
}

setUpExplorer()
poll()
