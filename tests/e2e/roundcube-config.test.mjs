// Configuration edge cases, each in its own small environment: without a site key
// (mail2fa_keys empty) enabling 2FA is refused with a clear admin error and users without
// 2FA log in as before; the network allow-list and trusted proxies; a plugin installed without
// its assets step.
import { test, before, after } from './lib/test.mjs';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, readdirSync, symlinkSync, cpSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { up, REPO, OVERRIDES_FROM_FILE, setOverrides, password } from './lib/env.mjs';
import { Client } from './lib/http.mjs';
import { browser, login, closeAllBrowsers } from './lib/browser.mjs';

let env;
before(() => {
  env = up({ db: 'sqlite', local: `<?php\n$config['mail2fa_keys'] = [];\n${OVERRIDES_FROM_FILE}` });
});
after(async () => {
  await closeAllBrowsers();
  env?.stop();
});

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

test('network allow-list (mail2fa_allowed_networks) with a trusted proxy: only its clients are answered', async () => {
  const net = up({
    db: 'sqlite',
    local: "<?php\n$config['mail2fa_allowed_networks'] = ['10.9.9.0/24'];\n$config['mail2fa_trusted_proxies'] = ['127.0.0.1'];\n",
  });
  try {
    const direct = await fetch(net.URL);
    assert.equal(direct.status, 403, '127.0.0.1 itself is not in the allow-list');
    const viaProxy = await fetch(net.URL, { headers: { 'X-Forwarded-For': '10.9.9.5' } });
    assert.equal(viaProxy.status, 200, 'a client the trusted proxy reports from the allowed network');
    const spoofed = await fetch(net.URL, { headers: { 'X-Forwarded-For': '10.9.9.5, 198.51.100.7' } });
    assert.equal(spoofed.status, 403, 'the right-most hop counts, a prepended address does not');
  } finally {
    net.stop();
  }
});

test('client IP rules: only the header mail2fa_client_ip_header names, only from trusted proxies (Client-IP never), IPv4/IPv6 ranges', () => {
  const out = execFileSync('php', [join(REPO, 'tests/e2e/lib/net-check.php')], {
    env: { ...process.env, ROUNDCUBE_CONFIG_DIR: env.CONFIG_DIR },
    encoding: 'utf8',
  });
  assert.match(out, /^18 passed, 0 failed$/m, out);
});

test('device cookie attributes: HttpOnly, SameSite=Strict, Secure on https', () => {
  const out = execFileSync('php', [join(REPO, 'tests/e2e/lib/cookie-check.php')], {
    env: { ...process.env, ROUNDCUBE_CONFIG_DIR: env.CONFIG_DIR },
    encoding: 'utf8',
  });
  assert.match(out, /^6 passed, 0 failed$/m, out);
});

/** A password login over HTTP; returns {location, body} of Roundcube's answer. */
async function tryLogin(user) {
  const c = new Client(env.URL);
  const page = await c.request('./');
  const token = page.body.match(/name="_token" value="([^"]+)"/)[1];
  const res = await c.request('./?_task=login', {
    method: 'POST',
    form: { _token: token, _task: 'login', _action: 'login', _timezone: 'UTC', _url: '', _user: user, _pass: password(user) },
  });
  return { location: res.location || '', body: res.body, client: c };
}

const errors = () => readFileSync(join(env.DIR, 'logs/roundcube/errors.log'), 'utf8');

