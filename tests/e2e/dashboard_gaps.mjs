// dashboard_gaps.mjs - the dashboard's feed-gap bands in Debian's headless
// Chromium, driven by playwright-core (from web/node_modules), over a store
// holding known gaps (http_dashboard_gaps.sh writes them with sqlite3):
// exactly the gaps of the shown symbol that overlap its candles get a band,
// with their times, reason and connection; each band sits where the chart's
// own time scale puts its from and to times (the oracle: timeToCoordinate of
// the whole-second bars around each time, interpolated; the gaps start and
// end between bars, where the page must interpolate too);
// a gap while the symbol's market was closed is grey and says so, any other
// is painted amber (screenshot pixels); the tooltip names the reason and the
// duration. Saves a screenshot.
//   node dashboard_gaps.mjs BASE_URL SCREENSHOT.png GAPS_JSON
// GAPS_JSON: {SYMBOL: [{from, to, reason, connection, closed}]}, the bands
// expected for AAPL and BINANCE:BTCUSDT.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [base, shot, wantJSON] = process.argv.slice(2);
const want = JSON.parse(wantJSON);
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
  const wait = (fn, arg, what) => page.waitForFunction(fn, arg, { timeout: 30000 }).catch(() => fail('timed out: ' + what));

  const resp = await page.goto(base + '/?symbol=AAPL');
  if (!resp || resp.status() !== 200) fail('GET / gave ' + (resp && resp.status()));
  await wait(() => window.tickpipe && window.tickpipe.state.symbol === 'AAPL' && window.tickpipe.state.candles.size > 0,
    null, 'AAPL candles loaded');
  // one-second candles: the fixed minute of data is 60 bars, the gaps a few bars wide
  await page.click('#iv-1s');
  await wait(() => window.tickpipe.state.interval === '1s' && window.tickpipe.state.candles.size >= 50, null, '1 s candles');

  // the bands of the shown symbol against what the chart's time scale says
  // Read until two reads 300 ms apart agree (at most 30 s): the chart
  // settles (autoSize, scroll to the newest bar) in its own time, longer on a
  // loaded machine than any fixed pause.
  const readBands = async () => {
    let prev = null;
    for (let i = 0; i < 100; i++) {
      await page.waitForTimeout(300);
      const got = await readBandsOnce();
      const key = JSON.stringify(got);
      if (key === prev) return got;
      prev = key;
    }
    fail('the chart did not settle: band positions still changing after 30 s');
  };
  const readBandsOnce = async () => {
    const got = await page.evaluate(() => {
      const ts = window.tickpipe.chart.timeScale();
      // the oracle, apart from the page's own arithmetic: the time scale's
      // coordinates of the two one-second bars around a time (both are on
      // the chart: the fixed minute has a bar every second), and the
      // straight line between them for the milliseconds in between
      const at = (ms) => {
        const s = Math.floor(ms / 1000);
        const x0 = ts.timeToCoordinate(s), x1 = ts.timeToCoordinate(s + 1);
        return x0 == null || x1 == null ? null : x0 + ((ms - s * 1000) / 1000) * (x1 - x0);
      };
      const layer = document.getElementById('gaps').getBoundingClientRect();
      return [...document.querySelectorAll('#gaps .gap-band')].map((el) => {
        const r = el.getBoundingClientRect();
        return {
          from: Number(el.dataset.from), to: Number(el.dataset.to), reason: el.dataset.reason,
          connection: Number(el.dataset.connection), title: el.title, closed: el.classList.contains('closed'),
          left: r.left - layer.left, right: r.right - layer.left, top: r.top - layer.top, height: r.height,
          wantLeft: at(Number(el.dataset.from)),
          wantRight: at(Number(el.dataset.to)),
          visible: el.checkVisibility(),
        };
      });
    });
    return got.sort((a, b) => a.from - b.from);
  };
  const checkBands = async (sym) => {
    const w = want[sym];
    await wait((n) => document.querySelectorAll('#gaps .gap-band').length === n, w.length, `${w.length} gap bands of ${sym}`);
    const got = await readBands();
    for (let i = 0; i < w.length; i++) {
      const x = w[i], g = got[i];
      if (g.from !== x.from || g.to !== x.to || g.reason !== x.reason || g.connection !== x.connection || g.closed !== x.closed)
        fail(`${sym} band ${i}: ${JSON.stringify(g)} is not gap ${JSON.stringify(x)}`);
      if (g.wantLeft == null || g.wantRight == null) fail(`${sym} band ${i}: the chart has no coordinate for its times`);
      if (Math.abs(g.left - g.wantLeft) > 1 || Math.abs(g.right - g.wantRight) > 1)
        fail(`${sym} band ${i} spans x ${g.left.toFixed(1)}..${g.right.toFixed(1)}, the time scale says ` +
          `${g.wantLeft.toFixed(1)}..${g.wantRight.toFixed(1)}`);
      if (!g.visible || g.height < 100 || g.top !== 0) fail(`${sym} band ${i} is not a visible full-height band: ${JSON.stringify(g)}`);
      const secs = ((x.to - x.from) / 1000).toFixed(1) + ' s';
      if (!g.title.includes(x.reason) || !g.title.includes(secs) || g.title.includes('market was closed') !== x.closed)
        fail(`${sym} band ${i} tooltip '${g.title}' lacks the reason ${x.reason}, the duration ${secs} or the market state`);
      ok(`${sym} gap ${x.reason} ${x.from}..${x.to}: band at x ${g.left.toFixed(1)}..${g.right.toFixed(1)}, ` +
        `tooltip '${g.title}'`);
    }
    // every gap lies inside the candles, after the first bar: no band may sit
    // at the chart's left edge, and two gaps never share a left edge
    for (const g of got)
      if (g.left < 1) fail(`${sym} band ${g.from}..${g.to} sits at the chart's left edge (x ${g.left.toFixed(1)})`);
    for (let i = 1; i < got.length; i++)
      if (Math.abs(got[i].left - got[i - 1].left) < 1) fail(`${sym} bands ${i - 1} and ${i} start at the same x`);
  };
  // the share of a band's middle strip that is painted amber (over the blue-grey chart)
  const amber = async () => {
    const box = await (await page.$$('#gaps .gap-band'))[0].boundingBox();
    const png = await page.screenshot({ clip: { x: box.x + 1, y: box.y + box.height / 2, width: Math.max(1, box.width - 2), height: 20 } });
    const share = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const x = c.getContext('2d');
      x.drawImage(img, 0, 0);
      const d = x.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > d[i + 2] + 12 && d[i + 1] > d[i + 2] + 6) n++;
      return n / (d.length / 4);
    }, png.toString('base64'));
    return { share, box };
  };

  // AAPL at 17:13 New York: its market was closed, the bands say so (grey, not amber)
  await checkBands('AAPL');
  const grey = await amber();
  if (grey.share > 0.05) fail(`a closed-market band is painted amber (${(grey.share * 100).toFixed(0)}%)`);
  ok('closed-market bands are grey');

  // crypto trades always: its gap is an amber band, and hovering it gives the tooltip
  await page.selectOption('#symbol', 'BINANCE:BTCUSDT');
  await wait(() => window.tickpipe.state.symbol === 'BINANCE:BTCUSDT' && window.tickpipe.state.candles.size >= 50, null, 'switch');
  await checkBands('BINANCE:BTCUSDT');
  const a = await amber();
  if (a.share < 0.3) fail(`the band is not painted amber (${(a.share * 100).toFixed(0)}% of its pixels)`);
  ok(`band painted (${(a.share * 100).toFixed(0)}% amber pixels)`);
  const hit = await page.evaluate(([x, y]) => {
    const el = document.elementFromPoint(x, y);
    return el && el.classList.contains('gap-band') ? el.title : null;
  }, [a.box.x + a.box.width / 2, a.box.y + a.box.height / 2]);
  if (!hit) fail('the band does not take the pointer (no tooltip on hover)');
  ok('hover over the band gives its tooltip');
  await page.screenshot({ path: shot });

  // a symbol without gaps shows none; back to AAPL, its bands return
  await page.selectOption('#symbol', 'OANDA:EUR_USD');
  await wait(() => window.tickpipe.state.symbol === 'OANDA:EUR_USD' && window.tickpipe.state.candles.size > 0, null, 'switch');
  await wait(() => document.querySelectorAll('#gaps .gap-band').length === 0, null, 'no bands for OANDA:EUR_USD');
  ok('a symbol without gaps shows no band');
  await page.selectOption('#symbol', 'AAPL');
  await wait((n) => window.tickpipe.state.symbol === 'AAPL' && document.querySelectorAll('#gaps .gap-band').length === n,
    want.AAPL.length, 'bands back for AAPL');
  if (errors.length) fail('errors in the page: ' + errors.join('; '));
  ok('no page errors');
} finally {
  await browser.close();
}
