// The demo's security features end to end in headless Chromium, as two browsers of one user:
// A (the settings page) and B (signs in again and again). Enrollment with the backup codes
// it shows; a backup code signs in once only; "trust this browser" skips the second step until
// the device is removed (one, then all); app passwords shown once, listed, revoked; a new set
// of backup codes voids the old; a password change revokes app passwords and trusted devices
// and ends other sessions; an admin reset (admin.mjs) leaves the next login without a second
// step. axe-core checks every new page and state; screenshots go to tests/artifacts/security/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchBrowser, startDemo, axeViolations, oathtool, artifactPath, REPO } from './helpers.mjs';

const NEW_PASSWORD = 'a-new-password-42';

let demo;
let browserA;
let browserB;
let pageA;
let pageB;
const problems = [];

before(async () => {
  demo = await startDemo();
  browserA = await launchBrowser({ acceptDownloads: true });
  browserB = await launchBrowser();
  pageA = await newPage(browserA.context);
  pageB = await newPage(browserB.context);
});

after(async () => {
  await browserA?.close();
  await browserB?.close();
  await demo?.stop();
});

/** A page that records CSP violations and page errors. */
async function newPage(context) {
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: artifactPath('security', `${name}.png`), fullPage: true, caret: 'initial' });
}

async function assertAccessible(page, step) {
  assert.deepEqual(await axeViolations(page), [], `axe: serious/critical violations on ${step}`);
}

