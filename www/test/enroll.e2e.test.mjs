// End to end on the demo in headless Chromium: password login, enrollment with
// <mail2fa-enroll> (the QR screenshot decoded by zbarimg equals the server's otpauth URI,
// codes from oathtool as a phone computes them), then a login that needs the second factor.
// axe-core checks every step; a screenshot of each step goes to tests/artifacts/enroll/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  launchBrowser,
  startDemo,
  axeViolations,
  zbar,
  oathtool,
  artifactPath,
  REPO,
} from './helpers.mjs';

let demo;
let browser;
const cspViolations = [];

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** A page that records CSP violations and page errors. */
async function newPage(context = browser.context) {
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) cspViolations.push(msg.text());
  });
  page.on('pageerror', (error) => cspViolations.push(`pageerror: ${error.message}`));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: artifactPath('enroll', `${name}.png`), fullPage: true, caret: 'initial' });
}

async function assertAccessible(page, step) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `axe: serious/critical violations on ${step}`);
}

/** The id of the element focused inside <mail2fa-enroll>'s shadow root, with its tag. */
async function focusedInEnroll(page) {
  return page.evaluate(() => {
    const el = document.querySelector('mail2fa-enroll');
    const active = el?.shadowRoot?.activeElement;
    return active ? { tag: active.localName, text: active.textContent } : null;
  });
}

