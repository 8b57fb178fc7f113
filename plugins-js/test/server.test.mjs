// The server API's whole flow over both storages, and the race the compare-and-set exists for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Mail2fa, MemoryStorage, TOTP, Mail2faError, generateKey } from 'mail2fa';
import { SqliteStorage } from 'mail2fa/sqlite';

const T0 = 1_800_000_000_000; // ms; a fixed clock so codes are known
const dir = mkdtempSync(join(tmpdir(), 'mail2fa-js-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let dbCount = 0;
const storages = {
  memory: () => new MemoryStorage(),
  sqlite: () => new SqliteStorage(join(dir, `db${dbCount++}.sqlite`)),
};

/** A Mail2fa on a settable clock. */
function site(storage, keys = [generateKey('k1')]) {
  const clock = { now: T0 };
  const mfa = new Mail2fa({ keys, storage, issuer: 'Example Mail', now: () => clock.now });
  return { mfa, clock, keys };
}

const codeAt = (secret, ms) => new TOTP({ secret }).generate({ timestamp: ms });

/** Enrolls and confirms `user`; returns the secret. */
async function enable(mfa, clock, user) {
  const { secret } = await mfa.enroll(user);
  assert.equal((await mfa.confirm(user, codeAt(secret, clock.now))).ok, true);
  return secret;
}

for (const [kind, makeStorage] of Object.entries(storages)) {
  test(`${kind}: enroll, confirm, login, replay, disable`, async () => {
    const { mfa, clock } = site(makeStorage());
    const off = await mfa.beginLogin('alice');
    assert.equal(off.required, false);
    assert.equal(off.verdict, 'not_required');
    assert.equal(await mfa.status('alice').then((s) => s.state), 'disabled');

    const enrolled = await mfa.enroll('alice', { account: 'alice@example.com' });
    assert.match(enrolled.uri, /^otpauth:\/\/totp\/Example%20Mail:alice%40example\.com\?secret=[A-Z2-7]{32}&/);
    assert.match(enrolled.qr, /^<svg[\s\S]*<\/svg>\s*$/);
    assert.equal(enrolled.state, 'pending');
    // An unfinished enrollment never turns 2FA on.
    assert.deepEqual(
      [(await mfa.beginLogin('alice')).required, (await mfa.beginLogin('alice')).state],
      [false, 'pending'],
    );

    const wrong = await mfa.confirm('alice', codeAt(enrolled.secret, clock.now + 600_000));
    assert.deepEqual(wrong, { ok: false, reason: 'wrong_code', state: 'pending' });
    const code = codeAt(enrolled.secret, clock.now);
    assert.deepEqual(await mfa.confirm('alice', code), { ok: true, reason: null, state: 'enabled' });
    const begin = await mfa.beginLogin('alice');
    assert.equal(begin.required, true);
    assert.equal(begin.verdict, 'factor_required');
    assert.deepEqual(begin.methods, ['totp', 'trusted_device']);

    // The step used to confirm is spent; the next step logs in once.
    const replay = await mfa.verifyLogin('alice', code);
    assert.deepEqual([replay.ok, replay.verdict, replay.reason], [false, 'wrong', 'replayed']);
    clock.now += 30_000;
    const next = codeAt(enrolled.secret, clock.now);
    const ok = await mfa.verifyLogin('alice', next);
    assert.deepEqual([ok.ok, ok.verdict, ok.method, ok.reason, ok.deviceToken], [true, 'ok', 'totp', null, null]);
    assert.equal((await mfa.verifyLogin('alice', next)).reason, 'replayed');
    assert.equal((await mfa.verifyLogin('alice', ` ${next.slice(0, 5)}x`)).reason, 'malformed');

    const status = await mfa.status('alice');
    assert.equal(status.totp.account, 'alice@example.com');
    assert.equal(status.totp.last_step, Math.floor(clock.now / 30_000));
    assert.equal(JSON.stringify(status).includes(enrolled.secret), false, 'status shows no secret');

    clock.now += 30_000;
    assert.equal((await mfa.disable('alice', '000000')).ok, false);
    const disabled = await mfa.disable('alice', codeAt(enrolled.secret, clock.now));
    assert.deepEqual([disabled.ok, disabled.state], [true, 'disabled']);
    assert.equal((await mfa.beginLogin('alice')).required, false);
  });

  test(`${kind}: a user without the phone turns 2FA off with a backup code`, async () => {
    const { mfa, clock } = site(makeStorage());
    const secret = await enable(mfa, clock, 'gina');
    const { codes } = await mfa.generateBackupCodes('gina');
    assert.equal((await mfa.verifyLogin('gina', codes[0], { method: 'backup_code' })).ok, true);
    const used = await mfa.disable('gina', codes[0], { method: 'backup_code' });
    assert.deepEqual([used.ok, used.reason, used.state], [false, 'wrong_code', 'enabled']);
    clock.now += 30_000;
    const totpAsBackup = await mfa.disable('gina', codeAt(secret, clock.now), { method: 'backup_code' });
    assert.deepEqual([totpAsBackup.ok, totpAsBackup.state], [false, 'enabled']);
    await assert.rejects(mfa.disable('gina', codes[1], { method: 'sms' }), { code: 'invalid_field' });
    const off = await mfa.disable('gina', codes[1], { method: 'backup_code' });
    assert.deepEqual([off.ok, off.state], [true, 'disabled']);
    assert.equal((await mfa.beginLogin('gina')).required, false);
  });

  test(`${kind}: re-enrolling keeps the enabled factor until confirmed; cancel drops only the pending one`, async () => {
    const { mfa, clock } = site(makeStorage());
    const first = await enable(mfa, clock, 'bob');
    const second = await mfa.enroll('bob');
    assert.equal(second.state, 'enabled');
    clock.now += 30_000;
    assert.equal((await mfa.verifyLogin('bob', codeAt(first, clock.now))).ok, true, 'old factor still in force');
    assert.deepEqual(await mfa.cancelEnrollment('bob'), { state: 'enabled' });
    clock.now += 30_000;
    await assert.rejects(mfa.confirm('bob', codeAt(second.secret, clock.now)), { code: 'no_pending_enrollment' });
    assert.equal((await mfa.verifyLogin('bob', codeAt(first, clock.now))).ok, true);
  });

  test(`${kind}: import, export and key rotation`, async () => {
    const k1 = generateKey('k1');
    const k2 = generateKey('k2');
    const storage = makeStorage();
    const { mfa, clock } = site(storage, [k1]);
    const uri = 'otpauth://totp/Old%20Plugin:carol?secret=JBSWY3DPEHPK3PXP&issuer=Old%20Plugin';
    assert.deepEqual(await mfa.importUri('carol', uri), { state: 'enabled' });
    await assert.rejects(mfa.importUri('carol', uri), { code: 'already_enabled' });
    assert.equal(TOTP.parse(await mfa.exportUri('carol')).secret, 'JBSWY3DPEHPK3PXP');

    const rotated = new Mail2fa({ keys: [k2, k1], storage, now: () => clock.now });
    assert.equal((await rotated.status('carol')).needs_rotation, true);
    assert.deepEqual(await rotated.rotateKey('carol'), { resealed: 1 });
    assert.deepEqual(await rotated.rotateKey('carol'), { resealed: 0 });
    const onlyNew = new Mail2fa({ keys: [k2], storage, now: () => clock.now });
    assert.equal((await onlyNew.verifyLogin('carol', codeAt('JBSWY3DPEHPK3PXP', clock.now))).ok, true);
  });

  test(`${kind}: importing twofactor_gauthenticator settings brings the key and its recovery codes`, async () => {
    const { mfa, clock } = site(makeStorage());
    const prefs = { secret: 'JBSWY3DPEHPK3PXP', activate: true, recovery_codes: ['12345678', '', '87654321'] };
    const imported = await mfa.importLegacy('hank', { from: 'gauthenticator', prefs });
    assert.deepEqual(imported, { totp: 'enabled', backupCodes: 2, notImported: [], state: 'enabled' });
    assert.equal((await mfa.verifyLogin('hank', codeAt('JBSWY3DPEHPK3PXP', clock.now))).ok, true);
    const viaBackup = await mfa.verifyLogin('hank', '8765 4321', { method: 'backup_code' });
    assert.deepEqual([viaBackup.ok, viaBackup.method, viaBackup.backupCodesRemaining], [true, 'backup_code', 1]);
    await assert.rejects(mfa.importLegacy('hank', { from: 'elsewhere' }), { code: 'invalid_field' });
  });

  test(`${kind}: admin reset turns 2FA off, even when the record no longer opens`, async () => {
    const storage = makeStorage();
    const { mfa, clock } = site(storage);
    const secret = await enable(mfa, clock, 'frank');
    assert.equal(await mfa.adminReset('nobody'), false);
    assert.equal(await storage.get('nobody'), null, 'no row made for a user without one');
    assert.equal(await mfa.adminReset('frank'), true);
    assert.deepEqual([(await mfa.beginLogin('frank')).required, (await mfa.status('frank')).state], [false, 'disabled']);
    clock.now += 30_000;
    assert.equal((await mfa.verifyLogin('frank', codeAt(secret, clock.now))).ok, false);
    // A record sealed under keys the site lost: reset is the way back.
    const lost = new Mail2fa({ keys: [generateKey('k9')], storage, now: () => clock.now });
    await enable(lost, clock, 'gina');
    assert.deepEqual(await mfa.beginLogin('gina'), {
      required: true, ok: false, verdict: 'factor_required', state: 'enabled', error: 'unknown_key_id',
    });
    assert.equal(await mfa.adminReset('gina'), true);
    assert.equal((await mfa.beginLogin('gina')).required, false);
  });

  test(`${kind}: a record that does not open keeps 2FA required (fails closed)`, async () => {
    const storage = makeStorage();
    const { mfa, clock } = site(storage);
    const secret = await enable(mfa, clock, 'dave');
    const otherSite = new Mail2fa({ keys: [generateKey('k1')], storage, now: () => clock.now });
    const begin = await otherSite.beginLogin('dave');
    assert.deepEqual([begin.required, begin.error], [true, 'decrypt_failed']);
    clock.now += 30_000;
    await assert.rejects(otherSite.verifyLogin('dave', codeAt(secret, clock.now)), (e) => {
      assert.ok(e instanceof Mail2faError);
      assert.equal(e.code, 'decrypt_failed');
      assert.equal(e.message.includes(secret), false);
      return true;
    });
    assert.equal((await mfa.verifyLogin('nobody', '123456')).verdict, 'not_required');
    // A stored record that is not a record at all (corrupted, a newer format) fails closed too.
    for (const [record, code] of [[{ format: 1, rev: 'x' }, 'invalid_record'], [{ format: 9, rev: 1 }, 'unsupported_format']]) {
      assert.equal(await storage.compareAndSet(`broken-${code}`, null, record), true);
      assert.deepEqual(await mfa.beginLogin(`broken-${code}`), {
        required: true, ok: false, verdict: 'factor_required', state: 'enabled', error: code,
      });
    }
    assert.equal(await storage.get('nobody'), null, 'a login without 2FA writes nothing');
  });

  test(`${kind}: wrong codes lock the user; a correct code is refused while locked`, async () => {
    const { mfa, clock } = site(makeStorage());
    const secret = await enable(mfa, clock, 'ivy');
    clock.now += 30_000;
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push((await mfa.verifyLogin('ivy', '000000')).verdict);
    assert.deepEqual(verdicts, ['wrong', 'wrong', 'wrong', 'wrong', 'wrong']);
    const locked = await mfa.verifyLogin('ivy', codeAt(secret, clock.now));
    assert.deepEqual([locked.ok, locked.verdict], [false, 'locked']);
    assert.ok(locked.retryAfter > 0);
    const begin = await mfa.beginLogin('ivy');
    assert.deepEqual([begin.required, begin.verdict, begin.retryAfter > 0], [true, 'factor_required', true]);
    clock.now += locked.retryAfter * 1000 + 30_000;
    assert.equal((await mfa.verifyLogin('ivy', codeAt(secret, clock.now))).ok, true);
  });

  test(`${kind}: backup codes log in once each`, async () => {
    const { mfa, clock } = site(makeStorage());
    await assert.rejects(mfa.generateBackupCodes('jay'), { code: 'not_enabled' });
    const { secret } = await mfa.enroll('jay');
    const confirmed = await mfa.confirm('jay', codeAt(secret, clock.now), { backupCodes: true });
    assert.equal(confirmed.ok, true);
    assert.equal(confirmed.backupCodes.length, 10);
    for (const c of confirmed.backupCodes) assert.match(c, /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
    assert.equal((await mfa.backupCodesStatus('jay')).remaining, 10);

    const { codes } = await mfa.generateBackupCodes('jay', { count: 3 });
    assert.equal(codes.length, 3);
    const old = await mfa.verifyLogin('jay', confirmed.backupCodes[0], { method: 'backup_code' });
    assert.deepEqual([old.ok, old.reason], [false, 'wrong_code'], 'a new set replaces the old one');
    const used = await mfa.verifyLogin('jay', codes[0].toUpperCase(), { method: 'backup_code' });
    assert.deepEqual([used.ok, used.backupCodesRemaining], [true, 2]);
    assert.equal((await mfa.verifyLogin('jay', codes[0], { method: 'backup_code' })).ok, false);
    const reauth = await mfa.verifyBackupCode('jay', codes[1]);
    assert.deepEqual(reauth, { ok: true, reason: null, retryAfter: null, remaining: 1 });
    assert.equal((await mfa.backupCodesStatus('jay')).remaining, 1);
    await assert.rejects(mfa.verifyLogin('jay', codes[2], { method: 'sms' }), { code: 'invalid_field' });
  });

  test(`${kind}: trusted devices skip the second step until revoked or the password changes`, async () => {
    const { mfa, clock } = site(makeStorage());
    const secret = await enable(mfa, clock, 'kim');
    clock.now += 30_000;
    const login = await mfa.verifyLogin('kim', codeAt(secret, clock.now), { trustDevice: true, userAgent: 'Firefox on Linux' });
    assert.equal(login.ok, true);
    assert.match(login.deviceToken, /^[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{32}$/);
    assert.equal(login.deviceExpiresAt, Math.floor(clock.now / 1000) + 30 * 86400);

    const again = await mfa.beginLogin('kim', { deviceToken: login.deviceToken });
    assert.deepEqual([again.required, again.verdict, again.deviceId], [false, 'ok', login.deviceId]);
    const devices = await mfa.listDevices('kim');
    assert.deepEqual(devices.map((d) => [d.id, d.label, d.expired]), [[login.deviceId, 'Firefox on Linux', false]]);
    assert.equal(JSON.stringify(devices).includes(login.deviceToken.split('.')[1]), false, 'no token in the list');

    const settings = await mfa.trustDevice('kim', { userAgent: 'Phone' });
    assert.equal(await mfa.revokeAllDevices('kim', { except: settings.id }), 1);
    const revoked = await mfa.beginLogin('kim', { deviceToken: login.deviceToken });
    assert.deepEqual([revoked.required, revoked.forgetDevice, revoked.reason], [true, true, 'device_unknown']);
    assert.equal((await mfa.beginLogin('kim', { deviceToken: settings.token })).required, false);
    assert.equal(await mfa.revokeDevice('kim', settings.id), true);
    assert.equal(await mfa.revokeDevice('kim', settings.id), false);

    const third = await mfa.trustDevice('kim');
    assert.deepEqual(await mfa.passwordChanged('kim'), { revokedAppPasswords: 0, revokedDevices: 1 });
    assert.equal((await mfa.beginLogin('kim', { deviceToken: third.token })).required, true);
  });

  test(`${kind}: app passwords for mail clients`, async () => {
    const { mfa } = site(makeStorage());
    const created = await mfa.createAppPassword('lee', 'Thunderbird');
    assert.match(created.password, /^[a-z]{4}(-[a-z]{4}){4}$/);
    const [entry] = await mfa.listAppPasswords('lee');
    assert.deepEqual([entry.id, entry.label, entry.last_used_at], [created.id, 'Thunderbird', null]);
    assert.match(entry.phc, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
    assert.deepEqual(await mfa.verifyAppPassword('lee', created.password), { ok: true, id: created.id });
    assert.notEqual((await mfa.listAppPasswords('lee'))[0].last_used_at, null);
    assert.deepEqual(await mfa.verifyAppPassword('lee', 'aaaa-bbbb-cccc-dddd-eeee'), { ok: false, id: null });
    const second = await mfa.createAppPassword('lee', 'Phone');
    assert.equal(await mfa.revokeAppPassword('lee', created.id), true);
    assert.equal((await mfa.verifyAppPassword('lee', created.password)).ok, false);
    assert.equal(await mfa.revokeAllAppPasswords('lee'), 1);
    assert.equal((await mfa.verifyAppPassword('lee', second.password)).ok, false);
    assert.deepEqual(await mfa.listAppPasswords('lee'), []);
  });

  test(`${kind}: a policy that requires 2FA allows only enrollment`, async () => {
    const storage = makeStorage();
    const clock = { now: T0 };
    const strict = new Mail2fa({ keys: [generateKey('k1')], storage, now: () => clock.now, policy: { mode: 'required' } });
    const begin = await strict.beginLogin('max');
    assert.deepEqual([begin.required, begin.verdict], [true, 'enroll_required']);
    const graceUntil = Math.floor(T0 / 1000) + 86400;
    const lenient = new Mail2fa({ keys: [generateKey('k1')], storage, now: () => clock.now, policy: { mode: 'required', grace_until: graceUntil } });
    const inGrace = await lenient.beginLogin('max');
    assert.deepEqual([inGrace.required, inGrace.verdict, inGrace.enrollBy], [false, 'not_required', graceUntil]);
    const noDevices = new Mail2fa({ keys: [generateKey('k1')], storage, policy: { device_days: 0 } });
    await assert.rejects(noDevices.trustDevice('max'), { code: 'feature_disabled' });
    await assert.rejects(new Mail2fa({ keys: [generateKey('k1')], storage, policy: { mdoe: 'required' } }).beginLogin('max'), { code: 'invalid_field' });
  });
}

test('sqlite: two nodes verify the same code at once; exactly one is accepted', async () => {
  const file = join(dir, 'race.sqlite');
  const { mfa, clock, keys } = site(new SqliteStorage(file));
  const secret = await enable(mfa, clock, 'erin');

  // Independent connections to one database, as separate webmail nodes would have; the
  // wrapper counts compare-and-set refusals to show the race really happened.
  let refused = 0;
  const node = () => {
    const inner = new SqliteStorage(file);
    const storage = {
      get: (user) => inner.get(user),
      compareAndSet: async (user, version, record) => {
        const done = await inner.compareAndSet(user, version, record);
        if (!done) refused++;
        return done;
      },
    };
    return new Mail2fa({ keys, storage, now: () => clock.now });
  };
  for (const nodes of [2, 5]) {
    clock.now += 30_000;
    const code = codeAt(secret, clock.now);
    refused = 0;
    const results = await Promise.all(Array.from({ length: nodes }, () => node().verifyLogin('erin', code)));
    assert.equal(results.filter((r) => r.ok).length, 1, `${nodes} nodes: exactly one accepted`);
    assert.deepEqual(
      results.filter((r) => !r.ok).map((r) => `${r.verdict}/${r.reason}`),
      Array(nodes - 1).fill('wrong/replayed'),
    );
    assert.ok(refused >= nodes - 1, `${nodes} nodes: the losers' writes were refused (${refused})`);
  }
});

test('sqlite: four processes verify the same code at the same moment; exactly one is accepted', async () => {
  const file = join(dir, 'process-race.sqlite');
  const { mfa, clock, keys } = site(new SqliteStorage(file));
  const secret = await enable(mfa, clock, 'pat');
  clock.now += 30_000;
  const code = codeAt(secret, clock.now);
  const startAt = Date.now() + 1500; // every process is loaded and spinning by then
  const script = `
    import { Mail2fa } from 'mail2fa';
    import { SqliteStorage } from 'mail2fa/sqlite';
    const [file, keys, now, code, startAt] = JSON.parse(process.argv[1]);
    const mfa = new Mail2fa({ keys, storage: new SqliteStorage(file), now: () => now });
    await mfa.status('pat'); // module loaded, connection open
    while (Date.now() < startAt);
    const r = await mfa.verifyLogin('pat', code);
    console.log(JSON.stringify({ ok: r.ok, verdict: r.verdict, reason: r.reason }));`;
  const args = JSON.stringify([file, keys, clock.now, code, startAt]);
  const run = () =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script, args], { cwd: fileURLToPath(new URL('..', import.meta.url)) },
        (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout))));
    });
  const results = await Promise.all([run(), run(), run(), run()]);
  assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
  assert.deepEqual(results.filter((r) => !r.ok).map((r) => `${r.verdict}/${r.reason}`), Array(3).fill('wrong/replayed'));
});

