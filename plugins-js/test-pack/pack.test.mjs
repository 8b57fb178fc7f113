// The package as a user gets it: `npm pack`, install the tarball into a fresh project (no
// network: the tarball has no dependencies), import it from Node ESM, then build a tiny Vite
// page with it and open that in headless Chromium; both compute TOTP codes that must equal
// Debian oathtool's at the same second, and the browser must load the artifact's exact bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';
import { chromium } from 'playwright-core';

const PKG = fileURLToPath(new URL('../', import.meta.url));
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const ARTIFACT_SHA256 = readFileSync(new URL('../../dist/mail2fa.wasm.sha256', import.meta.url), 'utf8').split(/\s+/)[0];

const work = mkdtempSync(join(tmpdir(), 'mail2fa-pack-'));
const project = join(work, 'project');
let tarball;

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const oathtool = (unixSeconds) => run('oathtool', ['--totp', '-b', '--now', `@${unixSeconds}`, SECRET]).trim();

before(() => {
  run('npm', ['pack', '--pack-destination', work, '--silent'], PKG);
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz')));
  execFileSync('mkdir', [project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'check', private: true, type: 'module' }));
  // --offline: nothing but the local tarball may be fetched.
  run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], project);
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball ships the artifact unchanged, the glue, the types and no tests', () => {
  const files = run('tar', ['-tzf', tarball]).trim().split('\n').sort();
  for (const f of ['mail2fa.wasm', 'glue/mail2fa.js', 'index.d.ts', 'sqlite.d.ts', 'node.js', 'browser.js', 'sqlite.js', 'lib/api.js', 'lib/server.js', 'README.md', 'package.json']) {
    assert.ok(files.includes(`package/${f}`), `${f} is packed`);
  }
  assert.equal(files.some((f) => f.includes('/test')), false, 'no tests packed');
  const installed = readFileSync(join(project, 'node_modules/mail2fa/mail2fa.wasm'));
  assert.equal(createHash('sha256').update(installed).digest('hex'), ARTIFACT_SHA256);
});

test('Node ESM in the fresh project: codes equal oathtool, the login flow works', () => {
  writeFileSync(join(project, 'node-check.mjs'), `
    import { TOTP, Mail2fa, MemoryStorage, generateKey } from 'mail2fa';
    const now = Math.floor(Date.now() / 1000);
    const totp = new TOTP({ secret: '${SECRET}' });
    const mfa = new Mail2fa({ keys: [generateKey()], storage: new MemoryStorage() });
    const { secret } = await mfa.enroll('user');
    const confirmed = await mfa.confirm('user', new TOTP({ secret }).generate());
    console.log(JSON.stringify({ now, code: totp.generate({ timestamp: now * 1000 }), confirmed: confirmed.ok }));
  `);
  const out = JSON.parse(run(process.execPath, ['node-check.mjs'], project));
  assert.equal(out.code, oathtool(out.now));
  assert.equal(out.confirmed, true);
});

test('a Vite page in headless Chromium computes the code oathtool computes', async () => {
  writeFileSync(join(project, 'index.html'), `<!doctype html>
<html><head><meta charset="utf-8"><title>mail2fa check</title></head>
<body><output id="result">loading</output><script type="module" src="/main.js"></script></body></html>`);
  writeFileSync(join(project, 'main.js'), `
    import { init, TOTP, version } from 'mail2fa';
    const out = document.getElementById('result');
    try {
      await init(); // streaming compile of the bundled mail2fa.wasm
      const now = Math.floor(Date.now() / 1000);
      const code = new TOTP({ secret: '${SECRET}' }).generate({ timestamp: now * 1000 });
      out.dataset.result = JSON.stringify({ now, code, version: version().version });
    } catch (error) {
      out.dataset.result = JSON.stringify({ error: String(error) });
    }
  `);
  await build({ root: project, logLevel: 'error', build: { outDir: join(project, 'dist') } });
  const server = await preview({ root: project, logLevel: 'error', preview: { host: '127.0.0.1', port: 0, strictPort: false }, build: { outDir: join(project, 'dist') } });
  const context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const wasmResponses = [];
    page.on('response', (response) => {
      if (response.url().endsWith('.wasm')) wasmResponses.push(response);
    });
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(server.resolvedUrls.local[0]);
    const handle = await page.waitForSelector('#result[data-result]', { timeout: 30_000 });
    const result = JSON.parse(await handle.getAttribute('data-result'));
    assert.deepEqual(errors, []);
    assert.equal(result.error, undefined, result.error);
    assert.match(result.version, /^\d+\.\d+\.\d+/);
    assert.equal(result.code, oathtool(result.now), `code at ${result.now}`);

    assert.equal(wasmResponses.length, 1, 'the page fetched mail2fa.wasm once');
    const [wasm] = wasmResponses;
    assert.equal(wasm.headers()['content-type'], 'application/wasm', 'served for streaming compile');
    assert.equal(createHash('sha256').update(await wasm.body()).digest('hex'), ARTIFACT_SHA256, 'the browser ran the artifact bytes');
  } finally {
    await context.close();
    await new Promise((resolve) => server.httpServer.close(resolve));
  }
});
