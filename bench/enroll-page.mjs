// Budget of the enrollment page (issue enroll-ui): gzipped bytes transferred for the page's
// JS + wasm + CSS (target ≤ 120 KB), and the time from navigation to a visible QR code in
// headless Chromium. Each run is cold: a fresh browser profile, so nothing is cached.
//
//   node bench/enroll-page.mjs [--runs N] [--append]     (--append adds rows to bench/RESULTS.md)
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { launchBrowser, startDemo, REPO } from '../www/test/helpers.mjs';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
const append = args.includes('--append');
const BUDGET = 120 * 1024;

const demo = await startDemo({ password: 'bench-password' });

async function signIn(page) {
  await page.goto(`${demo.url}/login`);
  await page.getByLabel('Email address').fill(demo.user);
  await page.getByLabel('Password').fill(demo.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${demo.url}/inbox`);
}

function kindOf(url, type) {
  if (url.endsWith('.wasm')) return 'wasm';
  if (type === 'script') return 'js';
  if (type === 'stylesheet') return 'css';
  if (type === 'document') return 'html';
  return 'other';
}

const samples = [];
let transfer = null;
for (let i = 0; i < runs; i++) {
  const { context, close } = await launchBrowser();
  try {
    const page = await context.newPage();
    await signIn(page);
    // Drop the login page's cache entries: every asset of the enrollment page is fetched anew.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.clearBrowserCache');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const seen = new Map();
    cdp.on('Network.responseReceived', (e) => seen.set(e.requestId, { url: e.response.url, type: e.type }));
    const bytes = { js: 0, wasm: 0, css: 0, html: 0, other: 0 };
    const files = [];
    cdp.on('Network.loadingFinished', (e) => {
      const r = seen.get(e.requestId);
      if (!r) return;
      const kind = kindOf(r.url, r.type.toLowerCase());
      bytes[kind] += e.encodedDataLength;
      files.push({ url: new URL(r.url).pathname, kind, bytes: e.encodedDataLength });
    });
    const t0 = Date.now();
    await page.goto(`${demo.url}/security?start=1`);
    await page.locator('mail2fa-enroll figure.qr svg').waitFor({ state: 'visible' });
    const elapsed = Date.now() - t0;
    const nav = await page.evaluate(() => {
      const [n] = performance.getEntriesByType('navigation');
      return { start: n.startTime, now: performance.now() };
    });
    samples.push({ wall: elapsed, perf: nav.now - nav.start });
    await page.waitForTimeout(200); // let loadingFinished events of the last responses arrive
    if (!transfer) transfer = { bytes: { ...bytes }, files: [...files] };
    // Leave no pending enrollment behind for the next run's fresh start.
    await page.request.post(`${demo.url}/api/enroll/cancel`, {
      headers: { 'X-CSRF-Token': await page.locator('mail2fa-enroll').getAttribute('csrf-token') },
      data: {},
    });
  } finally {
    await close();
  }
}
await demo.stop();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ttq = median(samples.map((s) => s.perf));
const ttqMin = Math.min(...samples.map((s) => s.perf));
const ttqMax = Math.max(...samples.map((s) => s.perf));
const assets = transfer.bytes.js + transfer.bytes.wasm + transfer.bytes.css;

const wasm = readFileSync(join(REPO, 'dist/mail2fa.wasm'));
const wasmGzip = gzipSync(wasm, { level: 9 }).length;
const wasmBrotli = brotliCompressSync(wasm, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

console.log('files (gzipped on the wire, bytes incl. headers):');
for (const f of transfer.files) console.log(`  ${f.kind.padEnd(5)} ${String(f.bytes).padStart(7)}  ${f.url}`);
console.log(`JS ${transfer.bytes.js} + wasm ${transfer.bytes.wasm} + CSS ${transfer.bytes.css} = ${assets} bytes (${(assets / 1024).toFixed(1)} KiB; budget 120 KiB: ${assets <= BUDGET ? 'within' : 'OVER'})`);
console.log(`HTML ${transfer.bytes.html} bytes (not in the budget)`);
console.log(`dist/mail2fa.wasm: ${wasm.length} raw, ${wasmGzip} gzip -9, ${wasmBrotli} brotli -11`);
console.log(`navigation → QR visible: median ${ttq.toFixed(0)} ms (min ${ttqMin.toFixed(0)}, max ${ttqMax.toFixed(0)}, ${runs} cold runs)`);

if (append) {
  const file = join(REPO, 'bench/RESULTS.md');
  if (!existsSync(file)) writeFileSync(file, '# Benchmark results\n');
  const text = readFileSync(file, 'utf8');
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const machine = `${cpus().length}× ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim()}`;
  const rev = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const date = new Date().toISOString().slice(0, 10);
  let out = '';
  if (!text.includes('## Enrollment page budget')) {
    out +=
      '\n## Enrollment page budget\n\n' +
      '`node bench/enroll-page.mjs --append`: the demo\'s `/security?start=1` in headless Chromium, cold\n' +
      'profile, assets gzipped by the demo server. Bytes are `encodedDataLength` (body + headers) of\n' +
      'every JS, wasm and CSS response; time is `performance.now()` from navigation start until the\n' +
      'QR code is visible (median of cold runs). Target: JS + wasm + CSS ≤ 120 KiB.\n\n' +
      '| date | commit | machine | JS | wasm | CSS | total (KiB) | ≤ 120 KiB | wasm raw / gzip / brotli | nav → QR median (min–max) |\n' +
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n';
  }
  out += `| ${date} | ${rev} | ${machine} | ${transfer.bytes.js} | ${transfer.bytes.wasm} | ${transfer.bytes.css} | ${(assets / 1024).toFixed(1)} | ${assets <= BUDGET ? 'yes' : 'no'} | ${wasm.length} / ${wasmGzip} / ${wasmBrotli} | ${ttq.toFixed(0)} ms (${ttqMin.toFixed(0)}–${ttqMax.toFixed(0)}), ${runs} runs |\n`;
  appendFileSync(file, out);
  console.log('appended to bench/RESULTS.md');
}
