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
    tz: 'UTC', // or 'local': how times are shown (the data is UTC)
    // candles a load asks for (?candles=N in the page's address, 10 to 5000)
    page: Math.min(5000, Math.max(10, parseInt(new URLSearchParams(location.search).get('candles'), 10) || 1000)),
    older: { loading: false, done: false }, // loading candles left of the oldest shown
  };

  // ---- time, shown in UTC or local time ----
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  function parts(ms) {
    const d = new Date(ms), u = state.tz === 'UTC';
    return {
      y: u ? d.getUTCFullYear() : d.getFullYear(), mo: (u ? d.getUTCMonth() : d.getMonth()) + 1,
      d: u ? d.getUTCDate() : d.getDate(), h: u ? d.getUTCHours() : d.getHours(),
      mi: u ? d.getUTCMinutes() : d.getMinutes(), s: u ? d.getUTCSeconds() : d.getSeconds(),
      ms: u ? d.getUTCMilliseconds() : d.getMilliseconds(),
    };
  }
  const fmtTime = (ms) => { const p = parts(ms); return `${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}.${pad(p.ms, 3)}`; };
  const fmtClock = (ms) => { const p = parts(ms); return `${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}`; };
  const fmtDay = (ms) => { const p = parts(ms); return `${p.y}-${pad(p.mo)}-${pad(p.d)}`; };
  const tzName = () => (state.tz === 'UTC' ? 'UTC' : 'local time');

  // ---- chart ----
  const chart = LWC.createChart($('chart'), {
    autoSize: true,
    layout: { background: { color: '#171e26' }, textColor: '#b8c2cc' },
    grid: { vertLines: { color: '#1f2933' }, horzLines: { color: '#1f2933' } },
    timeScale: {
      timeVisible: true, secondsVisible: true, borderColor: '#2c3845',
      // 0-2: year, month, day marks; 3-4: time marks
      tickMarkFormatter: (t, type) => (type <= 2 ? fmtDay(t * 1000) : type === 3 ? fmtClock(t * 1000).substring(0, 5) : fmtClock(t * 1000)),
    },
    localization: { timeFormatter: (t) => `${fmtDay(t * 1000)} ${fmtClock(t * 1000)}` },
    rightPriceScale: { borderColor: '#2c3845' },
    crosshair: { mode: 0 },
  });
  const candleSeries = chart.addSeries(LWC.CandlestickSeries, {
    upColor: '#26a69a', downColor: '#ef5350', borderVisible: false,
    wickUpColor: '#26a69a', wickDownColor: '#ef5350',
    // the last price is the newest trade's, as in the header (lastLine),
    // not the newest candle's close, which the store writes a little later
    lastValueVisible: false, priceLineVisible: false,
  });
  let lastLine = null;
  function showLastPrice() {
    const t = state.tape[0];
    if (!t || t.price == null) {
      if (lastLine) { candleSeries.removePriceLine(lastLine); lastLine = null; }
      $('h-last').textContent = '-';
      return;
    }
    const p = state.precision || precisionOf([t.price]);
    $('h-last').textContent = `${state.symbol} ${Number(t.price).toFixed(p)}`;
    const opts = { price: t.price, color: '#4aa3ff', lineWidth: 1, lineStyle: 2, axisLabelVisible: true, title: '' };
    if (lastLine) lastLine.applyOptions(opts);
    else lastLine = candleSeries.createPriceLine(opts);
    window.tickpipe.lastLine = lastLine;
  }
  const volumeSeries = chart.addSeries(LWC.HistogramSeries, {
    priceFormat: { type: 'volume' }, priceScaleId: 'vol', color: '#3d5a80',
    lastValueVisible: false, priceLineVisible: false,
  });
  chart.priceScale('vol').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  // each candle's VWAP (null without volume: no point)
  const vwapSeries = chart.addSeries(LWC.LineSeries, {
    color: '#f0b429', lineWidth: 1, lastValueVisible: false, priceLineVisible: false,
    crosshairMarkerVisible: false, title: 'VWAP',
  });
  // For tests and the curious: window.tickpipe.state, .chart, the series.
  window.tickpipe = { state, chart, candleSeries, vwapSeries };
  candleSeries.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });

  // The instrument's precision: the most decimals its prices show (EUR/USD
  // 1.08423 -> 5), at least 2, at most 10; from the size of the price when
  // there are no prices to look at.
  const decimals = (v) => { const t = String(v); if (t.includes('e')) return 10; const i = t.indexOf('.'); return i < 0 ? 0 : t.length - i - 1; };
  function precisionOf(values) {
    let p = 2;
    for (const v of values) if (v != null && isFinite(v)) p = Math.max(p, Math.min(10, decimals(v)));
    return p;
  }
  function priceFormatFor(p, seen) {
    const precision = seen && seen.length ? precisionOf(seen) : p >= 1000 ? 2 : p >= 1 ? 3 : p >= 0.01 ? 5 : 8;
    return { type: 'price', precision, minMove: Math.pow(10, -precision) };
  }

  function bar(c) {
    return { time: Math.floor(c.start / 1000), open: c.open, high: c.high, low: c.low, close: c.close };
  }
  function volBar(c) {
    return { time: Math.floor(c.start / 1000), value: c.volume || 0,
      color: c.close >= c.open ? 'rgba(38,166,154,0.5)' : 'rgba(239,83,80,0.5)' };
  }
  const vwapPoint = (c) => (c.vwap == null ? { time: Math.floor(c.start / 1000) } : { time: Math.floor(c.start / 1000), value: c.vwap });
  function redraw() {
    const rows = [...state.candles.values()].sort((a, b) => a.start - b.start);
    candleSeries.setData(rows.map(bar));
    volumeSeries.setData(rows.map(volBar));
    vwapSeries.setData(rows.map(vwapPoint));
    state.lastBar = rows.length ? rows[rows.length - 1].start : 0;
    $('chart-empty').style.display = rows.length ? 'none' : '';
    if (rows.length) {
      const recent = rows.slice(-200).flatMap((c) => [c.open, c.high, c.low, c.close]);
      state.precision = precisionOf(recent);
      candleSeries.applyOptions({ priceFormat: priceFormatFor(rows[rows.length - 1].close, recent) });
    }
    // a feed without volume (FX quotes): say so instead of an empty histogram
    $('no-volume').style.display = rows.length && rows.every((c) => !c.volume) ? '' : 'none';
    drawGaps();
    refreshReadout();
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
        `${fmtTime(g.from)} and ${fmtTime(g.to)} ${tzName()} on connection ${g.connection}` +
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
      vwapSeries.update(vwapPoint(c));
      refreshReadout();
      state.lastBar = c.start;
      if (fresh) $('chart-empty').style.display = 'none';
    } else {
      redraw();
    }
  }

  // ---- crosshair readout: the candle under the cursor (the newest otherwise) ----
  function showReadout(c) {
    const el = $('readout');
    if (!c) { el.textContent = ''; return; }
    const p = state.precision || 2;
    const f = (v) => (v == null ? '-' : Number(v).toFixed(p));
    el.replaceChildren();
    const add = (k, v, cls) => {
      const b = document.createElement('span');
      b.className = 'k';
      b.textContent = k;
      const x = document.createElement('span');
      x.textContent = v;
      if (cls) x.className = cls;
      el.append(b, x);
    };
    add('', `${fmtDay(c.start)} ${fmtClock(c.start)} ${tzName()}`);
    add('O', f(c.open)); add('H', f(c.high)); add('L', f(c.low));
    add('C', f(c.close), c.close >= c.open ? 'up' : 'down');
    add('V', fmtNum(c.volume, 8)); add('VWAP', f(c.vwap)); add('trades', String(c.count));
    if (!c.final) add('', 'open', 'dim');
    if (c.incomplete) add('', 'incomplete: overlaps a feed gap', 'warn');
  }
  chart.subscribeCrosshairMove((param) => {
    const c = param && param.time !== undefined ? state.candles.get(param.time * 1000) : null;
    state.hover = c ? c.start : null;
    showReadout(c || state.candles.get(state.lastBar));
  });
  const refreshReadout = () => showReadout(state.candles.get(state.hover != null ? state.hover : state.lastBar));

  // ---- older candles, loaded as the view reaches the oldest shown ----
  async function loadOlder() {
    if (state.older.loading || state.older.done || !state.symbol || !state.candles.size) return;
    state.older.loading = true;
    const seq = state.loadSeq, oldest = Math.min(...state.candles.keys());
    try {
      const j = await getJSON(`/api/candles?symbol=${encodeURIComponent(state.symbol)}&interval=${state.interval}&to=${oldest}&limit=${state.page}`);
      if (seq !== state.loadSeq) return;
      if (j.candles.length < state.page) state.older.done = true; // the store has no more
      if (!j.candles.length) return;
      const range = chart.timeScale().getVisibleLogicalRange();
      let added = 0;
      for (const row of j.candles) if (!state.candles.has(row.start)) { state.candles.set(row.start, row); added++; }
      state.older.loaded = (state.older.loaded || 0) + added;
      redraw();
      // keep the view where it was: the bars moved right by what was added
      if (range) chart.timeScale().setVisibleLogicalRange({ from: range.from + added, to: range.to + added });
      loadGaps(seq);
    } catch (e) { /* tried again on the next scroll */ } finally { state.older.loading = false; }
    // the view still reaches past the oldest bar: go on
    const r = chart.timeScale().getVisibleLogicalRange();
    if (r && r.from < 10 && !state.older.done) setTimeout(loadOlder, 0);
  }

  // ---- tables ----
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
    // rows are kept and updated in place (a row under the pointer or being
    // clicked stays the same element); new symbols get a row, gone ones lose it
    const body = $('watchlist').tBodies[0];
    const rows = new Map([...body.rows].map((tr) => [tr.dataset.symbol, tr]));
    const seen = new Set();
    for (const s of [...j.symbols].sort((a, b) => (a.symbol < b.symbol ? -1 : 1))) {
      seen.add(s.symbol);
      let tr = rows.get(s.symbol);
      if (!tr) {
        tr = document.createElement('tr');
        tr.dataset.symbol = s.symbol;
        for (let i = 0; i < 5; i++) tr.appendChild(document.createElement('td'));
        tr.cells[1].className = 'num';
        tr.cells[3].className = 'num';
        tr.addEventListener('click', () => selectSymbol(s.symbol));
      }
      body.appendChild(tr); // in symbol order (moves an existing row)
      tr.classList.toggle('sel', s.symbol === state.symbol);
      const prec = precisionOf([s.last_price, s.day_open, s.day_high, s.day_low, ...s.sparkline.map((p) => p[1])]);
      const pct = s.change_pct;
      tr.cells[0].textContent = s.symbol;
      tr.cells[1].textContent = s.last_price == null ? '-' : s.last_price.toFixed(prec);
      tr.cells[2].textContent = pct == null ? '-' : (pct > 0 ? '+' : '') + pct.toFixed(2) + '%';
      tr.cells[2].className = 'num ' + (pct > 0 ? 'up' : pct < 0 ? 'down' : '');
      tr.cells[3].textContent = fmtNum(s.trades_per_s, 1);
      tr.cells[4].replaceChildren(sparkline(s.sparkline));
      tr.title = `day open ${fmtNum(s.day_open, 8)}, high ${fmtNum(s.day_high, 8)}, low ${fmtNum(s.day_low, 8)}, ` +
        `volume ${fmtNum(s.day_volume, 4)}, ${s.day_trade_count} trades today (UTC)`;
    }
    for (const [sym, tr] of rows) if (!seen.has(sym)) tr.remove();
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
    showLastPrice();
  }

  function addAverages(rows) {
    for (const a of rows) state.averages.set(a.window_start, a);
    const all = [...state.averages.values()].sort((a, b) => b.window_start - a.window_start);
    for (const a of all.slice(AVG_ROWS)) state.averages.delete(a.window_start);
    const body = $('averages').tBodies[0];
    body.replaceChildren();
    if (!all.length && state.candles.size && [...state.candles.values()].every((c) => !c.volume)) {
      // price x volume needs volume: a quote feed (FX) has none
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 4;
      td.className = 'note-row';
      td.textContent = 'none: this feed carries no volume, so there is no price \u00d7 volume to average';
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
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
        getJSON(`/api/candles?symbol=${sym}&interval=${state.interval}&limit=${state.page}`),
        getJSON(`/api/averages?symbol=${sym}&limit=${AVG_ROWS}`),
        getJSON(`/api/trades?symbol=${sym}&limit=${TAPE_ROWS}`),
      ]);
      if (seq !== state.loadSeq) return; // the user switched again meanwhile
      state.candles.clear();
      state.older = { loading: false, done: c.candles.length < state.page };
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
  {
    const iv = new URLSearchParams(location.search).get('interval');
    if (iv && document.querySelector(`.toggle button[data-interval="${CSS.escape(iv)}"]`)) setInterval_(iv);
  }
  $('symbol').addEventListener('change', (e) => selectSymbol(e.target.value));
  for (const b of document.querySelectorAll('.toggle button')) b.addEventListener('click', () => setInterval_(b.dataset.interval));
  chart.timeScale().subscribeVisibleLogicalRangeChange((r) => {
    drawGaps();
    if (r && r.from < 10) loadOlder();
  });
  $('tz').addEventListener('click', () => {
    state.tz = state.tz === 'UTC' ? 'local' : 'UTC';
    $('tz').textContent = state.tz === 'UTC' ? 'UTC' : 'local';
    chart.applyOptions({}); // formatters read state.tz: redraw the axis
    redraw();
    loadData();
  });
  chart.timeScale().subscribeSizeChange(drawGaps);
  loadSymbols();
  setInterval(loadSymbols, 10000); // symbols that appear later
  loadWatchlist();
  setInterval(loadWatchlist, 2000);
  setInterval(() => loadGaps(), 10000); // gaps found since
  connect();
})();
