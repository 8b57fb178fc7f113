// The demo's second step under the attempt limiter, in headless Chromium: wrong backup codes
// are counted by the core across methods; once locked, even a right code is refused with
// a message saying when to try again. (Its own demo: the lock would stall other tests.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startDemo, axeViolations, oathtool, artifactPath } from './helpers.mjs';

let demo;
let browser;
let secret;
let codes;

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  // Set-up only (the browser flow is in enroll/security tests): enroll with the npm API.
  ({ secret } = await demo.mfa.enroll(demo.user));
  // The first backup codes come with the activation.
  const confirmed = await demo.mfa.confirm(demo.user, oathtool(secret));
  assert.equal(confirmed.ok, true);
  codes = confirmed.backupCodes;
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test('five wrong codes lock the second step; a right code is then refused too', async () => {
  const page = await browser.context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${demo.url}/login`);
  await page.getByLabel('Email address').fill(demo.user);
  await page.getByLabel('Password').fill(demo.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${demo.url}/login/2fa`);

  const tryBackup = async (code) => {
    const details = page.locator('details.alt');
    if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
    await page.getByLabel('Backup code').fill(code);
    await page.getByRole('button', { name: 'Sign in with backup code' }).click();
    await page.waitForLoadState('load');
  };
  // Well-formed wrong codes: a malformed one ('wrong-guess') is refused but not counted (a
  // typo is not a guess), so the lock comes from five real guesses.
  for (let i = 0; i < 4; i++) {
    await tryBackup(`aaaaa-bbbb${i}`);
    await page.getByRole('alert').filter({ hasText: 'backup code was not accepted' }).waitFor();
  }
  await tryBackup('aaaaa-bbbb4');
  await page.getByRole('alert').filter({ hasText: 'Too many wrong codes. Try again in' }).waitFor();
  assert.deepEqual(await axeViolations(page), [], 'axe on the locked second step');
  await page.screenshot({ path: artifactPath('security', 'second-factor-locked.png'), fullPage: true, caret: 'initial' });

  await tryBackup(codes[0]);
  await page.getByRole('alert').filter({ hasText: 'Too many wrong codes' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/login/2fa', 'locked: a right code does not sign in');
  assert.equal((await demo.mfa.backupCodesStatus(demo.user)).remaining, 10, 'nor is it spent');
  for (const path of ['/inbox', '/security']) {
    await page.goto(`${demo.url}${path}`);
    assert.equal(new URL(page.url()).pathname, '/login/2fa');
  }
  assert.deepEqual(problems, []);
  await page.close();
});
