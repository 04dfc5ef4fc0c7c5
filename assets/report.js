// The claimrun report page: the pipeline, a worker timeline, details and a table of every test.
// Everything a test printed is shown through textContent, never parsed as HTML.
;(function () {
  'use strict'
  const COLORS = { passed: '#2e9e44', flaky: '#c99700', failed: '#d0342c', timedout: '#a3221b', error: '#9b36b7', interrupted: '#e08b00', notrun: '#9aa0a6', running: '#3b82f6' }
  const data = JSON.parse(document.getElementById('claimrun-data').textContent)
  // The tallies (and data.verdict, each status's verdict) come from claimrun's outcome model
  // (src/record/outcome.ts): the page never recounts.
  const model = { workers: [], tests: new Map(), order: [], done: false, result: null, startedAt: null, logs: data.logs || {}, live: data.mode === 'live', tally: data.tally || null }
  let selected = null
  let sort = { key: 'index', dir: 1 }
  let filter = ''

  const el = (tag, props, ...children) => {
    const node = document.createElement(tag)
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'class') node.className = v
      else if (k === 'text') node.textContent = v
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v)
      else node.setAttribute(k, v)
    }
    for (const c of children) if (c != null) node.append(c)
    return node
  }
  const svg = (tag, attrs, text) => {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag)
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
    if (text != null) node.textContent = text
    return node
  }
  // The run's start in the viewer's own time zone (results.json keeps UTC ISO).
  const localTime = (iso) => new Date(iso).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' })
  // The outcome model's verdict per status (src/record/outcome.ts), sent with the data.
  const isFailure = (status) => data.verdict[status] === 'failed'
  // claimrun's own formatMs (src/reporters/format.ts), inlined by the renderer.
  const fmtMs = window.claimrunFormatMs
  const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`
  // The header's counts, in the summary's words and order (src/reporters/summary.ts).
  const COUNTED = [['passed', 'passed'], ['flaky', 'flaky'], ['failed', 'failed'], ['timedout', 'timed out'], ['error', 'error'], ['interrupted', 'interrupted'], ['notrun', 'not run']]

  function applyResult(result) {
    model.result = result
    model.workers = result.workers
    model.startedAt = result.startedAt
    model.tests = new Map(result.tests.map((t) => [t.id, t]))
    model.order = result.tests.map((t) => t.id)
    model.done = true
  }

  function apply(event) {
    if (event.tally) model.tally = event.tally
    switch (event.type) {
      case 'run:start':
        model.workers = event.workers
        model.startedAt = event.startedAt
        model.total = event.tests
        break
      case 'test:start':
        if (!model.tests.has(event.test)) model.order.push(event.test)
        model.tests.set(event.test, { id: event.test, worker: event.worker, status: 'running', startMs: event.atMs, endMs: null, durationMs: null, attempts: event.attempt, tail: '' })
        break
      case 'test:retry':
      case 'test:end':
        if (!model.tests.has(event.test.id)) model.order.push(event.test.id)
        model.tests.set(event.test.id, event.test)
        break
      case 'run:end':
        applyResult(event.result)
        if (event.logs) model.logs = event.logs
        break
      default:
        break
    }
  }

  function stats() {
    const tests = [...model.tests.values()]
    const tally = model.tally || { passed: 0, failed: 0, skipped: 0, workers: {} }
    const perWorker = new Map(model.workers.map((w) => [w, { ...(tally.workers[w] || { tests: 0, failed: 0 }), running: null }]))
    for (const t of tests) {
      const s = perWorker.get(t.worker)
      if (s && t.status === 'running') s.running = t
    }
    const done = tests.filter((t) => t.status !== 'running')
    return { tests, perWorker, done, failed: tally.failed, tally }
  }

  function nodeButton(title, sub, state, onclick, isSelected) {
    return el('button', { class: `node st-${state}${isSelected ? ' selected' : ''}`, onclick, 'data-node': title }, el('b', { text: title }), el('small', { text: sub }))
  }

  function renderPipeline(s) {
    const r = model.result
    const runState = !model.done ? 'running' : r.interrupted ? 'interrupted' : s.failed ? 'failed' : 'passed'
    const workers = el('div', { class: 'column' }, ...model.workers.map((w) => {
      const ws = s.perWorker.get(w)
      const state = ws.running ? 'running' : ws.failed ? 'failed' : ws.tests ? 'passed' : 'idle'
      const sub = `${plural(ws.tests, 'test')}, ${ws.failed} failed${ws.running ? ` · running ${ws.running.id}` : ''}`
      return nodeButton(w, sub, state, () => select({ worker: w }), selected && selected.worker === w)
    }))
    const total = model.done ? r.tests.length : model.total
    const summarySub = model.done ? `${s.tally.passed} passed, ${s.tally.failed} failed, ${s.tally.skipped} skipped` : `${s.done.length}/${total} done`
    return el('div', { class: 'pipeline' },
      nodeButton('run', `serial · ${model.done ? fmtMs(r.durationMs) : 'running'}`, runState, () => select(null), false),
      el('span', { class: 'arrow', text: '→' }),
      nodeButton('run_tests', `parallel · ${plural(model.workers.length, 'worker')}`, runState, () => select(null), false),
      el('span', { class: 'arrow', text: '→' }),
      workers,
      el('span', { class: 'arrow', text: '→' }),
      nodeButton('summary', summarySub, model.done ? (s.failed ? 'failed' : 'passed') : 'idle', () => select(null), false),
    )
  }

  // Every status the run has so far, from the outcome model's tally (zero counts left out, as the summary does).
  function renderCounts(s) {
    const counts = (s.tally && s.tally.counts) || {}
    const shown = COUNTED.filter(([status]) => counts[status] > 0)
    return el('span', { id: 'counts', class: 'counts' }, ...shown.map(([status, words]) =>
      el('span', { class: `count st-${status}`, 'data-status': status, style: `color:${COLORS[status]}`, text: `${counts[status]} ${words}` })))
  }

  // Each attempt of a test as it ran: the earlier (retried) ones first, then the one that counts.
  const attemptsOf = (t) => [...(t.previousAttempts || []).map((p) => ({ ...p, id: t.id, groups: t.groups, weight: t.weight, serial: t.serial, retried: true })), t]

  function renderTimeline(s) {
    const now = model.live && !model.done && model.startedAt ? Math.max(0, Date.now() - Date.parse(model.startedAt)) : 0
    const ran = s.tests.flatMap(attemptsOf).filter((t) => t.startMs != null)
    const end = Math.max(1, now, ...ran.map((t) => t.endMs ?? now))
    const laneH = 24
    // A lane per lock group under the workers' (a run that declares groups): a group's tests side by side, so a reader sees they never overlapped.
    const groups = [...new Set(ran.flatMap((t) => t.groups || []))].sort()
    const rows = [...model.workers, ...groups.map((g) => `group ${g}`)]
    const left = groups.length ? 130 : 80
    const width = 1000
    const height = rows.length * laneH + 24
    const x = (ms) => left + (ms / end) * (width - left - 10)
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'worker timeline' })
    const waited = (t) => (t.waitMs ? `, waited ${fmtMs(t.waitMs)} for ${t.waitedFor}` : '')
    const heavy = (t) => (t.serial ? 'serial' : (t.weight || 1) > 1 ? `weight ${t.weight}` : '')
    rows.forEach((w, i) => {
      root.append(svg('text', { x: 4, y: i * laneH + 16, 'font-size': 12 }, w))
      root.append(svg('rect', { x: left, y: i * laneH + 3, width: width - left - 10, height: laneH - 6, fill: '#f1f3f5' }))
    })
    for (const t of ran) {
      const lane = model.workers.indexOf(t.worker)
      if (lane < 0) continue
      const bar = svg('rect', { class: 'bar', x: x(t.startMs), y: lane * laneH + 3, width: Math.max(1, x(t.endMs ?? now) - x(t.startMs)), height: laneH - 6, fill: COLORS[t.status] || '#777', stroke: '#fff', 'stroke-width': 1, 'data-test': t.id, 'data-attempt': t.attempts })
      bar.append(svg('title', {}, `${t.id} — ${t.retried ? `attempt ${t.attempts}, retried: ` : ''}${t.status}, ${fmtMs(t.durationMs)}${heavy(t) ? `, ${heavy(t)}` : ''}${waited(t)}`))
      bar.addEventListener('click', () => select({ test: t.id }))
      root.append(bar)
      // A heavy or serial test holds more of the capacity than its one worker: said on its bar, so the idle lanes beside it read as kept for it.
      const barWidth = x(t.endMs ?? now) - x(t.startMs)
      if (heavy(t) && barWidth > 48) {
        const label = svg('text', { class: 'bar-label', x: x(t.startMs) + barWidth / 2, y: lane * laneH + 16, 'font-size': 11, 'text-anchor': 'middle', fill: '#fff', 'pointer-events': 'none', 'data-test': t.id }, heavy(t))
        root.append(label)
      }
      for (const g of t.groups || []) {
        const row = model.workers.length + groups.indexOf(g)
        // Translucent: two tests of one group at once (a max above 1) show as a darker overlap.
        const groupBar = svg('rect', { class: 'group-bar', x: x(t.startMs), y: row * laneH + 3, width: Math.max(1, x(t.endMs ?? now) - x(t.startMs)), height: laneH - 6, fill: COLORS[t.status] || '#777', 'fill-opacity': 0.6, stroke: '#fff', 'stroke-width': 1, 'data-test': t.id, 'data-group': g })
        groupBar.append(svg('title', {}, `group ${g}: ${t.id} on ${t.worker}, ${fmtMs(t.durationMs)}${waited(t)}`))
        groupBar.addEventListener('click', () => select({ test: t.id }))
        root.append(groupBar)
      }
    }
    const ticks = 5
    for (let k = 0; k <= ticks; k++) {
      const ms = (end * k) / ticks
      root.append(svg('text', { x: x(ms), y: height - 6, 'font-size': 11, 'text-anchor': k === 0 ? 'start' : k === ticks ? 'end' : 'middle', fill: '#656d76' }, fmtMs(ms)))
    }
    const finished = ran.filter((t) => t.durationMs != null)
    // A test of weight w (a serial test: every worker) uses w workers' time; serial tests add up, beside nothing.
    const sum = finished.reduce((a, t) => a + t.durationMs * (t.weight || 1), 0)
    const serial = finished.filter((t) => t.serial).reduce((a, t) => a + t.durationMs, 0)
    const longest = Math.max(0, ...finished.filter((t) => !t.serial).map((t) => t.durationMs)) + serial
    const bound = Math.max(sum / Math.max(1, model.workers.length), longest)
    const makespan = finished.length ? Math.max(...finished.map((t) => t.endMs)) - Math.min(...finished.map((t) => t.startMs)) : 0
    const caption = el('div', { class: 'caption', id: 'makespan', text: `makespan ${fmtMs(makespan)} · lower bound max(${finished.some((t) => (t.weight || 1) > 1) ? 'weighted ' : ''}sum/${model.workers.length}, longest${serial ? ' + serial' : ''}) = ${fmtMs(bound)}${bound ? ` · ${(makespan / bound).toFixed(2)}× the bound` : ''}` })
    return el('div', { class: 'timeline' }, root, caption)
  }

  async function logOf(worker) {
    if (model.logs[worker] != null) return model.logs[worker]
    if (model.live) {
      const res = await fetch(`log/${encodeURIComponent(worker)}`)
      return res.ok ? res.text() : `(log unavailable: ${res.status})`
    }
    return '(log not embedded)'
  }

  // A TAP test's sub-tests: counts, why the TAP failed it, and the failing names (as text, like all else).
  function renderSubtests(s, row) {
    const total = s.passed + s.failed + s.skipped + s.todo
    const extra = [s.skipped ? `${s.skipped} skipped` : '', s.todo ? `${s.todo} todo` : '', s.failed ? `${s.failed} failed` : ''].filter(Boolean)
    row('sub-tests', `${s.passed}/${total} passed${extra.length ? `, ${extra.join(', ')}` : ''}${s.planned != null ? ` (plan: ${s.planned})` : ''}`)
    for (const p of s.problems || []) row('TAP', p)
    for (const name of s.failures || []) row('failing sub-test', name)
  }

  function renderDetail() {
    const box = el('div', { id: 'detail' })
    if (!selected) {
      box.append(el('p', { class: 'muted', text: 'Click a worker or a test to see its output.' }))
      return box
    }
    if (selected.worker) {
      const pre = el('pre', { class: 'log', 'data-log': selected.worker, text: 'loading…' })
      logOf(selected.worker).then((text) => { pre.textContent = text || '(empty)' })
      box.append(el('h3', { text: `${selected.worker} log` }), pre)
      return box
    }
    const t = model.tests.get(selected.test)
    if (!t) return box
    const dl = el('dl')
    const row = (k, v) => dl.append(el('dt', { text: k }), el('dd', { text: v == null || v === '' ? '-' : String(v) }))
    row('test', t.id)
    row('status', t.status)
    row('worker', t.worker)
    row('exit code', t.exitCode)
    row('signal', t.signal)
    row('attempts', t.attempts)
    row('duration', fmtMs(t.durationMs))
    if (t.error) row('error', t.error)
    if (t.leaked) row('leftover processes ended', t.leaked)
    for (const n of t.notes || []) row('note', n)
    if (t.subtests) renderSubtests(t.subtests, row)
    box.append(el('h3', { text: t.id }), dl)
    for (const p of t.previousAttempts || []) {
      box.append(el('h4', { text: `attempt ${p.attempts}: ${p.status} on ${p.worker}` }), el('pre', { text: p.tail || '(no output)' }))
    }
    box.append(el('h4', { text: 'output (last lines)' }), el('pre', { class: 'output', text: t.tail || '(no output)' }))
    if (t.log) box.append(el('p', { class: 'muted', text: `full output: ${t.log.path}, bytes ${t.log.offset}–${t.log.offset + t.log.length}` }))
    return box
  }

  function subtestList(sub) {
    const dl = el('dl', { class: 'subtests' })
    renderSubtests(sub, (k, v) => dl.append(el('dt', { text: k }), el('dd', { text: String(v) })))
    return dl
  }

  // The page opens on what went wrong: every failure with its output, before anything else.
  function renderFailures(s) {
    const failing = s.tests.filter((t) => isFailure(t.status))
    if (failing.length === 0) return null
    const items = failing.map((t) => {
      const how = [t.worker || 'no worker', t.signal ? `signal ${t.signal}` : t.exitCode != null ? `exit ${t.exitCode}` : null, fmtMs(t.durationMs), t.attempts > 1 ? `${t.attempts} attempts` : null].filter(Boolean).join(', ')
      return el('article', { class: 'failure', 'data-test': t.id },
        el('h3', {}, el('span', { class: `status s-${t.status}`, text: t.status }), ' ', el('a', { href: '#detail', text: t.id, onclick: () => select({ test: t.id }) }), ' ', el('small', { class: 'muted', text: `(${how})` })),
        t.error ? el('p', { class: 'error', text: t.error }) : null,
        ...(t.notes || []).map((n) => el('p', { class: 'muted', text: `note: ${n}` })),
        t.subtests ? subtestList(t.subtests) : null,
        el('pre', { class: 'output', text: t.tail || '(no output)' }),
      )
    })
    return el('section', { id: 'failures' }, el('h2', { text: `Failures (${failing.length})` }), ...items)
  }

  const COLUMNS = [['index', '#'], ['id', 'test'], ['worker', 'worker'], ['status', 'status'], ['durationMs', 'duration'], ['attempts', 'attempts']]

  function renderTable(s) {
    const index = new Map(model.order.map((id, i) => [id, i]))
    let rows = s.tests.map((t) => ({ t, index: index.get(t.id) ?? 0 }))
    if (filter) {
      const f = filter.toLowerCase()
      rows = rows.filter(({ t }) => `${t.id} ${t.status} ${t.worker}`.toLowerCase().includes(f))
    }
    const value = (r) => (sort.key === 'index' ? r.index : r.t[sort.key] ?? -1)
    rows.sort((a, b) => {
      const va = value(a)
      const vb = value(b)
      return (va < vb ? -1 : va > vb ? 1 : a.index - b.index) * sort.dir
    })
    const head = el('tr', {}, ...COLUMNS.map(([key, label]) => el('th', {
      'data-key': key,
      'aria-sort': sort.key === key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none',
      onclick: () => {
        sort = { key, dir: sort.key === key ? -sort.dir : key === 'durationMs' ? -1 : 1 }
        render()
      },
      text: label,
    })))
    const body = el('tbody', {}, ...rows.map(({ t, index: i }) => el('tr', { 'data-test': t.id, onclick: () => select({ test: t.id }) },
      el('td', { class: 'num', text: String(i + 1) }),
      el('td', { text: t.id }),
      el('td', { text: t.worker || '-' }),
      el('td', { class: `status s-${t.status}`, text: t.status }),
      el('td', { class: 'num', text: fmtMs(t.durationMs) }),
      el('td', { class: 'num', text: String(t.attempts) }),
    )))
    const search = el('input', { type: 'search', id: 'filter', placeholder: 'filter by name, status or worker', value: filter })
    search.addEventListener('input', () => {
      filter = search.value
      render()
      const again = document.getElementById('filter')
      again.focus()
      again.setSelectionRange(filter.length, filter.length)
    })
    return el('div', {}, search, el('table', { id: 'tests' }, el('thead', {}, head), body))
  }

  function select(what) {
    selected = what
    render()
  }

  function render() {
    const s = stats()
    const r = model.result
    const state = !model.done ? 'running' : r.interrupted ? `interrupted (${r.interrupted})` : s.failed ? 'failed' : 'passed'
    const color = !model.done ? COLORS.running : r.interrupted ? COLORS.interrupted : s.failed ? COLORS.failed : COLORS.passed
    const header = el('header', {},
      el('h1', { text: 'claimrun' }),
      el('span', { class: 'badge', id: 'run-state', style: `background:${color}`, text: state }),
      el('span', { class: 'muted', text: model.done ? `${plural(r.tests.length, 'test')} · ${fmtMs(r.durationMs)} · ${plural(model.workers.length, 'worker')} · started ` : `${s.done.length}/${model.total ?? '?'} done · ${plural(model.workers.length, 'worker')} · started ` },
        model.startedAt ? el('time', { id: 'started', datetime: model.startedAt, title: model.startedAt, text: localTime(model.startedAt) }) : null),
      renderCounts(s),
    )
    const mainEl = el('main', {},
      renderFailures(s),
      el('section', { id: 'pipeline' }, el('h2', { text: 'Pipeline' }), renderPipeline(s)),
      el('section', { id: 'timeline' }, el('h2', { text: 'Timeline' }), renderTimeline(s)),
      el('section', {}, el('h2', { text: 'Details' }), renderDetail()),
      el('section', {}, el('h2', { text: 'Tests' }), renderTable(s)),
    )
    document.body.replaceChildren(header, mainEl)
    document.title = `claimrun — ${state}`
  }

  if (data.result) applyResult(data.result)
  render()
  if (model.live && !model.done) {
    let pending = false
    const schedule = () => {
      if (pending) return
      pending = true
      setTimeout(() => {
        pending = false
        render()
      }, 250)
    }
    const source = new EventSource('events')
    source.addEventListener('message', (m) => {
      const event = JSON.parse(m.data)
      apply(event)
      if (event.type === 'run:end') {
        source.close()
        render()
      } else schedule()
    })
  }
  window.claimrunReport = { model }
})()
