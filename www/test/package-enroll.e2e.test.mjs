// The `mail2fa/enroll` and `mail2fa/security` subpaths of the npm package, as a page that
// imports them gets them:
// plugins-js/ served statically under a strict CSP, the element driven through a callbacks
// transport (no endpoints), the module loaded by the package's browser entry. Covers the
// backup-code step: shown once, downloaded as .txt, the "saved" confirmation, done.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { launchBrowser, axeViolations, zbar, oathtool, artifactPath, REPO } from './helpers.mjs';
import { CSP } from '../demo/server.mjs';

const PKG = join(REPO, 'plugins-js');
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const URI = `otpauth://totp/Example%20Mail:j%C3%B6rg%40example.com?secret=${SECRET}&issuer=Example%20Mail&algorithm=SHA1&digits=6&period=30`;
const BACKUP = ['4f7k-2m9q', 'h3x8-pp2d', 'c6vz-7r4n', 'w2q9-k8d5', 'm5t3-b7xe', 'n8r2-y4ua'];

const PAGE = `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Package enroll</title><script type="module" src="/page.js"></script></head>
<body><main><h1>Zwei-Faktor</h1><mail2fa-enroll></mail2fa-enroll></main></body></html>`;

// The page's own module: strings in German for two keys, the callbacks transport.
const PAGE_JS = `import { ENROLL_STRINGS } from '/pkg/enroll/index.js';
const el = document.querySelector('mail2fa-enroll');
el.strings = { introTitle: 'Zwei-Faktor-Anmeldung einrichten', start: 'Einrichtung beginnen' };
el.transport = {
  start: async () => window.testStart(),
  confirm: async ({ code }) => window.testConfirm(code),
  cancel: async () => ({}),
};
window.enrollDefaults = Object.keys(ENROLL_STRINGS).length;
`;

// The security-page components from the package: callbacks transports answered in the page.
const SECURITY_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Package security</title><script type="module" src="/security.js"></script></head>
<body><main><h1>Security</h1><mail2fa-backup-codes account="jörg@example.com"></mail2fa-backup-codes>
<mail2fa-app-passwords></mail2fa-app-passwords><mail2fa-devices></mail2fa-devices></main></body></html>`;

// Transports are set before the import defines the elements (they load on connect).
const SECURITY_JS = `const apps = [{ id: 'a1', label: 'Thunderbird', created_at: 1767225600, last_used_at: null }];
const devices = [{ id: 'd1', label: 'Firefox on Linux', created_at: 1767225600, last_seen_at: 1767225600, expires_at: 1769817600, expired: false, current: true }];
document.querySelector('mail2fa-backup-codes').transport = {
  status: async () => ({ remaining: 7, issued: 10 }),
  regenerate: async () => ({ codes: ['4f7k-2m9q', 'h3x8-pp2d'], remaining: 2 }),
};
document.querySelector('mail2fa-app-passwords').transport = {
  list: async () => ({ app_passwords: apps }),
  create: async ({ label }) => { apps.push({ id: 'a2', label, created_at: 1767225700, last_used_at: null }); return { id: 'a2', label, password: 'abcd-efgh-ijkl-mnop-qrst' }; },
  revoke: async ({ id }) => { const i = apps.findIndex((a) => a.id === id); if (i >= 0) apps.splice(i, 1); return { revoked: i >= 0 }; },
};
document.querySelector('mail2fa-devices').transport = {
  list: async () => ({ devices }),
  revoke: async () => { devices.length = 0; return { revoked: true }; },
  'revoke-all': async () => { const n = devices.length; devices.length = 0; return { revoked: n }; },
};
const { DEVICES_STRINGS, Mail2faDevices } = await import('/pkg/security/index.js');
window.securityExports = [typeof Mail2faDevices, Object.keys(DEVICES_STRINGS).length > 5,
  customElements.get('mail2fa-devices') === Mail2faDevices];
