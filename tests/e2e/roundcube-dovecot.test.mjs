// Roundcube + Dovecot running the shipped mail2fa passdb (scripts/roundcube-env.sh with
// MAIL2FA_ENV_DOVECOT_2FA=1): the webmail's exemption is a proof only the running plugin can
// make (issue 12 items 8 and 9), never a client address.
//  - a 2FA user signs in to the webmail through the second factor, and every later IMAP
//    connection of the session works through the plugin's proof;
//  - the plugin not loaded (a typo in `plugins`): the 2FA user's webmail login fails (closed),
//    a user without 2FA still signs in;
//  - a direct IMAP login from 127.0.0.1 (in login_trusted_networks) with x-originating-ip
//    forged and no, a wrong, an expired or another user's proof is refused for a 2FA user.
import { test, before, after } from './lib/test.mjs';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { up, Phone, logLines } from './lib/env.mjs';
import { browser, login, submitCode, seesSeeded, closeAllBrowsers } from './lib/browser.mjs';
import { seedGauth, importGauth, randomSecret, row } from './lib/scenarios.mjs';

let env;
let phone;

before(async () => {
  process.env.MAIL2FA_ENV_DOVECOT_2FA = '1';
  try {
    env = up({ db: 'sqlite' });
  } finally {
    delete process.env.MAIL2FA_ENV_DOVECOT_2FA;
  }
  assert.equal(env.DOVECOT_PASSDB, 'lua', 'the environment runs the mail2fa passdb');
  const secret = randomSecret();
  await seedGauth(env, 'alice', secret);
  await importGauth(env);
  assert.equal(row(env, 'alice').state, 'enabled', 'alice has 2FA on');
  phone = new Phone(secret);
});

after(async () => {
  await closeAllBrowsers();
  env?.stop();
});

/** The proof as the core's webmail.proof makes it (HMAC-SHA256 over user and time). */
function proof(user, time = Math.floor(Date.now() / 1000), secret = env.WEBMAIL_SECRET) {
  const mac = createHmac('sha256', secret).update(`mail2fa/v1 webmail-imap\n${user}\n${time}`).digest('hex');
  return `1.${time}.${mac}`;
}

const quote = (s) => `"${s.replace(/["\\]/g, '\\$&')}"`;

/**
 * An IMAP LOGIN from 127.0.0.1 (a trusted network of this Dovecot), with IMAP ID fields sent
 * before it as Roundcube's preauth_ident does; returns 'OK', 'NO' or the tagged line.
 */
function imapLogin(user, pass, ident = null) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port: Number(env.IMAP_PORT), localAddress: '127.0.0.1' });
    let buf = '';
    let step = 0;
    sock.setTimeout(20000, () => {
      sock.destroy();
      reject(new Error(`IMAP timeout after: ${buf}`));
    });
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (step === 0 && /^\* OK/m.test(buf)) {
        step = 1;
        if (ident) {
          const fields = Object.entries(ident).map(([k, v]) => `${quote(k)} ${quote(v)}`).join(' ');
          sock.write(`a1 ID (${fields})\r\n`);
        } else {
          sock.write('a1 NOOP\r\n');
        }
      }
      if (step === 1 && /^a1 OK/m.test(buf)) {
        step = 2;
        sock.write(`a2 LOGIN ${quote(user)} ${quote(pass)}\r\n`);
      }
      const m = step === 2 && buf.match(/^a2 (OK|NO|BAD)[^\r\n]*/m);
      if (m) {
        step = 3;
        sock.end('a3 LOGOUT\r\n');
        resolve(m[1] === 'BAD' ? m[0] : m[1]);
      }
    });
  });
}

function dovecotLog() {
  return readFileSync(join(env.DIR, 'logs', 'dovecot.log'), 'utf8');
}

