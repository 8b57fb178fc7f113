// The demo against the attacks of [harden], in headless Chromium with the demo on a clock the
// test moves: every state-changing POST refused without a non-empty CSRF token (empty bodies
// included: nothing changes, nothing is counted); "Cancel and sign out" ends the pending
// login (a right code afterwards does not complete it); the pending second step ends at the
// core's pending_expires_at; the trusted-browser offer and cookie lifetime are the core's;
// with a policy that requires 2FA, a session completes the login only with a factor it
// proved itself (another session enrolling meanwhile does not let it in).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startDemo, axeViolations, oathtool, artifactPath } from './helpers.mjs';

const T0 = Math.floor(Date.now() / 30_000) * 30_000 + 5_000; // a step start, ms

let demo;
let required;
const clock = { now: T0 };
let secret;
let lastStep = 0;

before(async () => {
  demo = await startDemo({ now: () => clock.now });
  ({ secret } = await demo.mfa.enroll(demo.user));
  assert.equal((await demo.mfa.confirm(demo.user, codeNow())).ok, true);
});

after(async () => {
  await demo?.stop();
  await required?.stop();
});

/** The app's code at the demo's clock, one step later than the last one used. */
function codeNow(c = clock) {
  const step = Math.floor(c.now / 30_000);
  if (step <= lastStep) c.now = (lastStep + 1) * 30_000 + 1_000;
  lastStep = Math.floor(c.now / 30_000);
  return oathtool(secret, Math.floor(c.now / 1000));
}

/** The user's stored row, exactly (record and version): "nothing changed" means equal rows. */
const row = (d = demo) => JSON.stringify(d.state.db.prepare('SELECT record, version FROM mail2fa_users WHERE user = ?').get(d.user) ?? null);