async function signIn(page, password = demo.password) {
  await page.goto(`${demo.url}/login`);
  await page.getByLabel('Email address').fill(demo.user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
  return new URL(page.url()).pathname;
}

async function signOut(page) {
  await page.getByRole('button', { name: /Sign out/ }).first().click();
  await page.waitForURL(`${demo.url}/login`);
}

/** On the second-factor page: a backup code, optionally trusting this browser. */
async function useBackupCode(page, code, { trust = false } = {}) {
  const details = page.locator('details.alt');
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
  const form = page.locator('form', { has: page.getByLabel('Backup code') });
  await form.getByLabel('Backup code').fill(code);
  if (trust) await form.getByLabel(/Trust this browser/).check();
  await form.getByRole('button', { name: 'Sign in with backup code' }).click();
  await page.waitForLoadState('load');
  return new URL(page.url()).pathname;
}

let secret;
let lastStep = 0;

/** The app's code for a step never used before (a step is accepted once): waits when needed. */
async function freshCode() {
  for (;;) {
    const current = Math.floor(Date.now() / 30_000);
    const step = Math.max(lastStep + 1, current);
    if (step <= current + 1) {
      lastStep = step;
      return oathtool(secret, step * 30);
    }
    await sleep((step - 1) * 30_000 - Date.now() + 500);
  }
}

const deviceCookie = async (context) => (await context.cookies(demo.url)).find((c) => c.name === 'm2f_device');
const shadowText = (page, tag) => page.evaluate((t) => document.querySelector(t)?.shadowRoot?.textContent ?? '', tag);

let codes;

test('enroll: the demo shows the first backup codes once; the security page lists the rest', async () => {
  assert.equal(await signIn(pageA), '/inbox', 'no second factor yet');
  await pageA.goto(`${demo.url}/security`);
  const enroll = pageA.locator('mail2fa-enroll');
  const started = pageA.waitForResponse((r) => r.url().endsWith('/api/enroll/start'));
  await enroll.getByRole('button', { name: 'Begin setup' }).click();
  ({ secret } = await (await started).json());
  await enroll.getByRole('button', { name: 'Next' }).click();
  await enroll.getByLabel('Code from the app').fill(await freshCode());
  await enroll.getByRole('button', { name: 'Verify' }).click();
  await enroll.getByRole('heading', { name: 'Save your backup codes' }).waitFor();
  codes = (await enroll.locator('ol.codes li').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  await enroll.getByLabel('I have saved my backup codes').check();
  await enroll.getByRole('button', { name: 'Continue' }).click();
  await enroll.getByRole('button', { name: 'Done' }).click();
  await pageA.waitForURL(`${demo.url}/security?notice=enabled`);

  await pageA.locator('mail2fa-backup-codes').getByText('10 of 10 codes left.').waitFor();
  await pageA.locator('mail2fa-devices').getByText('No trusted devices.').waitFor();
  await pageA.locator('mail2fa-app-passwords').getByText('No app passwords.').waitFor();
  await assertAccessible(pageA, 'security page (2FA on)');
  await shot(pageA, '01-security-enabled');
  for (const tag of ['mail2fa-backup-codes', 'mail2fa-app-passwords', 'mail2fa-devices']) {
    assert.doesNotMatch(await shadowText(pageA, tag), /null|undefined|NaN/, `${tag} renders no placeholder`);
  }
});

test('a backup code signs in once, and only once', async () => {
  assert.ok(codes, 'enrolled first');
  assert.equal(await signIn(pageB), '/login/2fa');
  await pageB.locator('details.alt summary').click();
  await pageB.getByLabel('Backup code').waitFor();
  await assertAccessible(pageB, 'second factor (backup code form open)');
  await shot(pageB, '02-second-factor-backup');

  // As a user might type it: upper case with a space; the core normalizes.
  assert.equal(await useBackupCode(pageB, codes[0].toUpperCase().replace('-', ' ')), '/inbox');
  await pageB.getByRole('status').filter({ hasText: 'You signed in with a backup code. 9 backup codes left.' }).waitFor();
  await assertAccessible(pageB, 'inbox after a backup code');
  await shot(pageB, '03-inbox-backup-code');
  await signOut(pageB);

  assert.equal(await signIn(pageB), '/login/2fa');
  assert.equal(await useBackupCode(pageB, codes[0]), '/login/2fa', 'a used backup code is refused');
  await pageB.getByRole('alert').filter({ hasText: 'backup code was not accepted' }).waitFor();
  assert.equal(await pageB.getByLabel('Backup code').getAttribute('aria-invalid'), 'true');
  assert.ok(await pageB.locator('details.alt').evaluate((d) => d.open), 'the backup form stays open');
  await assertAccessible(pageB, 'second factor (backup code refused)');
  await shot(pageB, '04-backup-code-refused');

  assert.equal(await useBackupCode(pageB, codes[1]), '/inbox');
  await signOut(pageB);
  await pageA.reload();
  await pageA.locator('mail2fa-backup-codes').getByText('8 of 10 codes left.').waitFor();
  assert.ok(!demo.lines.join('\n').includes(codes[1]), 'no backup code in the server log');
});

test('trust this browser: the next login skips the second step until the device is removed', async () => {
  assert.equal(await signIn(pageB), '/login/2fa');
  assert.equal(await useBackupCode(pageB, codes[2], { trust: true }), '/inbox');
  const cookie = await deviceCookie(browserB.context);
  assert.ok(cookie, 'a device cookie was set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.secure, false, 'plain http on 127.0.0.1: not Secure (it would be over https)');
  assert.match(cookie.value, /^[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{32}$/, 'the core’s device token, nothing else');
  assert.ok(cookie.expires * 1000 > Date.now() + 29 * 86400_000, 'trusted for 30 days');
  assert.ok(!demo.lines.join('\n').includes(cookie.value), 'the token is never logged');

  // This browser's own security page marks it.
  await pageB.goto(`${demo.url}/security`);
  await pageB.locator('mail2fa-devices').getByText('(this browser)').waitFor();
  await signOut(pageB);
  assert.equal(await signIn(pageB), '/inbox', 'a trusted browser skips the second step');
  await signOut(pageB);

  // Browser A removes it: B is asked for a code again, and its cookie is deleted.
  await pageA.reload();
  const devices = pageA.locator('mail2fa-devices');
  const remove = devices.getByRole('button', { name: /^Remove .*Chrome/ });
  await remove.waitFor();
  assert.equal(await devices.locator('tbody tr').count(), 1);
  await assertAccessible(pageA, 'security page (one trusted device)');
  await shot(pageA, '05-trusted-device');
  // Usable at 320 px and in dark mode too.
  await pageA.setViewportSize({ width: 320, height: 900 });
  const width = await pageA.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 320, `no horizontal scrolling at 320 px (scrollWidth ${width})`);
  await pageA.emulateMedia({ colorScheme: 'dark' });
  await assertAccessible(pageA, 'security page (dark, 320 px)');
  await shot(pageA, '05-trusted-device-dark-320px');
  await pageA.emulateMedia({ colorScheme: 'light' });
  await pageA.setViewportSize({ width: 1000, height: 900 });
  await remove.click();
  await devices.getByRole('status').filter({ hasText: 'Removed.' }).waitFor();
  await devices.getByText('No trusted devices.').waitFor();
  await assertAccessible(pageA, 'security page (device removed)');
  await shot(pageA, '06-device-removed');

  assert.equal(await signIn(pageB), '/login/2fa', 'a removed device is asked for a code');
  assert.equal(await deviceCookie(browserB.context), undefined, 'the stale cookie is deleted');

  // Trust again, then "Remove all".
  assert.equal(await useBackupCode(pageB, codes[3], { trust: true }), '/inbox');
  await signOut(pageB);
  await pageA.reload();
  await devices.locator('tbody tr').first().waitFor();
  await devices.getByRole('button', { name: 'Remove all' }).click();
  await devices.getByRole('status').filter({ hasText: 'Removed 1 devices.' }).waitFor();
  assert.deepEqual(await demo.mfa.listDevices(demo.user), []);
  assert.equal(await signIn(pageB), '/login/2fa');
});

let phonePassword;

test('app passwords: shown once, listed without hashes, revoked', async () => {
  await pageA.reload();
  const panel = pageA.locator('mail2fa-app-passwords');
  await panel.getByText('No app passwords.').waitFor();

  // Every change needs the session's CSRF token, even with the session cookie.
  for (const headers of [{}, { 'X-CSRF-Token': 'forged' }]) {
    const forged = await pageA.request.post(`${demo.url}/api/app-passwords/create`, { headers, data: { label: 'Evil' } });
    assert.equal(forged.status(), 403);
  }
  const forgedForm = await pageA.request.post(`${demo.url}/security/password`, {
    form: { current: demo.password, password: 'attacker-password', confirm: 'attacker-password' },
  });
  assert.equal(forgedForm.status(), 403);
  assert.equal((await demo.mfa.listAppPasswords(demo.user)).length, 0);

  // A stolen session (its cookie and CSRF token, but no current factor) cannot add a way in:
  // no app password, no new backup codes, no replaced authenticator — the core wants a proof.
  const csrf = await panel.getAttribute('csrf-token');
  const stolen = (path, data) => pageA.request.post(`${demo.url}${path}`, { headers: { 'X-CSRF-Token': csrf }, data });
  const before = await demo.mfa.status(demo.user);
  for (const [path, data] of [
    ['/api/app-passwords/create', { label: 'Evil' }],
    ['/api/backup/regenerate', {}],
    ['/api/enroll/start', {}],
  ]) {
    const bare = await stolen(path, data);
    assert.deepEqual([path, bare.status(), (await bare.json()).error.code], [path, 400, 'fresh_factor_required']);
  }
  const guessed = await stolen('/api/app-passwords/create', { label: 'Evil', proof: { method: 'totp', code: '000000' } });
  assert.deepEqual([guessed.status(), (await guessed.json()).error.code], [400, 'wrong_code']);
  const after = await demo.mfa.status(demo.user);
  assert.deepEqual([after.pending, after.totp.enabled_at], [false, before.totp.enabled_at], 'the authenticator is the same');
  assert.equal((await demo.mfa.backupCodesStatus(demo.user)).remaining, 6, 'the backup codes are the same');
  assert.equal((await demo.mfa.listAppPasswords(demo.user)).length, 0, 'no app password');
  assert.ok(demo.lines.some((l) => l.includes('app password refused (proof totp: wrong_code)')), 'the refusal is logged');

  // An empty name is refused before anything is sent; so is a missing current code.
  await panel.getByRole('button', { name: 'Create app password' }).click();
  await panel.getByRole('alert').filter({ hasText: 'Enter a name' }).waitFor();
  assert.equal(await panel.getByLabel('Name of the app').getAttribute('aria-invalid'), 'true');
  await panel.getByLabel('Name of the app').fill('Thunderbird');
  await panel.getByRole('button', { name: 'Create app password' }).click();
  await panel.getByRole('alert').filter({ hasText: 'Enter the current code from your app' }).waitFor();
  assert.equal(await panel.getByLabel('Code from your app').getAttribute('aria-invalid'), 'true');
  // A wrong current code: refused by the core, said so, nothing created.
  await panel.getByLabel('Code from your app').fill('000000');
  await panel.getByRole('button', { name: 'Create app password' }).click();
  await panel.getByRole('alert').filter({ hasText: 'That code was not accepted' }).waitFor();
  assert.equal(await panel.getByLabel('Code from your app').getAttribute('aria-invalid'), 'true');
  assert.equal((await demo.mfa.listAppPasswords(demo.user)).length, 0);
  await assertAccessible(pageA, 'security page (app password: wrong current code)');
  await shot(pageA, '07-app-password-wrong-code');

  /** Creates an app password, proving a current factor: the app's code, or a backup code. */
  const create = async (label, { backupCode } = {}) => {
    await panel.getByLabel('Name of the app').fill(label);
    if (backupCode) {
      await panel.getByLabel('Use a backup code instead').check();
      await panel.getByLabel('Backup code', { exact: true }).fill(backupCode);
    } else {
      await panel.getByLabel('Code from your app').fill(await freshCode());
    }
    await panel.getByRole('button', { name: 'Create app password' }).click();
    await panel.getByRole('heading', { name: `App password for ${label}` }).waitFor();
    const password = (await panel.locator('code.secret-once').textContent()).trim();
    assert.match(password, /^[a-z]{4}(-[a-z]{4}){4}$/);
    return password;
  };
  const thunderbird = await create('Thunderbird');
  const focused = await pageA.evaluate(() => document.querySelector('mail2fa-app-passwords').shadowRoot.activeElement?.textContent);
  assert.equal(focused, 'App password for Thunderbird', 'focus moves to the new password’s heading');
  await panel.locator('tbody').getByText('Thunderbird').waitFor();
  await assertAccessible(pageA, 'security page (new app password shown)');
  await shot(pageA, '07-app-password-created');
  // It works where a mail client would use it (the same check the Dovecot passdb makes).
  assert.equal((await demo.mfa.verifyAppPassword(demo.user, thunderbird)).ok, true);
  assert.ok(!demo.lines.join('\n').includes(thunderbird), 'never logged');

  await panel.getByRole('button', { name: 'Done' }).click();
  assert.ok(!(await shadowText(pageA, 'mail2fa-app-passwords')).includes(thunderbird), 'gone from the page after Done');

  // Shown once: a reload lists the label only; the list sends no hashes.
  const listed = pageA.waitForResponse((r) => r.url().endsWith('/api/app-passwords/list'));
  await pageA.reload();
  const list = await (await listed).json();
  assert.deepEqual(list.app_passwords.map((p) => p.label), ['Thunderbird']);
  assert.deepEqual(Object.keys(list.app_passwords[0]).sort(), ['created_at', 'id', 'label', 'last_used_at']);
  await panel.locator('tbody').getByText('Thunderbird').waitFor();
  assert.ok(!(await shadowText(pageA, 'mail2fa-app-passwords')).includes(thunderbird));
  assert.ok(!(await pageA.content()).includes(thunderbird));

  phonePassword = await create('Phone', { backupCode: codes[5] });
  assert.equal((await demo.mfa.backupCodesStatus(demo.user)).remaining, 5, 'the backup code used as proof is spent');
  await panel.getByRole('button', { name: 'Done' }).click();
  await panel.getByRole('button', { name: 'Revoke Thunderbird' }).click();
  await panel.getByRole('status').filter({ hasText: 'Revoked “Thunderbird”' }).waitFor();
  assert.equal(await panel.locator('tbody tr').count(), 1);
  await panel.locator('tbody').getByText('Phone').waitFor();
  assert.equal((await demo.mfa.verifyAppPassword(demo.user, thunderbird)).ok, false, 'a revoked app password stops working');
  assert.equal((await demo.mfa.verifyAppPassword(demo.user, phonePassword)).ok, true);
  await assertAccessible(pageA, 'security page (app password revoked)');
  await shot(pageA, '08-app-password-revoked');
});

test('new backup codes: shown once with download and print; the old ones stop working', async () => {
  await pageA.reload();
  const panel = pageA.locator('mail2fa-backup-codes');
  await panel.getByText('5 of 10 codes left.').waitFor();
  // A new set needs a current code too.
  await panel.getByRole('button', { name: 'Make new backup codes' }).click();
  await panel.getByRole('alert').filter({ hasText: 'Enter the current code from your app' }).waitFor();
  await panel.getByLabel('Code from your app').fill(await freshCode());
  await panel.getByRole('button', { name: 'Make new backup codes' }).click();
  await panel.getByRole('heading', { name: 'Your new backup codes' }).waitFor();
  const fresh = (await panel.locator('ol.codes li').allTextContents()).map((c) => c.trim());
  assert.equal(fresh.length, 10);
  assert.equal(fresh.filter((c) => codes.includes(c)).length, 0, 'a whole new set');
  await assertAccessible(pageA, 'security page (new backup codes)');
  await shot(pageA, '09-new-backup-codes');

  const downloading = pageA.waitForEvent('download');
  await panel.getByRole('button', { name: 'Download' }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), 'backup-codes.txt');
  const text = readFileSync(await download.path(), 'utf8');
  assert.ok(text.includes(demo.user));
  for (const c of fresh) assert.ok(text.includes(c), `the file lists ${c}`);

  // Printing shows the codes alone (mail2fa-codes-print.css hides the page around them).
  await pageA.evaluate(() => document.querySelector('mail2fa-backup-codes').setAttribute('data-printing', ''));
  await pageA.emulateMedia({ media: 'print' });
  const visible = await pageA.evaluate(() => {
    const root = document.querySelector('mail2fa-backup-codes').shadowRoot;
    const seen = (el) => el.checkVisibility({ visibilityProperty: true });
    return { h1: seen(document.querySelector('h1')), codes: seen(root.querySelector('ol.codes')), button: seen(root.querySelector('button')) };
  });
  assert.deepEqual(visible, { h1: false, codes: true, button: false });
  await shot(pageA, '10-new-backup-codes-print');
  await pageA.emulateMedia({ media: 'screen' });
  await pageA.evaluate(() => document.querySelector('mail2fa-backup-codes').removeAttribute('data-printing'));

  await panel.getByRole('button', { name: 'Done' }).click();
  await panel.getByRole('alert').filter({ hasText: 'Confirm that you have saved' }).waitFor();
  await panel.getByLabel('I have saved my backup codes').check();
  await panel.getByRole('button', { name: 'Done' }).click();
  await panel.getByText('10 of 10 codes left.').waitFor();
  assert.equal(await panel.locator('ol.codes').count(), 0, 'the codes are gone from the page');

  // B is on the second-factor page: an old unused code fails, a new one passes (and trusts B).
  assert.equal(await useBackupCode(pageB, codes[4]), '/login/2fa', 'old codes are void');
  assert.equal(await useBackupCode(pageB, fresh[0], { trust: true }), '/inbox');
  codes = fresh.slice(1);
});

test('password change: app passwords and trusted devices revoked, other sessions ended', async () => {
  await pageA.reload();
  assert.equal((await demo.mfa.listDevices(demo.user)).length, 1);
  assert.equal((await demo.mfa.listAppPasswords(demo.user)).length, 1);
  await pageA.locator('mail2fa-app-passwords').locator('tbody').getByText('Phone').waitFor();

  await pageA.getByLabel('Current password').fill('not my password');
  await pageA.getByLabel('New password (at least 10 characters)').fill(NEW_PASSWORD);
  await pageA.getByLabel('New password again').fill(NEW_PASSWORD);
  await pageA.getByRole('button', { name: 'Change password' }).click();
  await pageA.getByRole('alert').filter({ hasText: 'current password is not correct' }).waitFor();
  assert.equal(await pageA.getByLabel('Current password').getAttribute('aria-invalid'), 'true');
  await assertAccessible(pageA, 'security page (password change refused)');
  await shot(pageA, '11-password-refused');

  await pageA.getByLabel('Current password').fill(demo.password);
  await pageA.getByLabel('New password (at least 10 characters)').fill(NEW_PASSWORD);
  await pageA.getByLabel('New password again').fill(NEW_PASSWORD);
  await pageA.getByRole('button', { name: 'Change password' }).click();
  await pageA.getByRole('status').filter({ hasText: 'Revoked 1 app password(s) and 1 trusted device(s)' }).waitFor();
  await pageA.locator('mail2fa-app-passwords').getByText('No app passwords.').waitFor();
  await pageA.locator('mail2fa-devices').getByText('No trusted devices.').waitFor();
  assert.equal((await demo.mfa.verifyAppPassword(demo.user, phonePassword)).ok, false, 'app passwords stop working');
  await assertAccessible(pageA, 'security page (password changed)');
  await shot(pageA, '12-password-changed');

  // B's session ended; the old password fails; the new one needs the second step again.
  await pageB.goto(`${demo.url}/inbox`);
  assert.equal(new URL(pageB.url()).pathname, '/login', 'other sessions are signed out');
  assert.equal(await signIn(pageB), '/login');
  await pageB.getByRole('alert').filter({ hasText: 'Wrong user name or password' }).waitFor();
  assert.equal(await signIn(pageB, NEW_PASSWORD), '/login/2fa', 'its trusted device was revoked');
  assert.equal(await deviceCookie(browserB.context), undefined);
});

test('admin reset (node www/demo/admin.mjs reset): the next login has no second step', async () => {
  const admin = (...args) =>
    execFileSync(process.execPath, [join(REPO, 'www/demo/admin.mjs'), ...args], {
      env: { ...process.env, MAIL2FA_DEMO_DIR: demo.dir },
      encoding: 'utf8',
    });
  assert.match(admin('list'), new RegExp(`^${demo.user.replace('.', '\\.')}\\tenabled$`, 'm'));
  // The admin types the name as the user did: the same canonical user (not a new, empty one).
  assert.match(admin('reset', demo.user.toUpperCase()), new RegExp(`^${demo.user.replace('.', '\\.')}: two-factor authentication reset \\(off\\)`));
  assert.equal(JSON.parse(admin('status', demo.user)).state, 'disabled');

  // B was waiting on the second-factor page: its next login goes straight in.
  assert.equal(await signIn(pageB, NEW_PASSWORD), '/inbox');
  await pageB.goto(`${demo.url}/security`);
  await pageB.locator('mail2fa-enroll').getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
  // App passwords stay listed with 2FA off, but none can be made: a password-only session
  // cannot plant one that would survive turning 2FA on.
  const appPanel = pageB.locator('mail2fa-app-passwords');
  await appPanel.getByText('App passwords come with two-factor authentication').waitFor();
  await appPanel.getByText('No app passwords.').waitFor();
  assert.equal(await appPanel.getByLabel('Name of the app').count(), 0);
  const plant = await pageB.request.post(`${demo.url}/api/app-passwords/create`, {
    headers: { 'X-CSRF-Token': await appPanel.getAttribute('csrf-token') },
    data: { label: 'Planted', proof: { method: 'totp', code: '123456' } },
  });
  assert.deepEqual([plant.status(), (await plant.json()).error.code], [400, 'not_enabled']);
  assert.deepEqual(await demo.mfa.listAppPasswords(demo.user), []);
  await assertAccessible(pageB, 'security page after the admin reset');
  await shot(pageB, '13-after-admin-reset');
});

test('lost phone: 2FA turned off with a backup code (core totp.disable method backup_code)', async () => {
  // Enroll again in B (a new key: its steps start afresh).
  const enroll = pageB.locator('mail2fa-enroll');
  const started = pageB.waitForResponse((r) => r.url().endsWith('/api/enroll/start'));
  await enroll.getByRole('button', { name: 'Begin setup' }).click();
  ({ secret } = await (await started).json());
  lastStep = 0;
  await enroll.getByRole('button', { name: 'Next' }).click();
  await enroll.getByLabel('Code from the app').fill(await freshCode());
  await enroll.getByRole('button', { name: 'Verify' }).click();
  await enroll.getByRole('heading', { name: 'Save your backup codes' }).waitFor();
  const mine = (await enroll.locator('ol.codes li').allTextContents()).map((c) => c.trim());
  await enroll.getByLabel('I have saved my backup codes').check();
  await enroll.getByRole('button', { name: 'Continue' }).click();
  await enroll.getByRole('button', { name: 'Done' }).click();
  await pageB.waitForURL(`${demo.url}/security?notice=enabled`);

  const form = pageB.locator('form', { has: pageB.locator('#disable-backup') });
  await pageB.getByText('Lost your phone? Use a backup code instead').click();
  await form.getByLabel('Backup code').fill(codes[1]); // from the set the admin reset voided
  await form.getByRole('button', { name: 'Turn off with backup code' }).click();
  await pageB.getByRole('alert').filter({ hasText: 'still on' }).waitFor();
  assert.equal((await demo.mfa.status(demo.user)).state, 'enabled');
  assert.ok(await pageB.locator('details.alt').evaluate((d) => d.open), 'the backup-code form stays open');
  assert.equal(await form.getByLabel('Backup code').getAttribute('aria-invalid'), 'true');
  await assertAccessible(pageB, 'security page (turning off refused)');
  await shot(pageB, '14-disable-backup-refused');

  await form.getByLabel('Backup code').fill(mine[0]);
  await form.getByRole('button', { name: 'Turn off with backup code' }).click();
  await pageB.waitForURL(`${demo.url}/security?notice=disabled`);
  await pageB.getByText('Two-factor authentication is off.').first().waitFor();
  assert.equal((await demo.mfa.status(demo.user)).state, 'disabled');
  await shot(pageB, '15-disabled-with-backup-code');
  assert.deepEqual(problems, [], 'no CSP violation or page error');
});
