// app.js - tickpipe's dashboard: initial data through the REST API, live
// updates over /ws (trades, candles, averages, stats), reconnect with backoff.
// Feed gaps (/api/gaps) are drawn as shaded bands over the chart: an overlay
// of plain elements placed through the time scale's logical coordinates
// (interpolated between whole bars), so a gap that falls between two bars
// (or is shorter than one) still shows where it happened.
// No build step: lightweight-charts' standalone bundle defines the global
// LightweightCharts; both files are embedded into the tickpipe binary.
'use strict';

(function () {
  const LWC = window.LightweightCharts;
  const $ = (id) => document.getElementById(id);
  const TAPE_ROWS = 50;
  const AVG_ROWS = 24;

  const state = {
    symbol: null,
    interval: '1m',
    candles: new Map(), // start ms -> candle, for the current symbol and interval
    lastBar: 0,
    averages: new Map(), // window_start -> row
    tape: [],
    tapeIds: new Set(),
    ws: null,
    wsUp: false,
    backoff: 1000,
    live: { trades: 0, candles: 0, averages: 0, stats: 0 },
    loadSeq: 0,
    gaps: [], // feed gaps of the symbol overlapping the shown candles
  };

  // ---- chart ----
  const chart = LWC.createChart($('chart'), {
    autoSize: true,
    layout: { background: { color: '#171e26' }, textColor: '#b8c2cc' },
    grid: { vertLines: { color: '#1f2933' }, horzLines: { color: '#1f2933' } },
    timeScale: { timeVisible: true, secondsVisible: true, borderColor: '#2c3845' },
    rightPriceScale: { borderColor: '#2c3845' },
    crosshair: { mode: 0 },
  });
  const candleSeries = chart.addSeries(LWC.CandlestickSeries, {
    upColor: '#26a69a', downColor: '#ef5350', borderVisible: false,
    wickUpColor: '#26a69a', wickDownColor: '#ef5350',
  });
  const volumeSeries = chart.addSeries(LWC.HistogramSeries, {
    priceFormat: { type: 'volume' }, priceScaleId: 'vol', color: '#3d5a80',
    lastValueVisible: false, priceLineVisible: false,
  });
  chart.priceScale('vol').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  // For tests and the curious: window.tickpipe.state, .chart.
  window.tickpipe = { state, chart };
  candleSeries.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });

  function priceFormatFor(p) {
    const precision = p >= 1000 ? 2 : p >= 1 ? 3 : p >= 0.01 ? 5 : 8;
    return { type: 'price', precision, minMove: Math.pow(10, -precision) };
  }

  function bar(c) {
    return { time: Math.floor(c.start / 1000), open: c.open, high: c.high, low: c.low, close: c.close };
  }
  function volBar(c) {
    return { time: Math.floor(c.start / 1000), value: c.volume || 0,
      color: c.close >= c.open ? 'rgba(38,166,154,0.5)' : 'rgba(239,83,80,0.5)' };
  }
  function redraw() {
    const rows = [...state.candles.values()].sort((a, b) => a.start - b.start);
    candleSeries.setData(rows.map(bar));
    volumeSeries.setData(rows.map(volBar));
    state.lastBar = rows.length ? rows[rows.length - 1].start : 0;
    $('chart-empty').style.display = rows.length ? 'none' : '';
    if (rows.length) candleSeries.applyOptions({ priceFormat: priceFormatFor(rows[rows.length - 1].close) });
    drawGaps();
  }

  // ---- feed gaps ----
  // "5m" -> 300000; the server rolls intervals other than 1s and 1m up from
  // the stored 1 s or 1 min candles (its base), whose live pushes then
  // mean "this bucket changed"
  const UNIT_MS = { s: 1000, m: 60000, h: 3600000, d: 86400000 };
  const msOf = (iv) => parseInt(iv, 10) * UNIT_MS[iv[iv.length - 1]];
  const intervalMs = () => msOf(state.interval);
  const baseSeconds = () => (intervalMs() % 60000 === 0 ? 60 : 1);
  // ms -> fractional logical index over the bars on the chart (between two
  // bars by linear interpolation, past either end by whole intervals)
  function logicalOf(ms, starts) {
    const iv = intervalMs();
    if (!starts.length) return null;
    if (ms <= starts[0]) return (ms - starts[0]) / iv;
    const last = starts.length - 1;
    if (ms >= starts[last]) return last + (ms - starts[last]) / iv;
    let lo = 0, hi = last;
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (starts[mid] <= ms) lo = mid; else hi = mid; }
    return lo + (ms - starts[lo]) / (starts[hi] - starts[lo]);
  }
  // x of a fractional logical index: the time scale maps whole indexes only
  // (a fractional one comes back as 0, the chart's left edge), so the line
  // between the two whole indexes around it; their spacing is the same
  // everywhere, and past either end of the bars too
  function xOfLogical(ts, logical) {
    const i = Math.floor(logical);
    const a = ts.logicalToCoordinate(i);
    if (a == null || logical === i) return a;
    const b = ts.logicalToCoordinate(i + 1);
    return b == null ? null : a + (logical - i) * (b - a);
  }
  function fmtDuration(ms) {
    if (ms < 1000) return ms + ' ms';
    if (ms < 120000) return (ms / 1000).toFixed(1) + ' s';
    return (ms / 60000).toFixed(1) + ' min';
  }
  function drawGaps() {
    const layer = $('gaps');
    layer.replaceChildren();
    const starts = [...state.candles.keys()].sort((a, b) => a - b);
    if (!starts.length) return;
    const ts = chart.timeScale();
    // the plot area: left of the price scale, above the time scale
    const width = ts.width();
    layer.style.width = width + 'px';
    layer.style.bottom = ts.height() + 'px';
    for (const g of state.gaps) {
      // a time at a bar's start is where the time axis labels it: the bar's centre
      const a = xOfLogical(ts, logicalOf(g.from, starts));
      const b = xOfLogical(ts, logicalOf(g.to, starts));
      if (a == null || b == null || b < 0 || a > width) continue;
      const left = Math.max(0, a), right = Math.min(width, Math.max(b, a + 2));
      const el = document.createElement('div');
      el.className = 'gap-band';
      el.style.left = left + 'px';
      el.style.width = Math.max(2, right - left) + 'px';
      el.dataset.from = g.from;
      el.dataset.to = g.to;
      el.dataset.reason = g.reason;
      el.dataset.connection = g.connection;
      if (g.expected === false) el.classList.add('closed');
      el.title = `feed gap (${g.reason}), ${fmtDuration(g.to - g.from)}: no trades between ` +
        `${fmtTime(g.from)} and ${fmtTime(g.to)} UTC on connection ${g.connection}` +
        (g.expected === false ? '; its market was closed, so no trades were expected' : '');
      layer.appendChild(el);
    }
  }
  async function loadGaps(seq) {
    const starts = [...state.candles.keys()];
    if (!state.symbol || !starts.length) { state.gaps = []; drawGaps(); return; }
    const from = Math.min(...starts);
    try {
      const j = await getJSON(`/api/gaps?symbol=${encodeURIComponent(state.symbol)}&from=${from}&limit=500`);
      if (seq !== undefined && seq !== state.loadSeq) return;
      state.gaps = j.gaps;
    } catch (e) {
      state.gaps = []; // a store without gaps (501) shows none
    }
    drawGaps();
  }
  function upsertCandle(c) {
    if (c.open == null || c.close == null) return;
    const fresh = !state.candles.has(c.start);
    state.candles.set(c.start, c);
    if (c.start >= state.lastBar) {
      // lightweight-charts only updates the newest bar in place
      candleSeries.update(bar(c));
      volumeSeries.update(volBar(c));
      state.lastBar = c.start;
      if (fresh) $('chart-empty').style.display = 'none';
    } else {
      redraw();
    }
  }

  // ---- tables ----
  const fmtTime = (ms) => new Date(ms).toISOString().substring(11, 23);
  const fmtClock = (ms) => new Date(ms).toISOString().substring(11, 19);
  function fmtNum(v, digits) {
    if (v == null || !isFinite(v)) return '-';
    return Number(v).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  }
  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }

  // ---- watchlist (/api/watchlist, polled) ----
  function sparkline(points) {
    const w = 64, h = 18, NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('width', w);
    svg.setAttribute('height', h);
    const ys = points.map((p) => p[1]).filter((v) => v != null);
    if (ys.length >= 2) {
      const lo = Math.min(...ys), hi = Math.max(...ys), span = hi - lo || 1;
      const line = document.createElementNS(NS, 'polyline');
      line.setAttribute('points', ys.map((v, i) => `${(i * (w - 2)) / (ys.length - 1) + 1},${h - 2 - ((v - lo) * (h - 4)) / span}`).join(' '));
      line.setAttribute('fill', 'none');
      line.setAttribute('stroke', ys[ys.length - 1] >= ys[0] ? '#26a69a' : '#ef5350');
      line.setAttribute('stroke-width', '1.2');
      svg.appendChild(line);
    }
    return svg;
  }
  async function loadWatchlist() {
    let j;
    try { j = await getJSON('/api/watchlist'); } catch (e) { return; }
    state.watchlist = j.symbols;
    const body = $('watchlist').tBodies[0];
    body.replaceChildren();
    for (const s of [...j.symbols].sort((a, b) => (a.symbol < b.symbol ? -1 : 1))) {
      const tr = document.createElement('tr');
      tr.dataset.symbol = s.symbol;
      if (s.symbol === state.symbol) tr.className = 'sel';
      cell(tr, s.symbol);
      cell(tr, s.last_price == null ? '-' : s.last_price.toFixed(priceFormatFor(s.last_price).precision), 'num');
      const pct = s.change_pct;
      cell(tr, pct == null ? '-' : (pct > 0 ? '+' : '') + pct.toFixed(2) + '%', 'num ' + (pct > 0 ? 'up' : pct < 0 ? 'down' : ''));
      cell(tr, fmtNum(s.trades_per_s, 1), 'num');
      const td = document.createElement('td');
      td.appendChild(sparkline(s.sparkline));
      tr.appendChild(td);
      tr.title = `day open ${fmtNum(s.day_open, 8)}, high ${fmtNum(s.day_high, 8)}, low ${fmtNum(s.day_low, 8)}, ` +
        `volume ${fmtNum(s.day_volume, 4)}, ${s.day_trade_count} trades today (UTC)`;
      tr.addEventListener('click', () => selectSymbol(s.symbol));
      body.appendChild(tr);
    }
  }

  function addTrades(rows) {
    for (const t of rows) {
      if (state.tapeIds.has(t.id)) continue;
      state.tapeIds.add(t.id);
      state.tape.push(t);
    }
    state.tape.sort((a, b) => b.ts - a.ts);
    if (state.tape.length > TAPE_ROWS) {
      for (const t of state.tape.splice(TAPE_ROWS)) state.tapeIds.delete(t.id);
    }
    const body = $('tape').tBodies[0];
    body.replaceChildren();
    state.tape.forEach((t, i) => {
      const tr = document.createElement('tr');
      const prev = state.tape[i + 1];
      if (prev) tr.className = t.price >= prev.price ? 'up' : 'down';
      cell(tr, fmtTime(t.ts));
      cell(tr, fmtNum(t.price, 8), 'num p');
      cell(tr, fmtNum(t.volume, 8), 'num');
      cell(tr, t.conditions == null ? '' : t.conditions.join(' '));
      body.appendChild(tr);
    });
    if (state.tape.length) $('h-last').textContent = fmtNum(state.tape[0].price, 8);
  }

  function addAverages(rows) {
    for (const a of rows) state.averages.set(a.window_start, a);
    const all = [...state.averages.values()].sort((a, b) => b.window_start - a.window_start);
    for (const a of all.slice(AVG_ROWS)) state.averages.delete(a.window_start);
    const body = $('averages').tBodies[0];
    body.replaceChildren();
    for (const a of all.slice(0, AVG_ROWS)) {
      const tr = document.createElement('tr');
      if (!a.final) tr.className = 'open';
      cell(tr, fmtClock(a.window_start) + '-' + fmtClock(a.window_end));
      cell(tr, fmtNum(a.price_volume_multiply, 4), 'num');
      cell(tr, String(a.trade_count), 'num');
      cell(tr, a.final ? '' : 'open');
      body.appendChild(tr);
    }
  }

  function showStats(s) {
    $('h-rate').textContent = s.trades_per_s == null ? '-' : fmtNum(s.trades_per_s, 1);
    $('h-ingest').textContent = s.ingest_per_s == null ? '-' : fmtNum(s.ingest_per_s, 1);
    $('h-stored').textContent = fmtNum(s.stored_trades, 0);
    $('h-lag').textContent = s.lag_ms == null ? '-' : fmtNum(s.lag_ms, 0) + ' ms';
    $('h-errors').textContent = fmtNum(s.errors, 0);
    let store = s.store + (s.store_error ? ': ' + s.store_error : '');
    const el = $('h-store');
    el.classList.remove('bad');
    // run: the pipeline's own health (the writer), which the reader's state cannot show
    if (s.health && s.health.status !== 'ok') {
      const probs = (s.health.problems || []).map(
        (p) => p.part + ' failing for ' + Math.round(p.for_s) + ' s' + (p.detail ? ': ' + p.detail : ''));
      if (probs.length) store = probs.join('; ');
      el.classList.add('bad');
    }
    el.textContent = store;
  }

  // ---- REST ----
  async function getJSON(path) {
    const r = await fetch(path, { cache: 'no-store' });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
    return j;
  }

  async function loadSymbols() {
    try {
      const j = await getJSON('/api/symbols');
      const sel = $('symbol');
      const have = new Set([...sel.options].map((o) => o.value));
      const names = j.symbols.map((s) => s.symbol).sort();
      for (const n of names) {
        if (have.has(n)) continue;
        const o = document.createElement('option');
        o.value = o.textContent = n;
        sel.appendChild(o);
      }
      if (!state.symbol && names.length) {
        const want = new URLSearchParams(location.search).get('symbol');
        selectSymbol(want && names.includes(want) ? want : names[0]);
      }
    } catch (e) {
      $('h-store').textContent = 'unavailable: ' + e.message;
    }
  }

  async function loadData() {
    const seq = ++state.loadSeq;
    const sym = encodeURIComponent(state.symbol);
    try {
      const [c, a, t] = await Promise.all([
        getJSON(`/api/candles?symbol=${sym}&interval=${state.interval}&limit=1000`),
        getJSON(`/api/averages?symbol=${sym}&limit=${AVG_ROWS}`),
        getJSON(`/api/trades?symbol=${sym}&limit=${TAPE_ROWS}`),
      ]);
      if (seq !== state.loadSeq) return; // the user switched again meanwhile
      state.candles.clear();
      for (const row of c.candles) state.candles.set(row.start, row);
      redraw();
      chart.timeScale().scrollToRealTime();
      loadGaps(seq);
      state.averages.clear();
      addAverages(a.averages);
      state.tape = [];
      state.tapeIds.clear();
      addTrades(t.trades);
    } catch (e) {
      $('h-store').textContent = 'unavailable: ' + e.message;
    }
  }

  function selectSymbol(s) {
    state.symbol = s;
    for (const tr of $('watchlist').tBodies[0].rows) tr.classList.toggle('sel', tr.dataset.symbol === s);
    $('symbol').value = s;
    const u = new URL(location.href);
    u.searchParams.set('symbol', s);
    history.replaceState(null, '', u);
    state.candles.clear();
    redraw();
    loadData();
    subscribe();
  }

  function setInterval_(iv) {
    state.interval = iv;
    for (const b of document.querySelectorAll('.toggle button')) b.classList.toggle('on', b.dataset.interval === iv);
    if (state.symbol) loadData();
  }

  // ---- rolled-up intervals, live ----
  const refresh = { from: null, timer: null };
  function refreshBucket(start) {
    if (refresh.from === null || start < refresh.from) refresh.from = start;
    if (refresh.timer) return;
    refresh.timer = setTimeout(async () => {
      const from = refresh.from, iv = state.interval, sym = state.symbol, seq = state.loadSeq;
      refresh.from = null;
      refresh.timer = null;
      try {
        const c = await getJSON(`/api/candles?symbol=${encodeURIComponent(sym)}&interval=${iv}&from=${from}`);
        if (seq !== state.loadSeq || iv !== state.interval || sym !== state.symbol) return;
        for (const row of c.candles) { state.live.candles++; upsertCandle(row); }
      } catch (e) { /* the next push tries again */ }
    }, 1000);
  }

  // ---- /ws ----
  function subscribe() {
    if (state.ws && state.wsUp && state.symbol) state.ws.send(JSON.stringify({ symbol: state.symbol }));
  }

  function onMessage(ev) {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.type === 'stats') {
      state.live.stats++;
      showStats(m);
      return;
    }
    if (m.symbol !== state.symbol) return;
    if (m.type === 'trades') {
      state.live.trades += m.data.length;
      addTrades(m.data);
    } else if (m.type === 'candles') {
      const iv = intervalMs();
      if (iv === 1000 || iv === 60000) {
        for (const c of m.data) if (c.interval * 1000 === iv) { state.live.candles++; upsertCandle(c); }
      } else {
        // a rolled-up interval: a pushed part changes its bucket, which is
        // fetched again (at most once a second) so it stays exact
        for (const c of m.data) if (c.interval === baseSeconds()) refreshBucket(Math.floor(c.start / iv) * iv);
      }
    } else if (m.type === 'averages') {
      state.live.averages += m.data.length;
      addAverages(m.data);
    }
  }

  function connect() {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    state.ws = ws;
    ws.onopen = () => {
      const wasDown = state.everUp;
      state.wsUp = true;
      state.everUp = true;
      state.backoff = 1000;
      $('conn').textContent = 'live';
      $('conn').className = 'conn up';
      subscribe();
      if (wasDown) { loadSymbols(); if (state.symbol) loadData(); } // catch up what was missed
    };
    ws.onmessage = onMessage;
    ws.onclose = () => {
      state.wsUp = false;
      $('conn').textContent = 'reconnecting';
      $('conn').className = 'conn down';
      const wait = state.backoff * (0.75 + Math.random() * 0.5);
      state.backoff = Math.min(state.backoff * 2, 15000);
      setTimeout(connect, wait);
    };
    ws.onerror = () => ws.close();
  }

  // ---- start ----
  $('symbol').addEventListener('change', (e) => selectSymbol(e.target.value));
  for (const b of document.querySelectorAll('.toggle button')) b.addEventListener('click', () => setInterval_(b.dataset.interval));
  chart.timeScale().subscribeVisibleLogicalRangeChange(drawGaps);
  chart.timeScale().subscribeSizeChange(drawGaps);
  loadSymbols();
  setInterval(loadSymbols, 10000); // symbols that appear later
  loadWatchlist();
  setInterval(loadWatchlist, 2000);
  setInterval(() => loadGaps(), 10000); // gaps found since
  connect();
})();