test('a 2FA user signs in to the webmail through the second factor; IMAP works through the plugin\'s proof', async () => {
  assert.equal(await imapLogin('alice', 'pw-alice-Secret1'), 'NO', 'the main password alone is refused at IMAP');
  const before = dovecotLog().split('webmail proof accepted').length;
  const b = await browser();
  assert.equal(await login(b.page, env, 'alice'), 'second-factor', 'the IMAP login with the proof passed');
  assert.equal(await submitCode(b.page, await phone.next()), 'inbox');
  await seesSeeded(b.page, 'alice');
  // The message list came over IMAP connections of later requests, each with a new proof.
  const accepted = dovecotLog().split('webmail proof accepted').length - before;
  assert.ok(accepted >= 2, `proofs accepted: ${accepted}`);
  await b.close();
  const log = dovecotLog();
  assert.ok(!log.includes(env.WEBMAIL_SECRET), 'the secret is not in Dovecot\'s log');
  assert.doesNotMatch(log, /1\.\d+\.[0-9a-f]{64}/, 'no proof in Dovecot\'s log');
  assert.ok(!logLines(env, 'errors').some((l) => l.includes(env.WEBMAIL_SECRET)), 'nor in Roundcube\'s');
});

test('a direct IMAP login from 127.0.0.1 with x-originating-ip forged and no, a wrong, an expired or another user\'s proof is refused', async () => {
  const now = Math.floor(Date.now() / 1000);
  const good = proof('alice', now);
  const cases = {
    'no ID at all': null,
    'x-originating-ip 127.0.0.1 forged, no proof': { 'x-originating-ip': '127.0.0.1' },
    'x-originating-ip ::1 forged, no proof': { 'x-originating-ip': '::1' },
    'a wrong MAC': { 'x-originating-ip': '127.0.0.1', 'x-forward-mail2fa': good.slice(0, -1) + (good.endsWith('0') ? '1' : '0') },
    'an expired proof (5 minutes old)': { 'x-originating-ip': '127.0.0.1', 'x-forward-mail2fa': proof('alice', now - 300) },
    'another user\'s proof': { 'x-originating-ip': '127.0.0.1', 'x-forward-mail2fa': proof('bob', now) },
    'a proof under another secret': { 'x-forward-mail2fa': proof('alice', now, `${env.WEBMAIL_SECRET}x`) },
    'garbage': { 'x-forward-mail2fa': 'yes' },
  };
  for (const [why, ident] of Object.entries(cases)) {
    assert.equal(await imapLogin('alice', 'pw-alice-Secret1', ident), 'NO', why);
  }
  // The control: the same login with a valid proof (what the plugin sends) is accepted, and a
  // user without 2FA needs none.
  assert.equal(await imapLogin('alice', 'pw-alice-Secret1', { 'x-forward-mail2fa': proof('alice') }), 'OK');
  assert.equal(await imapLogin('bob', 'pw-bob-Secret1', { 'x-originating-ip': '127.0.0.1' }), 'OK');
});

test('plugin not loaded (a typo in plugins): the 2FA user\'s webmail login fails, a user without 2FA still signs in', async () => {
  const path = join(env.CONFIG_DIR, 'config.inc.php');
  const original = readFileSync(path, 'utf8');
  assert.match(original, /'plugins'\] = \['mail2fa', /);
  writeFileSync(path, original.replace("'plugins'] = ['mail2fa', ", "'plugins'] = ['mail2fa_', "));
  try {
    await new Promise((r) => setTimeout(r, 3000)); // opcache.revalidate_freq = 2
    const a = await browser();
    assert.equal(await login(a.page, env, 'alice'), 'failed', 'no proof: Dovecot refuses the main password');
    assert.equal(await a.page.locator('#rcmloginuser').count(), 1, 'back at the login form');
    await a.close();
    assert.ok(logLines(env, 'errors').some((l) => /mail2fa_/.test(l) && /plugin/i.test(l)),
      'Roundcube logged the plugin it could not load');
    const b = await browser();
    assert.equal(await login(b.page, env, 'judy'), 'inbox', 'a user without 2FA is unaffected');
    await seesSeeded(b.page, 'judy');
    await b.close();
  } finally {
    writeFileSync(path, original);
  }
  await new Promise((r) => setTimeout(r, 3000));
  const c = await browser();
  assert.equal(await login(c.page, env, 'alice'), 'second-factor', 'the plugin back: the proof again');
  await c.close();
});
