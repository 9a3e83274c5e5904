// The status page's block explorer: the list of blocks (the latest, following the head, or a page
// further back), paging and finding a block by level or hash, and one block's header and operations
// from the node's own RPC (/status/blocks, /chains/main/blocks/<id>). A script of its own beside
// status.js, which polls /status, draws the latest blocks from each poll and calls `setUpExplorer`.
// Its functions use status.js's helpers ($, setText, cell, fillTable, short, localTime) and run only
// once status.js has started the page, so it is loaded before status.js.
'use strict'

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
