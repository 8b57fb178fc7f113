// The security-page components outside the demo, as any host embeds them: www/ served
// statically under the demo's strict CSP, a German page (lang="de") overriding strings by
// property and by attribute, callbacks transports (no endpoints) answered from this test.
// Checks: localized strings and dates, server error codes mapped to their messages, a
// network failure announced, keyboard-only use, focus after a row goes away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { launchBrowser, axeViolations, artifactPath, REPO } from './helpers.mjs';
import { CSP } from '../demo/server.mjs';

const WWW = join(REPO, 'www');
const T0 = Date.UTC(2026, 0, 15, 9, 30) / 1000;

const PAGE = `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sicherheit</title><script type="module" src="/page.js"></script></head>
<body><main><h1>Sicherheit</h1>
<mail2fa-app-passwords></mail2fa-app-passwords>
<mail2fa-devices strings='{"title":"Vertraute Browser","revoke":"Entfernen","revokeLabel":"{label} entfernen","revokeAll":"Alle entfernen"}'></mail2fa-devices>
<mail2fa-backup-codes account="jörg@example.com"></mail2fa-backup-codes>
</main></body></html>`;

// Strings by property (set before the elements are defined), transports as callbacks.
const PAGE_JS = `const apps = document.querySelector('mail2fa-app-passwords');
apps.strings = { title: 'App-Passwörter', labelLabel: 'Name der App', create: 'App-Passwort erstellen',
  limit: 'Sie haben schon die Höchstzahl an App-Passwörtern.', never: 'nie' };
const fail = (code) => Object.assign(new Error(code), { code });
apps.transport = {
  list: async () => window.t('apps.list'),
  create: async (body) => { const r = await window.t('apps.create', body); if (r.error) throw fail(r.error); return r; },
  revoke: async (body) => window.t('apps.revoke', body),
};
document.querySelector('mail2fa-devices').transport = {
  list: async () => window.t('devices.list'),
  revoke: async (body) => window.t('devices.revoke', body),
  'revoke-all': async () => { const r = await window.t('devices.revokeAll'); if (r.error) throw fail(r.error); return r; },
};
document.querySelector('mail2fa-backup-codes').transport = {
  status: async () => window.t('backup.status'),
  regenerate: async () => window.t('backup.regenerate'),
};
await Promise.all([
  import('/www/mail2fa-app-passwords.js'), import('/www/mail2fa-devices.js'), import('/www/mail2fa-backup-codes.js'),
]);
`;

// The proof field (proof-methods): German strings by attribute, the proof in the request,
// the core's refusal codes shown at the input; an app-passwords list without creation.
const PROOF_PAGE = `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Sicherheit</title><script type="module" src="/proof.js"></script></head>
<body><main><h1>Sicherheit</h1>
<mail2fa-backup-codes proof-methods="totp backup_code" strings='{"proofLegend":"Mit einem aktuellen Code bestätigen","proofTotp":"Code aus der App","proofBackup":"Backup-Code","proofUseBackup":"Stattdessen einen Backup-Code verwenden","proofWrong":"Dieser Code wurde nicht akzeptiert.","proofRequired":"Bitte zuerst einen aktuellen Code eingeben.","proofLocked":"Zu viele falsche Codes."}'></mail2fa-backup-codes>
<mail2fa-app-passwords no-create strings='{"createOff":"App-Passwörter gibt es nur mit Zwei-Faktor-Anmeldung."}'></mail2fa-app-passwords>
</main></body></html>`;
const PROOF_JS = `const fail = (r) => Object.assign(new Error(r.error), { code: r.error });
document.querySelector('mail2fa-backup-codes').transport = {
  status: async () => window.t('backup.status'),
  regenerate: async (body) => { const r = await window.t('backup.regenerate', body); if (r.error) throw fail(r); return r; },
};
document.querySelector('mail2fa-app-passwords').transport = {
  list: async () => window.t('apps.list'),
  create: async () => { throw new Error('never called'); },
  revoke: async (body) => window.t('apps.revoke', body),
};
await Promise.all([import('/www/mail2fa-backup-codes.js'), import('/www/mail2fa-app-passwords.js')]);
`;

let server;
let base;
let browser;