test('sqlite: wrong codes racing on two nodes are all counted: exactly max_failures are checked', async () => {
  const file = join(dir, 'limiter-race.sqlite');
  const { mfa, clock, keys } = site(new SqliteStorage(file));
  await enable(mfa, clock, 'olga');
  clock.now += 30_000;
  const nodes = [new SqliteStorage(file), new SqliteStorage(file)].map(
    (storage) => new Mail2fa({ keys, storage, now: () => clock.now }),
  );
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => nodes[i % 2].verifyLogin('olga', '000000')));
  const verdicts = results.map((r) => r.verdict).sort();
  assert.deepEqual(verdicts, [...Array(7).fill('locked'), ...Array(5).fill('wrong')]);
});

test('storage contract: compare-and-set refuses a stale version and a second insert', async () => {
  for (const storage of [new MemoryStorage(), new SqliteStorage(join(dir, 'cas.sqlite'))]) {
    const record = { format: 1, rev: 0, created_at: 1, updated_at: 1, totp: null, pending_totp: null };
    assert.equal(await storage.get('u'), null);
    assert.equal(await storage.compareAndSet('u', null, record), true);
    assert.equal(await storage.compareAndSet('u', null, record), false);
    const row = await storage.get('u');
    assert.deepEqual(row.record, record);
    assert.equal(await storage.compareAndSet('u', row.version, { ...record, rev: 1 }), true);
    assert.equal(await storage.compareAndSet('u', row.version, { ...record, rev: 2 }), false);
    assert.equal((await storage.get('u')).record.rev, 1);
  }
});
