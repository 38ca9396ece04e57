// dashboard.mjs - the dashboard in Debian's headless Chromium, driven by
// playwright-core (from web/node_modules): the page loads without errors,
// the candlestick chart draws, trades arrive live over /ws, switching symbol
// and interval works. Saves a screenshot.
//   node dashboard.mjs BASE_URL SCREENSHOT.png
// Exits non-zero with a message on the first failed check.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [base, shot] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = await import(path.join(here, '../../web/node_modules/playwright-core/index.mjs'));

const fail = (msg) => { console.error('FAIL: ' + msg); process.exitCode = 1; throw new Error(msg); };
const ok = (msg) => console.log('ok - ' + msg);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('requestfailed', (r) => errors.push('request failed: ' + r.url()));

  const resp = await page.goto(base + '/');
  if (!resp || resp.status() !== 200) fail('GET / gave ' + (resp && resp.status()));
  const wait = (fn, arg, what) => page.waitForFunction(fn, arg, { timeout: 30000 }).catch(() => fail('timed out: ' + what));

  // symbols from REST, the first selected
  await wait(() => document.querySelectorAll('#symbol option').length >= 3, null, 'symbol list');
  const symbols = await page.$$eval('#symbol option', (os) => os.map((o) => o.value));
  for (const s of ['AAPL', 'BINANCE:BTCUSDT', 'MSFT']) if (!symbols.includes(s)) fail(`symbol ${s} not offered: ${symbols}`);
  ok('symbol picker lists ' + symbols.join(', '));
  if ((await page.$eval('#symbol', (e) => e.value)) !== 'AAPL') fail('AAPL should be selected first');

  // the chart draws: candles in the up/down colours on the chart's canvases
  await wait(() => window.tickpipe.state.candles.size > 0, null, 'candles loaded');
  const colored = () => page.evaluate(() => {
    let n = 0;
    for (const c of document.querySelectorAll('#chart canvas')) {
      if (!c.width || !c.height) continue;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4) {
        const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
        if ((r === 38 && g === 166 && b === 154) || (r === 239 && g === 83 && b === 80)) n++;
      }
    }
    return n;
  });
  await wait(() => true, null, 'paint');
  let px = 0;
  // up to 30 s, as every other wait here: painting takes longer on a loaded machine
  for (let i = 0; i < 300 && px < 20; i++) { px = await colored(); if (px < 20) await page.waitForTimeout(100); }
  if (px < 20) fail(`no candles drawn on the chart canvas (${px} candle-coloured pixels)`);
  ok(`chart drawn (${px} candle-coloured pixels)`);

  // trades arrive live over /ws and reach the tape
  await wait(() => document.querySelector('#conn').textContent === 'live', null, '/ws connected');
  await wait(() => window.tickpipe.state.live.trades >= 20, null, 'live trades for AAPL');
  await wait(() => document.querySelectorAll('#tape tbody tr').length >= 10, null, 'trade tape');
  const aaplPrices = await page.$$eval('#tape tbody tr td.p', (tds) => tds.map((t) => Number(t.textContent.replace(/,/g, ''))));
  if (!aaplPrices.every((p) => p > 100 && p < 300)) fail('AAPL tape shows prices of another symbol: ' + aaplPrices);
  await wait(() => window.tickpipe.state.live.stats >= 2 && document.querySelector('#h-rate').textContent !== '-', null, 'health stats');
  const health = await page.$eval('#health', (e) => e.innerText.replace(/\s+/g, ' '));
  ok('live: ' + (await page.evaluate(() => window.tickpipe.state.live.trades)) + ' AAPL trades pushed; health: ' + health);
  await wait(() => document.querySelectorAll('#averages tbody tr').length >= 1, null, 'averages table');
  ok('15-second averages table filled');

  // switch symbol: REST reload and live trades of the new symbol only
  const before = await page.evaluate(() => window.tickpipe.state.live.trades);
  await page.selectOption('#symbol', 'BINANCE:BTCUSDT');
  await wait(() => window.tickpipe.state.symbol === 'BINANCE:BTCUSDT', null, 'symbol switched');
  await wait((n) => window.tickpipe.state.live.trades >= n + 20, before, 'live BTC trades');
  await wait(() => {
    const ps = [...document.querySelectorAll('#tape tbody tr td.p')].map((t) => Number(t.textContent.replace(/,/g, '')));
    return ps.length >= 10 && ps.every((p) => p > 10000);
  }, null, 'tape showing BTC prices only');
  const lastClose = await page.evaluate(() => [...window.tickpipe.state.candles.values()].pop().close);
  if (!(lastClose > 10000)) fail('chart still shows another symbol: last close ' + lastClose);
  if (!page.url().includes('symbol=BINANCE%3ABTCUSDT')) fail('URL does not remember the symbol: ' + page.url());
  ok('switching to BINANCE:BTCUSDT reloads chart, tape and averages; its live trades arrive');

  // 1s candles
  await page.click('#iv-1s');
  await wait(() => window.tickpipe.state.interval === '1s' && window.tickpipe.state.candles.size >= 2 &&
    [...window.tickpipe.state.candles.values()].every((c) => c.interval === 1), null, '1s candles');
  const n1 = await page.evaluate(() => window.tickpipe.state.candles.size);
  await wait((n) => window.tickpipe.state.candles.size > n, n1, 'a new live 1s candle');
  ok('1s interval shows 1-second candles, new ones arrive live');

  // the watchlist: a row per symbol with the REST watchlist's values, live
  // (trades a second over zero while the writer runs); a click switches
  await wait(() => document.querySelectorAll('#watchlist tbody tr').length >= 3, null, 'watchlist rows');
  const wl = await (await fetch(`${base}/api/watchlist`)).json();
  const rowsShown = await page.$$eval('#watchlist tbody tr', (trs) => trs.map((tr) => tr.dataset.symbol));
  for (const s of wl.symbols) if (!rowsShown.includes(s.symbol)) fail(`watchlist lacks ${s.symbol}`);
  for (const s of wl.symbols) {
    if (!(s.trades_per_s > 0)) fail(`watchlist ${s.symbol}: trades_per_s ${s.trades_per_s} while trades arrive`);
    if (!(s.sparkline.length >= 1)) fail(`watchlist ${s.symbol}: empty sparkline`);
    if (s.day_open == null || s.change == null) fail(`watchlist ${s.symbol}: no day open or change`);
  }
  // a locator finds the row again at the click, whatever the page did meanwhile
  await page.locator('#watchlist tbody tr[data-symbol="MSFT"]').click({ timeout: 30000 })
    .catch((e) => fail('cannot click the MSFT row of the watchlist: ' + e.message));
  await wait(() => window.tickpipe.state.symbol === 'MSFT' && document.querySelector('#symbol').value === 'MSFT' &&
    document.querySelector('#watchlist tr.sel') && document.querySelector('#watchlist tr.sel').dataset.symbol === 'MSFT',
  null, 'a watchlist click switches to MSFT');
  // the row's title holds the day's trade count: it grows as trades arrive
  const title0 = await page.$eval('#watchlist tbody tr[data-symbol="MSFT"]', (tr) => tr.title);
  if (!/ \d+ trades today/.test(title0)) fail('watchlist title: ' + title0);
  await wait((t) => document.querySelector('#watchlist tbody tr[data-symbol="MSFT"]').title !== t, title0,
    'the watchlist updates live');
  ok(`watchlist: ${wl.symbols.length} symbols with live rates and sparklines; a click switches the chart`);

  // rolled-up intervals: 5m candles equal the REST API's, and the open one
  // is refreshed live as its 1-minute parts change
  await page.click('#iv-5m');
  await wait(() => window.tickpipe.state.interval === '5m' && window.tickpipe.state.candles.size >= 1 &&
    [...window.tickpipe.state.candles.values()].every((c) => c.interval === 300), null, '5m candles');
  const shown = await page.evaluate(() => [...window.tickpipe.state.candles.values()]);
  const sym = await page.$eval('#symbol', (e) => e.value);
  const rest = await (await fetch(`${base}/api/candles?symbol=${encodeURIComponent(sym)}&interval=5m`)).json();
  if (rest.interval !== '5m') fail('REST interval echo: ' + rest.interval);
  const byStart = new Map(rest.candles.map((c) => [c.start, c]));
  shown.forEach((c, i) => {
    const r = byStart.get(c.start);
    if (!r) fail(`5m candle at ${c.start} not in the REST answer`);
    if (c.start % 300000) fail(`5m candle start ${c.start} not on a 5-minute boundary`);
    if (r.open !== c.open) fail(`5m ${c.start} open: shown ${c.open}, REST ${r.open}`);
    // the newest may have taken more trades since it was drawn
    if (i === shown.length - 1) {
      if (r.count < c.count || c.count < 1) fail(`5m newest count: shown ${c.count}, REST ${r.count}`);
    } else {
      for (const k of ['high', 'low', 'close', 'count']) if (r[k] !== c[k]) fail(`5m ${c.start} ${k}: shown ${c[k]}, REST ${r[k]}`);
    }
  });
  const live0 = await page.evaluate(() => window.tickpipe.state.live.candles);
  await wait((n) => window.tickpipe.state.live.candles > n, live0, 'a live refresh of the open 5m candle');
  ok(`5m interval: ${shown.length} candles equal to REST, the open one refreshed live`);

  await page.waitForTimeout(300); // let the last frame paint for the screenshot
  await page.screenshot({ path: shot });
  ok('screenshot ' + shot);
  if (errors.length) fail('errors in the page: ' + errors.join('; '));
  ok('no errors in the page');
} finally {
  await browser.close();
}