`;

let server;
let base;
let browser;

before(async () => {
  // The copied component must be the one in www/ (what `npm pack` ships after prepare).
  execFileSync(process.execPath, [join(PKG, 'scripts/copy-enroll.mjs')]);
  execFileSync(process.execPath, [join(PKG, 'scripts/copy-dist.mjs')]);
  server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' };
    const type = (p) =>
      p.endsWith('.js') ? 'text/javascript' : p.endsWith('.css') ? 'text/css' : p.endsWith('.wasm') ? 'application/wasm' : 'text/html';
    let body;
    if (path === '/' || path === '/page.html') body = PAGE;
    else if (path === '/page.js') body = PAGE_JS;
    else if (path === '/security.html') body = SECURITY_PAGE;
    else if (path === '/security.js') body = SECURITY_JS;
    else if (path.startsWith('/pkg/')) {
      const file = normalize(join(PKG, path.slice(5)));
      if (!file.startsWith(PKG) || !existsSync(file)) {
        res.writeHead(404, headers).end();
        return;
      }
      body = readFileSync(file);
    } else {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': type(path === '/' ? '.html' : path), 'Content-Encoding': 'gzip' });
    res.end(gzipSync(body));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await launchBrowser({ acceptDownloads: true });
});

after(async () => {
  await browser?.close();
  await new Promise((done) => server?.close(done) ?? done());
});

test('mail2fa/enroll from the package: callbacks transport, QR, backup codes once, download', async () => {
  const page = await browser.context.newPage();
  const problems = [];
  page.on('console', (m) => /Content Security Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  const confirmed = [];
  await page.exposeFunction('testStart', () => ({ uri: URI, secret: SECRET }));
  await page.exposeFunction('testConfirm', (code) => {
    confirmed.push(code);
    return code === oathtool(SECRET)
      ? { activated: true, backup_codes: BACKUP }
      : { activated: false, reason: 'wrong_code' };
  });
  await page.goto(`${base}/page.html`);
  const enroll = page.locator('mail2fa-enroll');
  await enroll.getByRole('heading', { name: 'Zwei-Faktor-Anmeldung einrichten' }).waitFor();
  assert.ok((await page.evaluate(() => window.enrollDefaults)) > 20, 'the default strings are exported');
  await enroll.getByRole('button', { name: 'Einrichtung beginnen' }).click();

  const qr = enroll.locator('figure.qr svg');
  await qr.waitFor();
  const png = artifactPath('package-enroll', 'qr.png');
  await qr.screenshot({ path: png, caret: 'initial' });
  assert.deepEqual(zbar(png), [URI], 'the package module draws a QR code of the URI');
  assert.equal((await enroll.locator('code.key').textContent()).trim(), 'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
  assert.match(await enroll.getByText(/Account:/).textContent(), /Example Mail \(jörg@example\.com\)/);

  await enroll.getByRole('button', { name: 'Next' }).click();
  await enroll.getByLabel('Code from the app').fill(oathtool(SECRET));
  await enroll.getByRole('button', { name: 'Verify' }).click();

  // Backup codes: shown once, as a list; download as .txt; "saved" must be ticked first.
  await enroll.getByRole('heading', { name: 'Save your backup codes' }).waitFor();
  const shown = (await enroll.locator('ol.codes li').allTextContents()).map((s) => s.trim());
  assert.deepEqual(shown, BACKUP);
  assert.deepEqual(await axeViolations(page), [], 'axe on the backup step');
  await page.screenshot({ path: artifactPath('package-enroll', 'backup-codes.png'), fullPage: true, caret: 'initial' });

  const downloading = page.waitForEvent('download');
  await enroll.getByRole('button', { name: 'Download' }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), 'backup-codes.txt');
  const text = readFileSync(await download.path(), 'utf8');
  for (const code of BACKUP) assert.ok(text.includes(code), `the file lists ${code}`);

  // Printing: only the codes are printed (mail2fa-print.css hides the page around the element).
  await page.evaluate(() => document.querySelector('mail2fa-enroll').setAttribute('data-printing', ''));
  await page.emulateMedia({ media: 'print' });
  const visible = await page.evaluate(() => ({
    pageHeading: document.querySelector('h1').checkVisibility({ visibilityProperty: true }),
    codes: document.querySelector('mail2fa-enroll').shadowRoot.querySelector('ol.codes').checkVisibility({ visibilityProperty: true }),
    buttons: document.querySelector('mail2fa-enroll').shadowRoot.querySelector('button').checkVisibility({ visibilityProperty: true }),
  }));
  assert.deepEqual(visible, { pageHeading: false, codes: true, buttons: false });
  await page.screenshot({ path: artifactPath('package-enroll', 'backup-codes-print.png'), caret: 'initial' });
  await page.emulateMedia({ media: 'screen' });
  await page.evaluate(() => document.querySelector('mail2fa-enroll').removeAttribute('data-printing'));

  await enroll.getByRole('button', { name: 'Continue' }).click();
  await enroll.getByRole('alert').filter({ hasText: 'Confirm that you have saved' }).waitFor();
  await enroll.getByLabel('I have saved my backup codes').check();
  await enroll.getByRole('button', { name: 'Continue' }).click();
  await enroll.getByRole('heading', { name: 'Two-factor authentication is on' }).waitFor();
  assert.equal(await enroll.locator('ol.codes').count(), 0, 'the codes are gone from the page');
  assert.deepEqual(await axeViolations(page), [], 'axe on the done step');
  assert.equal(confirmed.length, 1);
  assert.deepEqual(problems, [], 'no CSP violation or page error');
});

test('mail2fa/security from the package: the three components, no WebAssembly', async () => {
  const page = await browser.context.newPage();
  const problems = [];
  const wasm = [];
  page.on('console', (m) => /Content Security Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('request', (r) => r.url().endsWith('.wasm') && wasm.push(r.url()));
  await page.goto(`${base}/security.html`);
  const backup = page.locator('mail2fa-backup-codes');
  const apps = page.locator('mail2fa-app-passwords');
  const devices = page.locator('mail2fa-devices');
  await backup.getByText('7 of 10 codes left.').waitFor();
  await apps.getByRole('cell', { name: 'Thunderbird' }).waitFor();
  await devices.getByText('(this browser)').waitFor();
  assert.deepEqual(await page.evaluate(() => window.securityExports), ['function', true, true]);
  assert.deepEqual(await axeViolations(page), [], 'axe on the security components');

  await apps.getByLabel('Name of the app').fill('K-9 Mail');
  await apps.getByRole('button', { name: 'Create app password' }).click();
  await apps.getByRole('heading', { name: 'App password for K-9 Mail' }).waitFor();
  assert.equal((await apps.locator('code.secret-once').textContent()).trim(), 'abcd-efgh-ijkl-mnop-qrst');
  await apps.getByRole('button', { name: 'Done' }).click();
  await apps.getByRole('cell', { name: 'K-9 Mail' }).waitFor();
  assert.equal(await apps.getByText('abcd-efgh-ijkl-mnop-qrst').count(), 0, 'the new password is gone after Done');

  await devices.getByRole('button', { name: 'Remove all' }).click();
  await devices.getByText('No trusted devices.').waitFor();
  await page.screenshot({ path: artifactPath('package-enroll', 'security.png'), fullPage: true, caret: 'initial' });
  assert.deepEqual(wasm, [], 'the security components load no WebAssembly');
  assert.deepEqual(problems, [], 'no CSP violation or page error');
});
