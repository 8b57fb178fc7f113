// Scenarios shared by the SQLite and PostgreSQL runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, Phone, sql, password, snapshot, admin } from './env.mjs';
import { browser, login, submitCode, seesSeeded, logout, errorText, where } from './browser.mjs';
import { Client } from './http.mjs';

/** Makes the Roundcube user row (first password login), then gives it gauthenticator prefs. */
export async function seedGauth(env, user, secret, { encrypt = false, codes = [] } = {}) {
  const c = new Client(env.URL);
  const loc = await c.login(user);
  assert.match(loc, /_task=mail/, `${user} logs in with the password before 2FA`);
  execFileSync('php', [join(REPO, 'tests/e2e/lib/seed-gauth.php'), user, secret, encrypt ? '1' : '0', ...codes], {
    env: { ...process.env, ROUNDCUBE_CONFIG_DIR: env.CONFIG_DIR },
  });
}

/** A random base32 secret (160 bits) as another 2FA plugin would have made. */
export function randomSecret() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let s = '';
  for (let i = 0; i < 32; i++) s += alphabet[Math.floor(Math.random() * 32)];
  return s;
}

/** Imports every seeded gauthenticator user; returns the tool's output. */
export async function importGauth(env) {
  const r = await admin(env, 'import-gauthenticator');
  assert.equal(r.code, 0, `import-gauthenticator: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** The stored row of a user. */
export function row(env, user) {
  return sql(env, 'SELECT username, rev, state, record FROM mail2fa_users WHERE username = ?', [user])[0];
}

/** Login with password and a code in a fresh browser; returns {b, outcome}. */
export async function loginWithCode(env, user, code, opts = {}) {
  const b = await browser();
  const first = await login(b.page, env, user);
  assert.equal(first, 'second-factor', `${user}: the password leads to the second-factor form`);
  const outcome = await submitCode(b.page, code, opts);
  return { b, outcome };
}

/** The same code in a second browser context is refused (RFC 6238 §5.2), across nodes via the DB. */
export async function replayRefused(env, user, phone) {
  const code = await phone.next();
  const a = await loginWithCode(env, user, code);
  assert.equal(a.outcome, 'inbox', 'the first use of the code logs in');
  await seesSeeded(a.b.page, user);
  const b = await loginWithCode(env, user, code);
  assert.equal(b.outcome, 'second-factor', 'the same code in a second context is refused');
  assert.match(await errorText(b.b.page), /not accepted/);
  await a.b.close();
  await b.b.close();
}

/** After max_failures wrong codes even the right code is refused until retry_after. */
export async function bruteForceLocked(env, user, phone) {
  const b = await browser();
  assert.equal(await login(b.page, env, user), 'second-factor');
  let locked = false;
  for (let i = 0; i < 5; i++) {
    assert.equal(await submitCode(b.page, phone.wrong()), 'second-factor');
    const text = await errorText(b.page);
    if (/Too many/.test(text)) locked = true;
  }
  assert.ok(locked, 'the fifth wrong code locks the user');
  const text = await errorText(b.page);
  const m = text.match(/in (\d+) seconds/);
  assert.ok(m, `retry_after is shown: ${text}`);
  const right = await phone.next();
  assert.equal(await submitCode(b.page, right), 'second-factor', 'the right code is refused while locked');
  assert.match(await errorText(b.page), /Too many/);
  const state = JSON.parse(row(env, user).record);
  assert.ok(state.limiter, 'the limiter state is in the stored record');
  // Wait out the lock; the right code (a fresh step: the refused one was never checked) works.
  await new Promise((r) => setTimeout(r, (Number(m[1]) + 1) * 1000));
  phone.lastStep -= 1; // the code refused unchecked while locked was not used up
  const again = await phone.next();
  assert.equal(await submitCode(b.page, again), 'inbox', 'after retry_after the right code logs in');
  await seesSeeded(b.page, user);
  await b.close();
}

/** Storage: the row holds the core's JSON whole, rev mirrors record.rev, state as reported. */
export function storageConsistent(env, user) {
  const r = row(env, user);
  assert.ok(r, `${user} has a row`);
  const record = JSON.parse(r.record);
  assert.equal(Number(r.rev), record.rev, 'rev column = record.rev');
  assert.equal(r.state, 'enabled');
  assert.equal(record.format, 1);
  assert.ok(!/"secret":"[A-Z2-7]{16,}"/.test(r.record), 'no plaintext secret in the stored record');
}

export { Phone, snapshot, password, Client, where, readdirSync, readFileSync };