test('refused configurations: several imap_host servers, or case "keep" without login_lc 2: no login, a clear message, the admin log names the setting', async () => {
  try {
    setOverrides(env, { imap_host: [`127.0.0.1:${env.IMAP_PORT}`, 'imap.other.invalid:143'] });
    let r = await tryLogin('judy');
    assert.doesNotMatch(r.location, /_task=mail/, 'several IMAP servers: nobody signs in');
    assert.match(r.body, /Sign-in is not possible right now: two-factor authentication on this server is not configured safely/);
    assert.match(errors(), /mail2fa: login refused: imap_host lists 2 IMAP servers/);
    const inbox = await r.client.request('./?_task=mail');
    assert.match(inbox.body, /id="rcmloginuser"/, 'no session: the login page');
    assert.ok(!inbox.body.includes('Seeded message'));

    setOverrides(env, { imap_host: `%s:${env.IMAP_PORT}` });
    r = await tryLogin('judy');
    assert.doesNotMatch(r.location, /_task=mail/, 'an IMAP server chosen per request: refused');
    assert.match(errors(), /mail2fa: login refused: imap_host \(%s:\d+\) picks the IMAP server per request/);

    setOverrides(env, { login_lc: 0, mail2fa_username: { case: 'keep' } });
    r = await tryLogin('judy');
    assert.doesNotMatch(r.location, /_task=mail/, "case 'keep' with login_lc 0: refused");
    assert.match(r.body, /not configured safely/);
    assert.match(errors(), /mail2fa: login refused: mail2fa_username 'case' => 'keep' with Roundcube's login_lc = 0/);

    setOverrides(env, { login_lc: 2, mail2fa_username: { case: 'keep' } });
    r = await tryLogin('judy');
    assert.match(r.location, /_task=mail/, "case 'keep' with login_lc 2 (Roundcube lower-cases every name): allowed");

    setOverrides(env, { mail2fa_username: { case: 'upper' } });
    r = await tryLogin('judy');
    assert.doesNotMatch(r.location, /_task=mail/, 'a mail2fa_username the core does not accept: the login is held');
    assert.match(errors(), /login of judy held at the second factor: .*mail2fa_username is not valid/);
  } finally {
    setOverrides(env, {});
  }
  const ok = await tryLogin('judy');
  assert.match(ok.location, /_task=mail/, 'the default configuration signs in');
});

test('plugin installed without its assets: the settings page says so, the admin log names the files and the step', async () => {
  // Roundcube's plugins dir for this php-fpm only (RCUBE_PLUGINS_DIR, defined before Roundcube
  // by auto_prepend_file): the bundled plugins, and a copy of mail2fa made without the assets
  // step. The shared plugin directory other environments serve stays as it is.
  const root = mkdtempSync(join(tmpdir(), 'mail2fa-noassets-'));
  chmodSync(root, 0o755);
  const plugins = join(root, 'plugins');
  cpSync('/var/lib/roundcube/plugins', plugins, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.endsWith('/mail2fa') });
  cpSync(join(REPO, 'plugins-php/mail2fa'), join(plugins, 'mail2fa'), {
    recursive: true,
    filter: (src) => !src.startsWith(join(REPO, 'plugins-php/mail2fa/assets')),
  });
  assert.ok(!readdirSync(join(plugins, 'mail2fa')).includes('assets'));
  const prepend = join(root, 'prepend.php');
  writeFileSync(prepend, `<?php define('RCUBE_PLUGINS_DIR', ${JSON.stringify(plugins + '/')});\n`);
  const saved = process.env.MAIL2FA_PHP_INI_EXTRA;
  process.env.MAIL2FA_PHP_INI_EXTRA = `auto_prepend_file = ${prepend}`;
  let bare;
  try {
    bare = up({ db: 'sqlite' });
  } finally {
    if (saved === undefined) delete process.env.MAIL2FA_PHP_INI_EXTRA;
    else process.env.MAIL2FA_PHP_INI_EXTRA = saved;
  }
  try {
    const b = await browser();
    const { page } = b;
    const requested = [];
    page.on('request', (r) => requested.push(r.url()));
    assert.equal(await login(page, bare, 'ivan'), 'inbox');
    await page.goto(`${bare.URL}?_task=settings&_action=plugin.mail2fa`);
    const msg = page.locator('#mail2fa-noassets');
    await msg.waitFor();
    assert.match(await msg.textContent(), /not completely installed/);
    assert.equal(await page.locator('mail2fa-enroll').count(), 0, 'no enrollment that could not work');
    assert.ok(!requested.some((u) => u.includes('/assets/')), 'no request for a file that is not there');
    await b.close();
    const log = readFileSync(join(bare.DIR, 'logs/roundcube/errors.log'), 'utf8');
    assert.match(log, /two-factor enrollment cannot be shown: assets\/mail2fa-enroll\.js, assets\/mail2fa-ui\.js, assets\/mail2fa\.css, assets\/mail2fa-print\.css missing in .*\(install them: scripts\/roundcube-install\.sh assets, or make plugin-assets\)/);
  } finally {
    bare.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
