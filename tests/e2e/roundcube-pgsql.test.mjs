// Storage and replay/limit scenarios again on PostgreSQL (Debian's postgresql, started by
// scripts/roundcube-env.sh as a foreground server in a temporary directory).
import { test, before, after } from './lib/test.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { up, sql, Phone, REPO, admin } from './lib/env.mjs';
import { seedGauth, randomSecret, importGauth, loginWithCode, replayRefused, bruteForceLocked, storageConsistent } from './lib/scenarios.mjs';
import { seesSeeded, closeAllBrowsers } from './lib/browser.mjs';

let env;
const t0 = Date.now();

before(() => {
  env = up({ db: 'pgsql' });
  console.log(`# environment (PostgreSQL) up in ${env.setupMs} ms`);
});

after(async () => {
  await closeAllBrowsers();
  env?.stop();
  console.log(`# suite ran in ${Math.round((Date.now() - t0) / 1000)} s`);
});

test('storage driver on PostgreSQL: compare-and-set, insert race, projection in the same transaction', () => {
  const out = execFileSync('php', [join(REPO, 'tests/e2e/lib/storage-check.php')], {
    env: { ...process.env, ROUNDCUBE_CONFIG_DIR: env.CONFIG_DIR },
    encoding: 'utf8',
  });
  assert.match(out, /^17 passed, 0 failed$/m, out);
});

const bob = { secret: randomSecret() };
const carol = { secret: randomSecret() };

test('import and login on PostgreSQL: the record is stored whole with its rev', async () => {
  await seedGauth(env, 'bob', bob.secret);
  await seedGauth(env, 'carol', carol.secret, { encrypt: true });
  const out = await importGauth(env);
  assert.match(out, /bob\s+imported/);
  assert.match(out, /carol\s+imported/);
  bob.phone = new Phone(bob.secret);
  const r = await loginWithCode(env, 'bob', await bob.phone.next());
  assert.equal(r.outcome, 'inbox');
  await seesSeeded(r.b.page, 'bob');
  await r.b.close();
  storageConsistent(env, 'bob');
  assert.ok(JSON.parse(sql(env, 'SELECT record FROM mail2fa_users WHERE username = ?', ['bob'])[0].record).totp.last_step > 0,
    'the accepted step is stored');
});

test('replay in a second browser context refused on PostgreSQL', async () => {
  await replayRefused(env, 'bob', bob.phone);
});

test('brute force locked until retry_after on PostgreSQL', async () => {
  await bruteForceLocked(env, 'carol', new Phone(carol.secret));
});

test('admin tool and admin-panel hook on PostgreSQL: status, revoke-*, password-changed, reset, list', async () => {
  const hook = (...args) => JSON.parse(execFileSync('php', [join(REPO, 'tests/e2e/lib/admin-hook.php'), ...args], {
    env: { ...process.env, ROUNDCUBE_CONFIG_DIR: env.CONFIG_DIR },
    encoding: 'utf8',
  }));
  const status = hook('status', 'bob');
  assert.equal(status.error, null);
  assert.equal(status.result.state, 'enabled');
  assert.ok(!JSON.stringify(status).includes(bob.secret), 'no secret in the status');
  for (const cmd of ['revoke-devices', 'revoke-app-passwords', 'password-changed']) {
    const r = await admin(env, cmd, 'bob');
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
  }
  const carolRev = Number(sql(env, 'SELECT rev FROM mail2fa_users WHERE username = ?', ['carol'])[0].rev);
  assert.equal(hook('reset', 'CAROL').result.reset, true, 'an admin panel resets a user through the hook (name canonicalised)');
  const list = await admin(env, 'list');
  const users = Object.fromEntries(JSON.parse(list.stdout).map((u) => [u.username, u]));
  // Changed: a reset keeps the row (the core's record.reset, rev one higher), 2FA off.
  assert.equal(users.bob.state, 'enabled');
  assert.equal(users.carol.state, 'disabled');
  assert.equal(users.carol.rev, carolRev + 1, 'the rev goes on: a stale write from before the reset cannot land');
  const bad = await admin(env, 'reset');
  assert.equal(bad.code, 2, 'usage error without a user');
});
