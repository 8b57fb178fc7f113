// Without a site key (mail2fa_keys empty), enabling 2FA is refused with a clear admin error;
// users without 2FA log in as before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { up } from './lib/env.mjs';
import { browser, login } from './lib/browser.mjs';

let env;
before(() => {
  env = up({ db: 'sqlite', local: "<?php\n$config['mail2fa_keys'] = [];\n" });
});
after(() => env?.stop());

test('no site key: the settings refuse enrollment and the admin error log says what to set', async () => {
  const b = await browser();
  const { page } = b;
  assert.equal(await login(page, env, 'judy'), 'inbox', 'users without 2FA are unaffected');
  await page.goto(`${env.URL}?_task=settings&_action=plugin.mail2fa`);
  await page.locator('#mail2fa-nokey').waitFor();
  assert.match(await page.locator('#mail2fa-nokey').textContent(), /not configured/);
  assert.equal(await page.locator('mail2fa-enroll').count(), 0, 'no enrollment offered');
  const token = await page.evaluate(() => window.rcmail.env.request_token);
  const res = await page.request.post(`${env.URL}?_task=settings&_action=plugin.mail2fa-enroll-start`, {
    form: { _token: token },
  });
  assert.equal(res.status(), 503);
  assert.equal((await res.json()).error.code, 'not_configured');
  const log = readFileSync(join(env.DIR, 'logs/roundcube/errors.log'), 'utf8');
  assert.match(log, /mail2fa_keys is not configured: two-factor authentication cannot be enabled/);
  await b.close();
});