async function signIn(page, d = demo) {
  await page.goto(`${d.url}/login`);
  await page.getByLabel('Email address').fill(d.user);
  await page.getByLabel('Password').fill(d.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
  return new URL(page.url()).pathname;
}

async function secondStep(page, code) {
  await page.getByLabel('Code from the app').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForLoadState('load');
  return new URL(page.url()).pathname;
}

/** A new page of `context`, signed in (with the second step when asked) and on /security. */
async function securityPage(context) {
  const page = await context.newPage();
  if ((await signIn(page)) === '/login/2fa') assert.equal(await secondStep(page, codeNow()), '/inbox');
  await page.goto(`${demo.url}/security`);
  return page;
}

const POSTS = [
  '/login', '/login/2fa', '/logout', '/security/disable', '/security/password',
  '/api/backup/status', '/api/backup/regenerate', '/api/app-passwords/list', '/api/app-passwords/create',
  '/api/app-passwords/revoke', '/api/devices/list', '/api/devices/revoke', '/api/devices/revoke-all',
  '/api/enroll/start', '/api/enroll/confirm', '/api/enroll/cancel',
];

/** Posts without a usable token: no body at all, an empty form token, an empty header token, JSON {}. */
async function forgedPosts(page, path) {
  const url = `${demo.url}${path}`;
  return Promise.all([
    page.request.post(url, { maxRedirects: 0 }),
    page.request.post(url, { form: { _csrf: '' }, maxRedirects: 0 }),
    page.request.post(url, { headers: { 'X-CSRF-Token': '' }, data: {}, maxRedirects: 0 }),
    page.request.post(url, { data: {}, maxRedirects: 0 }),
  ]).then((responses) => responses.map((r) => r.status()));
}

test('every state-changing POST without a non-empty CSRF token is refused: nothing changes, nothing is counted', async () => {
  const { context, close } = await launchBrowser();
  try {
    // A session at the second step: an empty POST is no guess and keeps the step pending.
    const page = await context.newPage();
    assert.equal(await signIn(page), '/login/2fa');
    const pending = row();
    for (const path of POSTS) assert.deepEqual(await forgedPosts(page, path), [403, 403, 403, 403], `second step: ${path}`);
    assert.equal(row(), pending, 'the record (limiter included) is unchanged');
    await page.goto(`${demo.url}/login/2fa`);
    assert.equal(new URL(page.url()).pathname, '/login/2fa', 'the pending login is still pending');

    // A signed-in session: no change of any kind, and the session itself survives.
    assert.equal(await secondStep(page, codeNow()), '/inbox');
    const signedIn = row();
    for (const path of POSTS) assert.deepEqual(await forgedPosts(page, path), [403, 403, 403, 403], `signed in: ${path}`);
    assert.equal(row(), signedIn, 'the record is unchanged');
    await page.goto(`${demo.url}/inbox`);
    assert.equal(new URL(page.url()).pathname, '/inbox', 'an empty POST to /logout did not end the session');
    assert.equal(await demo.state.checkPassword(demo.user, demo.password), true, 'the password is unchanged');
  } finally {
    await close();
  }
});

test('"Cancel and sign out" on the second step ends the pending login: a right code afterwards does not complete it', async () => {
  const { context, close } = await launchBrowser();
  try {
    const page = await context.newPage();
    assert.equal(await signIn(page), '/login/2fa');
    const sid = (await context.cookies(demo.url)).find((c) => c.name === 'm2f_sid');
    const csrf = await page.locator('form[action="/login/2fa"] input[name="_csrf"]').first().inputValue();
    await page.getByRole('button', { name: 'Cancel and sign out' }).click();
    await page.waitForURL(`${demo.url}/login`);
    assert.ok(demo.lines.some((l) => l.endsWith('pending login cancelled')));

    // The attacker (or a second tab) replays the old session with a right code.
    const before = row();
    await context.addCookies([sid]);
    const late = await page.request.post(`${demo.url}/login/2fa`, { form: { _csrf: csrf, method: 'totp', code: codeNow() }, maxRedirects: 0 });
    assert.notEqual(late.headers().location, '/inbox');
    assert.ok([403, 303].includes(late.status()), `status ${late.status()}`);
    assert.equal(row(), before, 'the code was never checked (not spent, not counted)');
    await page.goto(`${demo.url}/inbox`);
    assert.equal(new URL(page.url()).pathname, '/login');
  } finally {
    await close();
  }
});

test('the second step ends at the core’s pending_expires_at; the trust offer and cookie lifetime are the core’s', async () => {
  const { context, close } = await launchBrowser();
  try {
    const page = await context.newPage();
    assert.equal(await signIn(page), '/login/2fa');
    // The core's default: 600 s. One second before, the step still works; at the deadline it ends.
    clock.now += 599_000;
    await page.reload();
    assert.equal(new URL(page.url()).pathname, '/login/2fa');
    await page.getByLabel('Trust this browser for 30 days').first().waitFor(); // trust_days from login.decide
    clock.now += 1_000;
    const before = row();
    assert.equal(await secondStep(page, codeNow()), '/login');
    await page.getByRole('status').filter({ hasText: 'Your sign-in took too long' }).waitFor();
    assert.equal(row(), before, 'an expired step checks no code');
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: artifactPath('security', 'harden-pending-expired.png'), fullPage: true });
    await page.goto(`${demo.url}/inbox`);
    assert.equal(new URL(page.url()).pathname, '/login');

    // A fresh sign-in, trusting the browser: the cookie lives until the core's device_expires_at.
    assert.equal(await signIn(page), '/login/2fa');
    await page.getByLabel('Code from the app').fill(codeNow());
    await page.locator('#trust-totp').check();
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${demo.url}/inbox`);
    const [device] = await demo.mfa.listDevices(demo.user);
    const cookie = (await context.cookies(demo.url)).find((c) => c.name === 'm2f_device');
    const lifetime = device.expires_at - Math.floor(clock.now / 1000);
    assert.ok(Math.abs(cookie.expires - Date.now() / 1000 - lifetime) < 60, 'Max-Age = device_expires_at - now');
  } finally {
    await close();
  }
});

test('a stolen session cannot replace the authenticator, mint backup codes or an app password', async () => {
  const { context, close } = await launchBrowser();
  try {
    const page = await securityPage(context);
    const csrf = await page.locator('mail2fa-backup-codes').getAttribute('csrf-token');
    const post = (p, data) => page.request.post(`${demo.url}${p}`, { headers: { 'X-CSRF-Token': csrf }, data });
    const before = row();
    for (const [p, data] of [['/api/enroll/start', {}], ['/api/backup/regenerate', {}], ['/api/app-passwords/create', { label: 'x' }]]) {
      const r = await post(p, data);
      assert.deepEqual([p, r.status(), (await r.json()).error.code], [p, 400, 'fresh_factor_required']);
    }
    assert.equal(row(), before, 'no proof: nothing written, nothing counted');
    const wrong = await post('/api/enroll/start', { proof: { method: 'totp', code: '000000' } });
    const body = await wrong.json();
    assert.deepEqual([wrong.status(), body.error.code, 'secret' in body], [400, 'wrong_code', false]);
    assert.equal((await demo.mfa.status(demo.user)).pending, false, 'no enrollment started');
    // With the current code the owner may move to a new phone.
    const moved = await post('/api/enroll/start', { proof: { method: 'totp', code: codeNow() } });
    assert.equal(moved.status(), 200);
    assert.match((await moved.json()).uri, /^otpauth:\/\/totp\//);
    assert.equal((await demo.mfa.status(demo.user)).pending, true);
    await post('/api/enroll/cancel', {});
  } finally {
    await close();
  }
});

test('required policy: a session completes the login only with a factor it proved itself', async () => {
  const rclock = { now: T0 };
  required = await startDemo({ now: () => rclock.now, policy: { mode: 'required' } });
  const a = await launchBrowser();
  const b = await launchBrowser();
  try {
    const pageA = await a.context.newPage();
    const pageB = await b.context.newPage();
    // A: password only, before the owner enrolled. Only enrollment is served.
    assert.equal(await signIn(pageA, required), '/login/enroll');
    await pageA.locator('mail2fa-enroll').waitFor();
    assert.deepEqual(await axeViolations(pageA), []);
    await pageA.goto(`${required.url}/inbox`);
    assert.equal(new URL(pageA.url()).pathname, '/login/enroll');
    const csrfA = await pageA.locator('mail2fa-enroll').getAttribute('csrf-token');
    const listA = await pageA.request.post(`${required.url}/api/app-passwords/list`, { headers: { 'X-CSRF-Token': csrfA }, data: {} });
    assert.equal(listA.status(), 401);

    // B (the owner) signs in and enrolls in the browser; B is in.
    assert.equal(await signIn(pageB, required), '/login/enroll');
    const enroll = pageB.locator('mail2fa-enroll');
    const started = pageB.waitForResponse((r) => r.url().endsWith('/api/enroll/start'));
    await enroll.getByRole('button', { name: 'Begin setup' }).click();
    const { secret: bSecret } = await (await started).json();
    await enroll.getByRole('button', { name: 'Next' }).click();
    await enroll.getByLabel('Code from the app').fill(oathtool(bSecret, Math.floor(rclock.now / 1000)));
    await enroll.getByRole('button', { name: 'Verify' }).click();
    await enroll.getByRole('heading', { name: 'Save your backup codes' }).waitFor();
    await enroll.getByLabel('I have saved my backup codes').check();
    await enroll.getByRole('button', { name: 'Continue' }).click();
    await enroll.getByRole('button', { name: 'Done' }).click();
    await pageB.waitForURL(`${required.url}/inbox`);

    // A never entered a code: the record is enabled now, but A is not let in by it.
    const confirmA = await pageA.request.post(`${required.url}/api/enroll/confirm`, {
      headers: { 'X-CSRF-Token': csrfA }, data: { code: '123456' },
    });
    assert.notEqual((await confirmA.json()).activated, true);
    const startA = await pageA.request.post(`${required.url}/api/enroll/start`, { headers: { 'X-CSRF-Token': csrfA }, data: {} });
    assert.notEqual(startA.status(), 200, 'A cannot replace the factor B enrolled');
    for (const p of ['/inbox', '/security', '/login/enroll']) {
      await pageA.goto(`${required.url}${p}`);
      assert.equal(new URL(pageA.url()).pathname, '/login/2fa', `${p}: A is asked for a code`);
    }
    // With a code of the factor (proved by A itself) A gets in.
    rclock.now += 30_000;
    await pageA.getByLabel('Code from the app').fill(oathtool(bSecret, Math.floor(rclock.now / 1000)));
    await pageA.getByRole('button', { name: 'Verify' }).click();
    await pageA.waitForURL(`${required.url}/inbox`);
  } finally {
    await a.close();
    await b.close();
  }
});

test('moving to a new phone on the security page: a current code first, the old app works until the new one is confirmed, then only the new one', async () => {
  const { context, close } = await launchBrowser();
  try {
    const page = await securityPage(context);
    const move = page.locator('mail2fa-enroll');
    await move.getByRole('heading', { name: 'Move to a new phone' }).waitFor();
    assert.deepEqual(await axeViolations(page), []);
    const proofInput = move.getByLabel('Code from your app');

    // No code: the element asks for one and sends nothing.
    const untouched = row();
    await move.getByRole('button', { name: 'Begin setup' }).click();
    await move.getByRole('alert').filter({ hasText: 'Enter the current code from your app' }).waitFor();
    assert.equal(await proofInput.getAttribute('aria-invalid'), 'true');
    assert.equal(row(), untouched, 'nothing sent');

    // A wrong code: refused by the core, no enrollment started, the field marked and cleared.
    await proofInput.fill('000000');
    await move.getByRole('button', { name: 'Begin setup' }).click();
    await move.getByRole('alert').filter({ hasText: 'That code was not accepted' }).waitFor();
    assert.equal(await proofInput.inputValue(), '');
    assert.equal(await proofInput.getAttribute('aria-invalid'), 'true');
    assert.equal((await demo.mfa.status(demo.user)).pending, false, 'no enrollment started');

    // The current code starts it: a new key, and the old app keeps working meanwhile.
    await proofInput.fill(codeNow());
    const started = page.waitForResponse((r) => r.url().endsWith('/api/enroll/start'));
    await move.getByRole('button', { name: 'Begin setup' }).click();
    const { secret: newSecret } = await (await started).json();
    await move.getByRole('heading', { name: 'Scan the QR code' }).waitFor();
    assert.notEqual(newSecret, secret);
    assert.equal((await demo.mfa.verifyLogin(demo.user, codeNow())).ok, true, 'the old app works until the new one is confirmed');

    const oldSecret = secret;
    secret = newSecret;
    await move.getByRole('button', { name: 'Next' }).click();
    await move.getByLabel('Code from the app').fill(codeNow());
    await move.getByRole('button', { name: 'Verify' }).click();
    // The core issues a new set of backup codes with the new factor.
    await move.getByLabel('I have saved my backup codes').check();
    await move.getByRole('button', { name: 'Continue' }).click();
    await move.getByRole('heading', { name: 'Your new phone is set up' }).waitFor();
    assert.deepEqual(await axeViolations(page), []);
    await move.getByRole('button', { name: 'Done' }).click();
    await page.waitForURL(`${demo.url}/security?notice=replaced`);
    await page.getByRole('status').filter({ hasText: 'Your new phone is set up' }).waitFor();
    assert.ok(demo.lines.some((l) => l.endsWith('authenticator moved to a new phone')));

    // Only the new app's codes work now.
    clock.now = (lastStep + 1) * 30_000 + 1_000;
    const oldCode = oathtool(oldSecret, Math.floor(clock.now / 1000));
    const refused = await demo.mfa.verifyLogin(demo.user, oldCode);
    assert.deepEqual([refused.ok, refused.reason], [false, 'wrong_code']);
    assert.equal((await demo.mfa.verifyLogin(demo.user, codeNow())).ok, true);
  } finally {
    await close();
  }
});
