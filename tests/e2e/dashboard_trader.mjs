// dashboard_trader.mjs - the dashboard's trader tools in Debian's headless
// Chromium, driven by playwright-core (from web/node_modules), over
// http_seed's fixed minute (60 one-second candles of AAPL), each checked
// against the REST API:
// - ?candles=20: the first load takes the newest 20; the view reaching past
//   the oldest bar loads the older ones until the store has no more, every
//   candle equal to REST's;
// - the crosshair readout shows the candle under the cursor (open, high,
//   low, close in the instrument's precision, trades);
// - the VWAP line has a point for each candle with volume;
// - the price precision is the most decimals of the prices (4 here);
// - an FX symbol without volume says so;
// - the time zone button: local time (the page runs in Asia/Kolkata,
//   UTC+05:30) shifts the tape's times by 5 h 30 min.
//   node dashboard_trader.mjs BASE_URL SCREENSHOT.png
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [base, shot] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = await import(path.join(here, '../../web/node_modules/playwright-core/index.mjs'));

const fail = (msg) => { console.error('FAIL: ' + msg); process.exitCode = 1; throw new Error(msg); };
const ok = (msg) => console.log('ok - ' + msg);
const rest = async (p) => (await fetch(base + p)).json();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 860 }, timezoneId: 'Asia/Kolkata' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  const wait = (fn, arg, what) => page.waitForFunction(fn, arg, { timeout: 30000 }).catch(() => fail('timed out: ' + what));

  const resp = await page.goto(base + '/?symbol=AAPL&interval=1s&candles=20');
  if (!resp || resp.status() !== 200) fail('GET / gave ' + (resp && resp.status()));
  await wait(() => window.tickpipe && window.tickpipe.state.symbol === 'AAPL' && window.tickpipe.state.interval === '1s' &&
    window.tickpipe.state.candles.size > 0, null, 'one-second AAPL candles');
  const all = (await rest('/api/candles?symbol=AAPL&interval=1s&limit=1000')).candles;
  if (all.length !== 60) fail(`REST has ${all.length} one-second AAPL candles, want 60`);
  // 20 bars leave the view's left part empty, so the page asks for older
  // ones (20 at a time) until the store has no more
  await wait(() => window.tickpipe.state.candles.size === 60 && window.tickpipe.state.older.done, null, 'older candles loaded');
  const loaded = await page.evaluate(() => window.tickpipe.state.older.loaded);
  if (loaded !== 40) fail(`${loaded} candles loaded as older ones, want 40 (the first load takes the newest 20)`);
  const shown = await page.evaluate(() => [...window.tickpipe.state.candles.values()].sort((a, b) => a.start - b.start));
  shown.forEach((c, i) => {
    for (const k of ['start', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'count']) {
      if (c[k] !== all[i][k]) fail(`candle ${i} ${k}: shown ${c[k]}, REST ${all[i][k]}`);
    }
  });
  ok('?candles=20: the newest 20 first, the 40 older ones loaded as the view reached them, all equal to REST');

  // a view scrolled back stays put when older bars arrive: reload with 20
  // and zoom in on the newest first, then scroll to the oldest
  // precision: the most decimals of the prices
  const dec = (v) => { const t = String(v); const i = t.indexOf('.'); return i < 0 ? 0 : t.length - i - 1; };
  const want = Math.max(2, ...all.flatMap((c) => [c.open, c.high, c.low, c.close].map(dec)));
  const got = await page.evaluate(() => window.tickpipe.candleSeries.options().priceFormat.precision);
  if (got !== want) fail(`price precision ${got}, want ${want}`);
  ok(`price precision ${got} decimals, the most the prices have`);

  // the VWAP line: a point for every candle with volume, at its vwap
  const vw = await page.evaluate(() => window.tickpipe.vwapSeries.data().filter((p) => p.value !== undefined));
  const withV = all.filter((c) => c.vwap != null);
  if (vw.length !== withV.length) fail(`VWAP line has ${vw.length} points, want ${withV.length}`);
  vw.forEach((p, i) => { if (p.value !== withV[i].vwap || p.time * 1000 !== withV[i].start) fail(`VWAP point ${i}: ${JSON.stringify(p)}`); });
  ok(`VWAP line: ${vw.length} points equal to the candles' vwap`);

  // crosshair readout: hover the 30th candle
  const target = all[30];
  const box = await page.$eval('#chart', (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, h: r.height }; });
  const x = await page.evaluate((t) => window.tickpipe.chart.timeScale().timeToCoordinate(t / 1000), target.start);
  if (x == null) fail('the 30th candle is not on screen');
  await page.mouse.move(box.x + x, box.y + box.h / 3);
  const f = (v) => v.toFixed(want);
  await wait((t) => document.getElementById('readout').textContent.includes('O' + t.o) &&
    document.getElementById('readout').textContent.includes('C' + t.c), { o: f(target.open), c: f(target.close) }, 'readout of the hovered candle');
  const ro = await page.$eval('#readout', (e) => e.textContent);
  for (const [k, v] of [['O', f(target.open)], ['H', f(target.high)], ['L', f(target.low)], ['C', f(target.close)], ['trades', String(target.count)]]) {
    if (!ro.includes(k + v)) fail(`readout '${ro}' lacks ${k} ${v}`);
  }
  if (!ro.includes('22:13:') || !ro.includes('UTC')) fail(`readout '${ro}' should show the candle's UTC time`);
  ok(`crosshair readout: ${ro}`);

  // local time: the tape moves by +05:30
  const tapeUtc = await page.$eval('#tape tbody tr td', (td) => td.textContent);
  await page.click('#tz');
  await wait((t) => document.querySelector('#tape tbody tr td') && document.querySelector('#tape tbody tr td').textContent !== t,
    tapeUtc, 'tape in local time');
  const tapeLocal = await page.$eval('#tape tbody tr td', (td) => td.textContent);
  const sec = (s) => { const [h, m, r] = s.split(':'); return (+h * 3600 + +m * 60 + parseFloat(r)); };
  const shift = ((sec(tapeLocal) - sec(tapeUtc)) + 86400) % 86400;
  if (Math.abs(shift - 19800) > 0.0005) fail(`local time ${tapeLocal} vs UTC ${tapeUtc}: ${shift} s apart, want 19800 (UTC+05:30)`);
  if ((await page.$eval('#tz', (b) => b.textContent)) !== 'local') fail('time zone button does not say local');
  ok(`local time: tape ${tapeUtc} UTC shows as ${tapeLocal} (UTC+05:30)`);
  await page.click('#tz');

  // the watchlist shows each last price in its own precision (EUR/USD's pips)
  const wl = (await rest('/api/watchlist')).symbols;
  for (const w of wl) {
    const d = Math.max(2, ...[w.last_price, w.day_open, w.day_high, w.day_low, ...w.sparkline.map((p) => p[1])].map(dec));
    const cellText = await page.$eval(`#watchlist tbody tr[data-symbol="${w.symbol}"] td:nth-child(2)`, (td) => td.textContent);
    if (cellText !== w.last_price.toFixed(d)) fail(`watchlist ${w.symbol} last: '${cellText}', want ${w.last_price.toFixed(d)}`);
  }
  ok('watchlist prices in each instrument\'s precision');

  // an FX symbol without volume: the note says so
  await page.selectOption('#symbol', 'OANDA:EUR_USD');
  await wait(() => window.tickpipe.state.symbol === 'OANDA:EUR_USD' && window.tickpipe.state.candles.size > 0 &&
    getComputedStyle(document.getElementById('no-volume')).display !== 'none', null, 'the no-volume note');
  await wait(() => /no volume/.test(document.querySelector('#averages tbody').textContent), null,
    'the averages table says why it is empty');
  await page.selectOption('#symbol', 'AAPL');
  await wait(() => window.tickpipe.state.symbol === 'AAPL' && window.tickpipe.state.candles.size > 0 &&
    getComputedStyle(document.getElementById('no-volume')).display === 'none', null, 'no note for AAPL');
  // the header's last price and the chart's dashed price line are the same: the newest trade
  await wait(() => window.tickpipe.state.tape.length > 0 && window.tickpipe.lastLine, null, 'the tape and the price line');
  const lp = await page.evaluate(() => ({ head: document.getElementById('h-last').textContent,
    line: window.tickpipe.lastLine.options().price, tape: window.tickpipe.state.tape[0].price }));
  const newest = (await rest('/api/trades?symbol=AAPL&limit=1')).trades[0].price;
  if (lp.line !== newest || lp.tape !== newest || lp.head !== `AAPL ${newest.toFixed(want)}`) {
    fail(`last price: header '${lp.head}', line ${lp.line}, tape ${lp.tape}, REST's newest trade ${newest}`);
  }
  ok(`last price ${lp.head}: header, price line and the newest trade agree`);
  ok('OANDA:EUR_USD (no volume) says so; AAPL does not');

  await page.waitForTimeout(300); // let the last frame paint for the screenshot
  await page.screenshot({ path: shot });
  ok('screenshot ' + shot);
  if (errors.length) fail('errors in the page: ' + errors.join('; '));
  ok('no errors in the page');
} finally {
  await browser.close();
}