before(async () => {
  server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' };
    let body;
    let type = 'text/html; charset=utf-8';
    if (path === '/') body = PAGE;
    else if (path === '/page.js') [body, type] = [PAGE_JS, 'text/javascript'];
    else if (path === '/proof') body = PROOF_PAGE;
    else if (path === '/proof.js') [body, type] = [PROOF_JS, 'text/javascript'];
    else if (path.startsWith('/www/')) {
      const file = normalize(join(WWW, path.slice(5)));
      if (!file.startsWith(WWW + '/') || !existsSync(file)) return res.writeHead(404, headers).end();
      body = readFileSync(file);
      type = file.endsWith('.css') ? 'text/css' : 'text/javascript';
    } else return res.writeHead(404, headers).end();
    res.writeHead(200, { ...headers, 'Content-Type': type });
    res.end(body);
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await launchBrowser({ locale: 'de-DE', timezoneId: 'UTC' });
});

after(async () => {
  await browser?.close();
  await new Promise((done) => server?.close(done) ?? done());
});

test('components: German strings and dates, error codes, keyboard, focus', async () => {
  const apps = [{ id: 'a1', label: 'Thunderbird', created_at: T0, last_used_at: null }];
  let devices = [
    { id: 'd1', label: 'Firefox auf Linux', created_at: T0, last_seen_at: T0 + 3600, expires_at: T0 + 30 * 86400, expired: false, current: true },
    { id: 'd2', label: 'Chromium', created_at: T0, last_seen_at: T0, expires_at: T0 + 86400, expired: true },
  ];
  const calls = [];
  let offline = false;
  const page = await browser.context.newPage();
  const problems = [];
  page.on('console', (m) => /Content Security Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.exposeFunction('t', (action, body) => {
    calls.push([action, body]);
    switch (action) {
      case 'apps.list': return { app_passwords: apps };
      case 'apps.create': return apps.length >= 1 ? { error: 'limit_reached' } : {};
      case 'apps.revoke': return { revoked: true };
      case 'devices.list': return { devices };
      case 'devices.revoke': devices = devices.filter((d) => d.id !== body.id); return { revoked: true };
      case 'devices.revokeAll': return offline ? { error: 'network' } : { revoked: devices.length };
      case 'backup.status': return { remaining: 3, issued: 10 };
      case 'backup.regenerate': return { codes: ['aaaaa-bbbbb'], remaining: 1 };
      default: throw new Error(action);
    }
  });
  await page.goto(`${base}/`);

  const appsEl = page.locator('mail2fa-app-passwords');
  await appsEl.getByRole('heading', { name: 'App-Passwörter' }).waitFor();
  await appsEl.locator('tbody').getByText('Thunderbird').waitFor();
  // Dates in the page's language; a missing one uses the localized "never".
  const row = (await appsEl.locator('tbody tr').textContent()).replace(/\s+/g, ' ');
  assert.match(row, /15\.01\.2026, 09:30/);
  assert.match(row, /nie/);

  // A server error code gets its own message, announced, and marks the input.
  await appsEl.getByLabel('Name der App').fill('Telefon');
  await appsEl.getByLabel('Name der App').press('Enter');
  await appsEl.getByRole('alert').filter({ hasText: 'Höchstzahl' }).waitFor();
  assert.equal(await appsEl.getByLabel('Name der App').getAttribute('aria-invalid'), 'true');
  assert.deepEqual(calls.find(([a]) => a === 'apps.create')[1], { label: 'Telefon' });

  // Strings from the attribute; the current browser marked; expired shown.
  const devEl = page.locator('mail2fa-devices');
  await devEl.getByRole('heading', { name: 'Vertraute Browser' }).waitFor();
  await devEl.getByText('(this browser)').waitFor();
  assert.match(await devEl.locator('tbody tr').nth(1).textContent(), /expired/);
  assert.deepEqual(await axeViolations(page), [], 'axe on the components');
  await page.screenshot({ path: artifactPath('components', 'de.png'), fullPage: true, caret: 'initial' });

  // Keyboard only: focus the row's button, Enter; focus goes to the heading, status announced.
  await devEl.getByRole('button', { name: 'Chromium entfernen' }).focus();
  await page.keyboard.press('Enter');
  await devEl.getByRole('status').filter({ hasText: 'Removed' }).waitFor();
  const focused = await page.evaluate(() => document.querySelector('mail2fa-devices').shadowRoot.activeElement?.localName);
  assert.equal(focused, 'h2', 'focus moves to the heading when the row is gone');
  assert.equal(await devEl.locator('tbody tr').count(), 1);

  // A network failure is announced and nothing changes.
  offline = true;
  await devEl.getByRole('button', { name: 'Alle entfernen' }).click();
  await devEl.getByRole('alert').filter({ hasText: 'could not be reached' }).waitFor();
  assert.equal(await devEl.locator('tbody tr').count(), 1);

  const backupEl = page.locator('mail2fa-backup-codes');
  await backupEl.getByText('3 of 10 codes left.').waitFor();
  assert.deepEqual(problems, [], 'no CSP violation or page error');
  await page.close();
});

test('components: a change asks for a current code (proof-methods), localized; the refusal marks the input; a list without creation', async () => {
  const calls = [];
  const answers = [{ error: 'wrong_code' }, { error: 'locked' }, { codes: ['ccccc-ddddd', 'eeeee-fffff'], remaining: 2 }];
  const page = await browser.context.newPage();
  const problems = [];
  page.on('console', (m) => /Content Security Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.exposeFunction('t', (action, body) => {
    calls.push([action, body]);
    switch (action) {
      case 'backup.status': return { remaining: 7, issued: 10 };
      case 'backup.regenerate': return answers.shift();
      case 'apps.list': return { app_passwords: [{ id: 'a1', label: 'Thunderbird', created_at: T0, last_used_at: null }] };
      case 'apps.revoke': return { revoked: true };
      default: throw new Error(action);
    }
  });
  await page.goto(`${base}/proof`);
  const el = page.locator('mail2fa-backup-codes');
  await el.getByText('7 of 10 codes left.').waitFor();
  await el.getByRole('group', { name: 'Mit einem aktuellen Code bestätigen' }).waitFor();
  const code = el.getByLabel('Code aus der App');
  assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
  assert.equal(await code.getAttribute('inputmode'), 'numeric');

  // Nothing typed: refused here, nothing sent.
  await el.getByRole('button', { name: 'Make new backup codes' }).click();
  await el.getByRole('alert').filter({ hasText: 'Bitte zuerst einen aktuellen Code eingeben.' }).waitFor();
  assert.equal(calls.filter(([a]) => a === 'backup.regenerate').length, 0);

  // A wrong code (Enter submits): the core's refusal, at the input, focused, emptied.
  await code.fill('123456');
  await code.press('Enter');
  await el.getByRole('alert').filter({ hasText: 'Dieser Code wurde nicht akzeptiert.' }).waitFor();
  assert.deepEqual(calls.filter(([a]) => a === 'backup.regenerate').at(-1)[1], { proof: { method: 'totp', code: '123456' } });
  assert.equal(await code.getAttribute('aria-invalid'), 'true');
  assert.equal(await code.inputValue(), '');
  assert.equal(await page.evaluate(() => document.querySelector('mail2fa-backup-codes').shadowRoot.activeElement?.name), 'proof-code');
  assert.deepEqual(await axeViolations(page), [], 'axe with the refused proof');
  await page.screenshot({ path: artifactPath('components', 'de-proof.png'), fullPage: true, caret: 'initial' });

  // A backup code instead: the label follows, the method is sent; then locked, then accepted.
  await el.getByLabel('Stattdessen einen Backup-Code verwenden').check();
  const backup = el.getByLabel('Backup-Code', { exact: true });
  assert.equal(await backup.getAttribute('inputmode'), null);
  await backup.fill('abcde-12345');
  await el.getByRole('button', { name: 'Make new backup codes' }).click();
  await el.getByRole('alert').filter({ hasText: 'Zu viele falsche Codes.' }).waitFor();
  assert.deepEqual(calls.filter(([a]) => a === 'backup.regenerate').at(-1)[1], { proof: { method: 'backup_code', code: 'abcde-12345' } });
  await backup.fill('abcde-67890');
  await el.getByRole('button', { name: 'Make new backup codes' }).click();
  await el.getByRole('heading', { name: 'Your new backup codes' }).waitFor();
  assert.deepEqual((await el.locator('ol.codes li').allTextContents()).map((c) => c.trim()), ['ccccc-ddddd', 'eeeee-fffff']);

  // no-create: listed and revocable, no way to create one.
  const apps = page.locator('mail2fa-app-passwords');
  await apps.locator('tbody').getByText('Thunderbird').waitFor();
  await apps.getByText('App-Passwörter gibt es nur mit Zwei-Faktor-Anmeldung.').waitFor();
  assert.equal(await apps.locator('input').count(), 0);
  await apps.getByRole('button', { name: 'Revoke Thunderbird' }).click();
  await apps.getByText('No app passwords.').waitFor();
  assert.deepEqual(problems, [], 'no CSP violation or page error');
  await page.close();
});
