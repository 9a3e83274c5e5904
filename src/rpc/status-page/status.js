// The status page: polls /status every second and redraws (the block explorer is explorer.js, the
// consensus panel consensus.js). No framework, no external resources (a node is often on a machine
// without internet access).
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