async function signIn(page, { password = demo.password } = {}) {
  await page.goto(`${demo.url}/login`);
  await page.getByLabel('Email address').fill(demo.user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
}

let secret;
let uri;
let activationStep;

test('enrollment end to end: QR decodes to the server URI, oathtool codes confirm it', async () => {
  const page = await newPage();
  await page.goto(`${demo.url}/login`);
  await assertAccessible(page, 'login');
  await shot(page, '01-login');

  await signIn(page, { password: 'wrong password' });
  await assert.doesNotReject(page.getByRole('alert').filter({ hasText: 'Wrong user name or password' }).waitFor());

  await signIn(page);
  assert.equal(new URL(page.url()).pathname, '/inbox', 'no second factor yet: straight to the inbox');
  await page.getByRole('link', { name: 'Security' }).first().click();
  await page.waitForLoadState('load');

  const enroll = page.locator('mail2fa-enroll');
  await enroll.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
  await assertAccessible(page, 'intro');
  await shot(page, '02-intro');

  // Start: the server makes the secret with the core; the URI travels in a POST response only.
  const started = page.waitForResponse((r) => r.url().endsWith('/api/enroll/start'));
  await enroll.getByRole('button', { name: 'Begin setup' }).press('Enter');
  const response = await started;
  assert.equal(response.request().method(), 'POST');
  ({ uri, secret } = await response.json());
  assert.match(uri, /^otpauth:\/\/totp\//);
  assert.ok(!page.url().includes(secret), 'the secret is never in the URL');

  const qr = enroll.locator('figure.qr svg');
  await qr.waitFor();
  const heading = await focusedInEnroll(page);
  assert.deepEqual(heading, { tag: 'h2', text: 'Scan the QR code' }, 'focus moves to the step heading');
  assert.equal(await qr.getAttribute('role'), 'img');
  assert.match(await qr.getAttribute('aria-label'), /demo@example\.com/);

  // The QR screenshot, decoded as a phone camera would.
  const qrPng = artifactPath('enroll', 'qr.png');
  await qr.screenshot({ path: qrPng, caret: 'initial' });
  assert.deepEqual(zbar(qrPng), [uri], 'zbarimg reads exactly the otpauth URI the server made');

  // The manual key: the secret grouped in fours.
  const key = (await enroll.locator('code.key').textContent()).trim();
  assert.match(key, /^([A-Z2-7]{4} )*[A-Z2-7]{1,4}$/);
  assert.equal(key.replaceAll(' ', ''), secret);
  assert.equal(new URL(uri).searchParams.get('secret'), secret);
  await assertAccessible(page, 'scan');
  await shot(page, '03-scan');

  // The same step at 320 px and in dark mode.
  await page.setViewportSize({ width: 320, height: 900 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 320, `no horizontal scrolling at 320 px (scrollWidth ${overflow})`);
  await shot(page, '03-scan-320px');
  await page.emulateMedia({ colorScheme: 'dark' });
  await assertAccessible(page, 'scan (dark)');
  const qrDark = artifactPath('enroll', 'qr-dark.png');
  await qr.screenshot({ path: qrDark, caret: 'initial' });
  assert.deepEqual(zbar(qrDark), [uri], 'the QR code stays readable in dark mode');
  await shot(page, '03-scan-dark-320px');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1000, height: 900 });

  // Keyboard only: Tab to "Next" and press Enter.
  await enroll.getByRole('button', { name: 'Next' }).focus();
  await page.keyboard.press('Enter');
  const input = enroll.getByLabel('Code from the app');
  await input.waitFor();
  assert.deepEqual(await focusedInEnroll(page), { tag: 'h2', text: 'Enter the code from your app' });
  assert.equal(await input.getAttribute('autocomplete'), 'one-time-code');
  assert.equal(await input.getAttribute('inputmode'), 'numeric');
  await assertAccessible(page, 'verify');
  await shot(page, '04-verify');

  // A wrong code: an announced error, the input marked invalid, still on this step.
  const now = Math.floor(Date.now() / 1000);
  const right = oathtool(secret, now);
  const wrong = String((Number(right) + 500000) % 1000000).padStart(6, '0');
  await input.fill(wrong);
  await page.keyboard.press('Enter');
  const alert = enroll.getByRole('alert');
  await alert.filter({ hasText: 'not accepted' }).waitFor();
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await assertAccessible(page, 'verify (wrong code)');
  await shot(page, '05-verify-wrong-code');

  // The code the phone shows now.
  const t = Math.floor(Date.now() / 1000);
  activationStep = Math.floor(t / 30);
  await input.fill(oathtool(secret, t));
  await page.keyboard.press('Enter');

  // The demo confirms with the first set of backup codes: shown once, then gone.
  await enroll.getByRole('heading', { name: 'Save your backup codes' }).waitFor();
  const codes = (await enroll.locator('ol.codes li').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, /^[0-9a-z]{5}-[0-9a-z]{5}$/);
  assert.equal(new Set(codes).size, 10);
  assert.ok(!demo.lines.join('\n').includes(codes[0]), 'no backup code in the server log');
  await assertAccessible(page, 'backup codes');
  await shot(page, '06-backup-codes');
  await enroll.getByLabel('I have saved my backup codes').check();
  await enroll.getByRole('button', { name: 'Continue' }).click();
  await enroll.getByRole('heading', { name: 'Two-factor authentication is on' }).waitFor();
  assert.equal(await enroll.locator('ol.codes').count(), 0, 'the codes are gone from the page');
  assert.deepEqual(await focusedInEnroll(page), { tag: 'h2', text: 'Two-factor authentication is on' });
  assert.equal(await enroll.locator('code.key').count(), 0, 'the key is gone from the page');
  assert.equal(await enroll.locator('svg').count(), 0, 'the QR code is gone from the page');
  await assertAccessible(page, 'done');
  await shot(page, '06-done');

  await enroll.getByRole('button', { name: 'Done' }).click();
  await page.waitForURL(`${demo.url}/security?notice=enabled`);
  await page.getByText('Two-factor authentication is on.').first().waitFor();
  assert.ok(demo.lines.some((l) => l.includes('two-factor authentication turned on')));
  assert.deepEqual(cspViolations, [], 'no CSP violation or page error');
  await page.close();
});

test('login now needs the second factor; nothing of the inbox before it', async () => {
  assert.ok(secret, 'enrollment ran first');
  const { context, close } = await launchBrowser();
  try {
    const page = await newPage(context);
    await signIn(page);
    assert.equal(new URL(page.url()).pathname, '/login/2fa');
    const code = page.getByLabel('Code from the app');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    await assertAccessible(page, 'second factor');
    await shot(page, '07-second-factor');

    // Password-only session: the inbox, the security page and the API are all refused.
    for (const path of ['/inbox', '/security']) {
      const r = await page.goto(`${demo.url}${path}`);
      assert.equal(new URL(r.url()).pathname, '/login/2fa', `${path} redirects to the second factor`);
      assert.ok(!(await page.content()).includes('Ada Lovelace'), `${path} shows no mail`);
    }
    const api = await page.request.post(`${demo.url}/api/enroll/start`, { data: {} });
    assert.equal(api.status(), 403, 'no CSRF token: refused');

    // The code used for activation is spent; a wrong code is refused with an announced error.
    await code.fill(oathtool(secret, activationStep * 30));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login/2fa');
    await assertAccessible(page, 'second factor (refused)');
    await shot(page, '08-second-factor-refused');

    // The next step's code, as the phone shows it 30 s later (accepted within the window).
    await page.getByLabel('Code from the app').fill(oathtool(secret, (activationStep + 1) * 30));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${demo.url}/inbox`);
    await page.getByText('Ada Lovelace').waitFor();
    await assertAccessible(page, 'inbox');
    await shot(page, '09-inbox');

    // Turning 2FA off needs a current code: a wrong one leaves it on, with an announced error.
    await page.getByRole('link', { name: 'Security' }).first().click();
    await page.getByLabel('Current code from your app').fill('000000');
    await page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    await page.getByRole('alert').filter({ hasText: 'still on' }).waitFor();
    assert.equal((await demo.mfa.status(demo.user)).state, 'enabled');
    await assertAccessible(page, 'security (2FA on)');
    await shot(page, '10-security-enabled');
    assert.deepEqual(cspViolations, [], 'no CSP violation or page error');
  } finally {
    await close();
  }
});

test('admin reset: the very next login has no second step', async () => {
  assert.ok(secret, 'enrollment ran first');
  const run = (...args) =>
    execFileSync(process.execPath, [join(REPO, 'www/demo/admin.mjs'), ...args], {
      env: { ...process.env, MAIL2FA_DEMO_DIR: demo.dir },
      encoding: 'utf8',
    });
  assert.equal(JSON.parse(run('status', demo.user)).state, 'enabled');
  assert.match(run('reset', demo.user), /reset \(off\)/);
  assert.equal(JSON.parse(run('status', demo.user)).state, 'disabled');
  const { context, close } = await launchBrowser();
  try {
    const page = await newPage(context);
    await signIn(page);
    assert.equal(new URL(page.url()).pathname, '/inbox');
  } finally {
    await close();
  }
});
