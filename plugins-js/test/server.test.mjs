// The server API's whole flow over both storages, and the race the compare-and-set exists for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Mail2fa, MemoryStorage, TOTP, Mail2faError, generateKey, phcHash, recordNew } from 'mail2fa';
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

/**
 * The held login (docs/hosts.md §5) verifyLogin resolves when no decision could be made
 * (beginLogin: the same with `required: true`); PHP's Service returns the same.
 */
function held(error, message) {
  return {
    ok: false, verdict: 'factor_required', reason: 'error', retryAfter: null, method: null, methods: null,
    state: 'enabled', enrollBy: null, backupCodesRemaining: null, deviceId: null, deviceToken: null,
    deviceExpiresAt: null, forgetDevice: false, trustDays: 0, pendingExpiresAt: null, error, message,
  };
}

/** Enrolls and confirms `user`; returns the secret and the first backup codes (totp.activate issues them). */
async function enableWithCodes(mfa, clock, user) {
  const { secret } = await mfa.enroll(user);
  const confirmed = await mfa.confirm(user, codeAt(secret, clock.now));
  assert.equal(confirmed.ok, true);
  return { secret, codes: confirmed.backupCodes };
}

/** Enrolls and confirms `user`; returns the secret. */
async function enable(mfa, clock, user) {
  return (await enableWithCodes(mfa, clock, user)).secret;
}

/** A proof (current factor) from the app at the next unused step: advances the clock 30 s. */
function nextProof(clock, secret) {
  clock.now += 30_000;
  return { method: 'totp', code: codeAt(secret, clock.now) };
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
    // The first backup codes come with the activation (the core issues them in the same step).
    const confirmed = await mfa.confirm('alice', code);
    assert.deepEqual({ ...confirmed, backupCodes: confirmed.backupCodes.length },
      { ok: true, reason: null, state: 'enabled', backupCodes: 10, revokedAppPasswords: 0, revokedDevices: 0 });
    const begin = await mfa.beginLogin('alice');
    assert.equal(begin.required, true);
    assert.equal(begin.verdict, 'factor_required');
    // The first backup codes came with the activation, so they are a method at once.
    assert.deepEqual(begin.methods, ['totp', 'backup_code', 'trusted_device']);

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
    const { secret, codes } = await enableWithCodes(mfa, clock, 'gina');
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
    const second = await mfa.enroll('bob', { proof: nextProof(clock, first) });
    assert.deepEqual([second.ok, second.state, second.fresh.accepted], [true, 'enabled', true]);
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
    assert.deepEqual(await mfa.beginLogin('gina'), { required: true, ...held('unknown_key_id', 'no key with id k9 in the keyring') });
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
    // verifyLogin holds the login too (it used to throw): never "2FA off", nothing written.
    const version = (await storage.get('dave')).version;
    const verified = await otherSite.verifyLogin('dave', codeAt(secret, clock.now));
    assert.deepEqual(verified, held('decrypt_failed', verified.message));
    assert.equal(typeof verified.message, 'string');
    assert.equal(verified.message.includes(secret), false);
    assert.equal((await storage.get('dave')).version, version, 'nothing written');
    assert.equal((await mfa.verifyLogin('dave', codeAt(secret, clock.now))).ok, true, 'the right key still opens it');
    assert.equal((await mfa.verifyLogin('nobody', '123456')).verdict, 'not_required');
    // A stored record that is not a record at all (corrupted, a newer format) fails closed too.
    for (const [record, code] of [[{ format: 1, rev: 'x' }, 'invalid_record'], [{ format: 9, rev: 1 }, 'unsupported_format']]) {
      assert.equal(await storage.compareAndSet(`broken-${code}`, null, record), true);
      const begin = await mfa.beginLogin(`broken-${code}`);
      assert.deepEqual(begin, { required: true, ...held(code, begin.message) });
      const verified = await mfa.verifyLogin(`broken-${code}`, '123456');
      assert.deepEqual(verified, held(code, begin.message));
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
    await assert.rejects(mfa.generateBackupCodes('jay', { proof: { method: 'totp', code: '123456' } }), { code: 'not_enabled' });
    const { secret } = await mfa.enroll('jay');
    const confirmed = await mfa.confirm('jay', codeAt(secret, clock.now));
    assert.equal(confirmed.ok, true);
    assert.equal(confirmed.backupCodes.length, 10);
    for (const c of confirmed.backupCodes) assert.match(c, /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
    assert.equal((await mfa.backupCodesStatus('jay')).remaining, 10);

    const made = await mfa.generateBackupCodes('jay', { count: 3, proof: nextProof(clock, secret) });
    assert.deepEqual([made.ok, made.fresh.accepted, made.fresh.method], [true, true, 'totp']);
    const { codes } = made;
    assert.equal(codes.length, 3);
    const old = await mfa.verifyLogin('jay', confirmed.backupCodes[0], { method: 'backup_code' });
    assert.deepEqual([old.ok, old.reason], [false, 'wrong_code'], 'a new set replaces the old one');
    const used = await mfa.verifyLogin('jay', codes[0].toUpperCase(), { method: 'backup_code' });
    assert.deepEqual([used.ok, used.backupCodesRemaining], [true, 2]);
    assert.equal((await mfa.verifyLogin('jay', codes[0], { method: 'backup_code' })).ok, false);
    const reauth = await mfa.verifyBackupCode('jay', codes[1]);
    assert.deepEqual(reauth, { ok: true, reason: null, retryAfter: null, remaining: 1 });
    assert.equal((await mfa.backupCodesStatus('jay')).remaining, 1);
    assert.deepEqual(await mfa.verifyLogin('jay', codes[2], { method: 'sms' }),
      held('invalid_field', "method must be 'totp' or 'backup_code'"));
    assert.equal((await mfa.verifyLogin('jay', codes[2], { method: 'backup_code' })).ok, true, 'the refused call spent nothing');
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

    await assert.rejects(mfa.trustDevice('kim', { userAgent: 'Phone' }), { code: 'fresh_factor_required' });
    const settings = await mfa.trustDevice('kim', { userAgent: 'Phone', proof: nextProof(clock, secret) });
    assert.equal(settings.ok, true);
    assert.equal(await mfa.revokeAllDevices('kim', { except: settings.id }), 1);
    const revoked = await mfa.beginLogin('kim', { deviceToken: login.deviceToken });
    assert.deepEqual([revoked.required, revoked.forgetDevice, revoked.reason], [true, true, 'device_unknown']);
    assert.equal((await mfa.beginLogin('kim', { deviceToken: settings.token })).required, false);
    assert.equal(await mfa.revokeDevice('kim', settings.id), true);
    assert.equal(await mfa.revokeDevice('kim', settings.id), false);

    const third = await mfa.trustDevice('kim', { proof: nextProof(clock, secret) });
    assert.deepEqual(await mfa.passwordChanged('kim'), { revokedAppPasswords: 0, revokedDevices: 1 });
    assert.equal((await mfa.beginLogin('kim', { deviceToken: third.token })).required, true);
  });

  test(`${kind}: app passwords for mail clients`, async () => {
    const { mfa, clock } = site(makeStorage());
    const { secret, codes } = await enableWithCodes(mfa, clock, 'lee');
    const created = await mfa.createAppPassword('lee', 'Thunderbird', { proof: nextProof(clock, secret) });
    assert.deepEqual([created.ok, created.fresh.accepted], [true, true]);
    assert.match(created.password, /^[a-z]{4}(-[a-z]{4}){4}$/);
    const [entry] = await mfa.listAppPasswords('lee');
    assert.deepEqual([entry.id, entry.label, entry.last_used_at], [created.id, 'Thunderbird', null]);
    assert.match(entry.phc, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
    assert.deepEqual(await mfa.verifyAppPassword('lee', created.password), { ok: true, id: created.id });
    assert.notEqual((await mfa.listAppPasswords('lee'))[0].last_used_at, null);
    assert.deepEqual(await mfa.verifyAppPassword('lee', 'aaaa-bbbb-cccc-dddd-eeee'), { ok: false, id: null });
    // A backup code is a current factor too (and is spent by it).
    const second = await mfa.createAppPassword('lee', 'Phone', { proof: { method: 'backup_code', code: codes[0] } });
    assert.deepEqual([second.ok, second.fresh.method, (await mfa.backupCodesStatus('lee')).remaining], [true, 'backup_code', 9]);
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
    // A policy the core refuses holds the login (fail closed), it never lets it through.
    const typo = await new Mail2fa({ keys: [generateKey('k1')], storage, policy: { mdoe: 'required' } }).beginLogin('max');
    assert.deepEqual([typo.required, typo.ok, typo.error], [true, false, 'invalid_field']);
  });

  // ---- [harden] a stolen session (cookie, XSS, unlocked browser) without a current factor ----

  test(`${kind}: a stolen session cannot replace the authenticator without a current code`, async () => {
    const storage = makeStorage();
    const { mfa, clock } = site(storage);
    const secret = await enable(mfa, clock, 'sam');
    const before = await storage.get('sam');
    // No proof: refused before anything happens; nothing written, nothing counted.
    await assert.rejects(mfa.enroll('sam'), { code: 'fresh_factor_required' });
    assert.deepEqual(await storage.get('sam'), before);
    // A wrong proof: refused by the core under the limiter (counted), no enrollment started.
    const wrong = await mfa.enroll('sam', { proof: { method: 'totp', code: '000000' } });
    assert.deepEqual([wrong.ok, wrong.fresh.accepted, wrong.fresh.reason, wrong.uri], [false, false, 'wrong_code', undefined]);
    assert.equal((await mfa.status('sam')).pending, false);
    // Four more wrong guesses lock; then even a right code is refused unchecked.
    for (let i = 0; i < 4; i++) await mfa.enroll('sam', { proof: { method: 'backup_code', code: `aaaaa-aaaa${i}` } });
    const locked = await mfa.enroll('sam', { proof: { method: 'totp', code: codeAt(secret, clock.now + 1000) } });
    assert.deepEqual([locked.ok, locked.fresh.reason, locked.fresh.retryAfter > 0], [false, 'locked', true]);
    assert.equal((await mfa.status('sam')).pending, false);
    // After the lock, the owner with a current code replaces it; the old secret stops working.
    clock.now += locked.fresh.retryAfter * 1000;
    const replaced = await mfa.enroll('sam', { proof: nextProof(clock, secret) });
    assert.equal(replaced.ok, true);
    clock.now += 30_000;
    assert.equal((await mfa.confirm('sam', codeAt(replaced.secret, clock.now))).ok, true);
    clock.now += 30_000;
    assert.equal((await mfa.verifyLogin('sam', codeAt(secret, clock.now))).ok, false);
    assert.equal((await mfa.verifyLogin('sam', codeAt(replaced.secret, clock.now))).ok, true);
  });

  test(`${kind}: a stolen session cannot mint backup codes without a current code`, async () => {
    const { mfa, clock } = site(makeStorage());
    const { secret, codes } = await enableWithCodes(mfa, clock, 'tom');
    await assert.rejects(mfa.generateBackupCodes('tom'), { code: 'fresh_factor_required' });
    const wrong = await mfa.generateBackupCodes('tom', { proof: { method: 'totp', code: '000000' } });
    assert.deepEqual([wrong.ok, wrong.codes, wrong.fresh.reason], [false, null, 'wrong_code']);
    // The code the session used to log in (its step is spent) is no proof either.
    clock.now += 30_000;
    const current = codeAt(secret, clock.now);
    assert.equal((await mfa.verifyLogin('tom', current)).ok, true);
    const replayed = await mfa.generateBackupCodes('tom', { proof: { method: 'totp', code: current } });
    assert.deepEqual([replayed.ok, replayed.fresh.reason], [false, 'replayed']);
    // The old set still works: nothing was replaced.
    assert.equal((await mfa.backupCodesStatus('tom')).remaining, 10);
    const viaBackup = await mfa.generateBackupCodes('tom', { proof: { method: 'backup_code', code: codes[0] } });
    assert.deepEqual([viaBackup.ok, viaBackup.codes.length], [true, 10]);
    // A proof is checked like a login: a TOTP step works once, then it is spent.
    const proof = nextProof(clock, secret);
    assert.equal((await mfa.generateBackupCodes('tom', { proof })).ok, true);
    assert.equal((await mfa.generateBackupCodes('tom', { proof })).fresh.reason, 'replayed');
  });

  test(`${kind}: a stolen session cannot create an app password without a current code`, async () => {
    const { mfa, clock } = site(makeStorage());
    const secret = await enable(mfa, clock, 'una');
    await assert.rejects(mfa.createAppPassword('una', 'Evil'), { code: 'fresh_factor_required' });
    const wrong = await mfa.createAppPassword('una', 'Evil', { proof: { method: 'totp', code: '999999' } });
    assert.deepEqual([wrong.ok, wrong.password, wrong.fresh.reason], [false, null, 'wrong_code']);
    assert.deepEqual(await mfa.listAppPasswords('una'), []);
    const ok = await mfa.createAppPassword('una', 'Mine', { proof: nextProof(clock, secret) });
    assert.equal(ok.ok, true);
    assert.deepEqual((await mfa.listAppPasswords('una')).map((p) => p.label), ['Mine']);
  });

  test(`${kind}: a password-only user cannot plant an app password that survives enabling 2FA`, async () => {
    const storage = makeStorage();
    const { mfa, clock } = site(storage);
    // Without 2FA there are no app passwords (the main password works everywhere anyway).
    await assert.rejects(mfa.createAppPassword('vic', 'Planted', { proof: { method: 'totp', code: '123456' } }), { code: 'not_enabled' });
    assert.equal(await storage.get('vic'), null);
    // One planted by an older version (or written behind the API) is removed when 2FA goes on.
    const planted = 'abcd-efgh-ijkm-npqr-stuv';
    const phc = phcHash({ password: planted, salt: 'c2FsdHNhbHRzYWx0', m: 64, t: 1 }).phc;
    const base = recordNew({ time: Math.floor(clock.now / 1000) }).record;
    const record = { ...base, rev: 1, app_passwords: [{ id: 'Pl4nted0', label: 'Planted', phc, created_at: base.created_at, last_used_at: null }] };
    assert.equal(await storage.compareAndSet('vic', null, record), true);
    assert.deepEqual((await mfa.listAppPasswords('vic')).map((p) => p.id), ['Pl4nted0']);
    const { secret } = await mfa.enroll('vic');
    const confirmed = await mfa.confirm('vic', codeAt(secret, clock.now));
    assert.deepEqual([confirmed.ok, confirmed.revokedAppPasswords], [true, 1]);
    assert.deepEqual(await mfa.listAppPasswords('vic'), []);
    assert.equal((await mfa.verifyAppPassword('vic', planted)).ok, false);
    // Turning 2FA off removes the app passwords made with it too.
    const mine = await mfa.createAppPassword('vic', 'Mine', { proof: nextProof(clock, secret) });
    assert.equal(mine.ok, true);
    const off = await mfa.disable('vic', codeAt(secret, clock.now + 30_000));
    assert.deepEqual([off.ok, off.revokedAppPasswords], [true, 1]);
    assert.equal((await mfa.verifyAppPassword('vic', mine.password)).ok, false);
  });

  test(`${kind}: one canonical user name: 'ALICE' and 'alice' are one record`, async () => {
    const storage = makeStorage();
    const { mfa, clock, keys } = site(storage);
    const secret = await enable(mfa, clock, 'Alice@Example.COM');
    assert.notEqual(await storage.get('alice@example.com'), null);
    assert.equal(await storage.get('Alice@Example.COM'), null, 'stored under the canonical name only');
    for (const name of ['ALICE@EXAMPLE.COM', 'alice@example.com', 'aLiCe@example.com']) {
      const begin = await mfa.beginLogin(name);
      assert.deepEqual([begin.required, begin.verdict], [true, 'factor_required'], name);
      assert.equal((await mfa.status(name)).state, 'enabled', name);
    }
    clock.now += 30_000;
    assert.equal((await mfa.verifyLogin('ALICE@example.com', codeAt(secret, clock.now))).ok, true);
    assert.equal((await mfa.verifyLogin('alice@example.com', codeAt(secret, clock.now))).reason, 'replayed', 'one replay memory');
    // Names the core refuses: a login is held (fail closed), other calls throw invalid_user.
    for (const bad of ['', ' alice', 'a@b@c', 'alice\n']) {
      const begin = await mfa.beginLogin(bad);
      assert.deepEqual([begin.required, begin.ok, begin.error], [true, false, 'invalid_user'], JSON.stringify(bad));
      await assert.rejects(mfa.status(bad), { code: 'invalid_user' });
    }
    // The site's rule (as its IMAP server resolves names): domain stripped, or a default added.
    const strip = new Mail2fa({ keys, storage, username: { domain: 'strip' } });
    assert.equal(strip.canonicalUser('Bob@Example.com'), 'bob');
    const withDomain = new Mail2fa({ keys, storage, username: { default_domain: 'example.com' } });
    assert.equal(withDomain.canonicalUser('BOB'), 'bob@example.com');
    assert.equal(withDomain.canonicalUser('bob@example.com'), 'bob@example.com');
    const keep = new Mail2fa({ keys, storage, username: { case: 'keep' } });
    assert.equal(keep.canonicalUser('Bob'), 'Bob');
  });

  test(`${kind}: admin reset writes record.reset by compare-and-set: rev never repeats, a stale write does not land`, async () => {
    const storage = makeStorage();
    const { mfa, clock } = site(storage);
    const secret = await enable(mfa, clock, 'wes');
    const stale = await storage.get('wes'); // a request read the record, then stalls
    assert.equal(await mfa.adminReset('WES'), true);
    const reset = await storage.get('wes');
    assert.ok(reset.record.rev > stale.record.rev, `rev ${reset.record.rev} > ${stale.record.rev}`);
    assert.equal((await mfa.status('wes')).state, 'disabled');
    // The stalled request's write, with the version it read, is refused.
    assert.equal(await storage.compareAndSet('wes', stale.version, stale.record), false);
    assert.equal((await mfa.status('wes')).state, 'disabled');
    clock.now += 30_000;
    assert.equal((await mfa.beginLogin('wes')).required, false);
    assert.equal((await mfa.verifyLogin('wes', codeAt(secret, clock.now))).ok, false);
  });

  test(`${kind}: replayed and malformed codes are refused but never lock (a double submit from two tabs)`, async () => {
    const { mfa, clock } = site(makeStorage());
    const secret = await enable(mfa, clock, 'xia');
    clock.now += 30_000;
    const code = codeAt(secret, clock.now);
    assert.equal((await mfa.verifyLogin('xia', code)).ok, true);
    for (let i = 0; i < 6; i++) {
      assert.equal((await mfa.verifyLogin('xia', code)).reason, 'replayed');
      assert.equal((await mfa.verifyLogin('xia', '12345x')).reason, 'malformed');
    }
    clock.now += 30_000;
    const next = await mfa.verifyLogin('xia', codeAt(secret, clock.now));
    assert.deepEqual([next.ok, next.verdict], [true, 'ok']);
  });

  test(`${kind}: the core says how long the second step may wait and how long a browser is trusted`, async () => {
    const storage = makeStorage();
    const { mfa, clock, keys } = site(storage);
    await enable(mfa, clock, 'yan');
    const t = Math.floor(clock.now / 1000);
    const begin = await mfa.beginLogin('yan');
    assert.deepEqual([begin.pendingExpiresAt, begin.trustDays], [t + 600, 30]);
    const custom = new Mail2fa({ keys, storage, now: () => clock.now, policy: { pending_seconds: 120, device_days: 0 } });
    const strict = await custom.beginLogin('yan');
    assert.deepEqual([strict.required, strict.pendingExpiresAt, strict.trustDays], [true, t + 120, 0]);
  });
}

for (const [kind, makeStorage] of Object.entries(storages)) {
  test(`${kind}: a login check passes the stored record text to the core as is and stores the core's text`, async () => {
    const storage = makeStorage();
    const { mfa, clock } = site(storage);
    const secret = await enable(mfa, clock, 'alice');
    const before = await storage.getText('alice');
    // Asking for the factor changes nothing, so nothing is written.
    assert.equal((await mfa.beginLogin('alice')).verdict, 'factor_required');
    assert.deepEqual(await storage.getText('alice'), before);
    clock.now += 30_000;
    const code = codeAt(secret, clock.now);
    assert.equal((await mfa.verifyLogin('alice', code)).ok, true);
    const after = await storage.getText('alice');
    assert.equal(after.version, before.version + 1);
    assert.equal(JSON.parse(after.text).rev, JSON.parse(before.text).rev + 1);
    assert.deepEqual((await storage.get('alice')).record, JSON.parse(after.text));
    const replay = await mfa.verifyLogin('alice', code);
    assert.equal(replay.ok, false);
    assert.equal(replay.reason, 'replayed');
    // A user without a row: decided on a new record, nothing written.
    assert.equal((await mfa.beginLogin('bob')).verdict, 'not_required');
    assert.equal(await storage.getText('bob'), null);
  });

  test(`${kind}: a stored text that is valid but not the core's bytes is not rewritten under the same rev`, async () => {
    const storage = makeStorage();
    const { mfa, clock } = site(storage);
    const secret = await enable(mfa, clock, 'alice');
    const row = await storage.getText('alice');
    // Another tool's spacing: same record, other bytes. A check that changes nothing must not
    // write (a storage keyed by rev may refuse the same rev again and hold every login).
    const foreign = JSON.stringify(JSON.parse(row.text), null, 2);
    assert.notEqual(foreign, row.text);
    assert.equal(await storage.compareAndSetText('alice', row.version, foreign), true);
    const planted = await storage.getText('alice');
    assert.equal((await mfa.beginLogin('alice')).verdict, 'factor_required');
    assert.deepEqual(await storage.getText('alice'), planted, 'same rev, other bytes: no write');
    clock.now += 30_000;
    assert.equal((await mfa.verifyLogin('alice', codeAt(secret, clock.now))).ok, true);
    const after = await storage.getText('alice');
    assert.equal(after.version, planted.version + 1, 'the accepted step is written');
    assert.equal(JSON.parse(after.text).rev, JSON.parse(foreign).rev + 1);
  });

  test(`${kind}: stored text with fields after the record object never reaches the core: the login is held`, async () => {
    const storage = makeStorage();
    const { mfa, clock } = site(storage);
    const secret = await enable(mfa, clock, 'alice');
    const row = await storage.getText('alice');
    // Spliced into a request these would widen the window and trust any device.
    for (const planted of [`${row.text},"window":10,"x":{}`, `${row.text.slice(0, -1)}},"trust_device":true,"x":{}`, `${row.text}x`, '"text"', '']) {
      const current = await storage.getText('alice');
      assert.equal(await storage.compareAndSetText('alice', current.version, planted), true);
      const held = await mfa.beginLogin('alice');
      assert.equal(held.required, true);
      assert.equal(held.ok, false);
      assert.equal(held.error, 'invalid_record');
      clock.now += 30_000;
      const verified = await mfa.verifyLogin('alice', codeAt(secret, clock.now));
      assert.deepEqual([verified.ok, verified.verdict, verified.reason, verified.error], [false, 'factor_required', 'error', 'invalid_record']);
      assert.equal((await storage.getText('alice')).version, current.version + 1, 'nothing written');
    }
  });
}

test('canonical user names are kept per instance; refused names are refused every time', () => {
  const { mfa } = site(new MemoryStorage());
  assert.equal(mfa.canonicalUser('ALICE@Example.com'), 'alice@example.com');
  assert.equal(mfa.canonicalUser('ALICE@Example.com'), 'alice@example.com');
  for (let i = 0; i < 2; i++) assert.throws(() => mfa.canonicalUser(' alice'), { code: 'invalid_user' });
  const kept = new Mail2fa({ keys: [generateKey('k1')], storage: new MemoryStorage(), username: { domain: 'strip' } });
  assert.equal(kept.canonicalUser('ALICE@Example.com'), 'alice');
});

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

/** A storage whose compare-and-set token is the record's own `rev` (as hosts that CAS on rev do). */
class RevStorage {
  rows = new Map();
  async get(user) {
    const record = this.rows.get(user);
    return record ? { record: structuredClone(record), version: record.rev } : null;
  }
  async compareAndSet(user, expected, record) {
    const current = this.rows.get(user);
    if ((current ? current.rev : null) !== expected) return false;
    this.rows.set(user, structuredClone(record));
    return true;
  }
}

test('admin reset on a storage keyed on rev: a write that read the record before the reset cannot land after re-enrollment (ABA)', async () => {
  const storage = new RevStorage();
  const { mfa, clock } = site(storage);
  const old = await enable(mfa, clock, 'zed');
  const stale = await storage.get('zed'); // a request read the old record and stalled
  assert.equal(await mfa.adminReset('zed'), true);
  // The user enrolls a new phone; the rev keeps climbing from where it was.
  clock.now += 30_000;
  const fresh = await enable(mfa, clock, 'zed');
  assert.ok((await storage.get('zed')).record.rev > stale.record.rev + 2);
  // The stalled write (the old factor) is refused: the new phone stays the factor.
  assert.equal(await storage.compareAndSet('zed', stale.version, stale.record), false);
  clock.now += 30_000;
  assert.equal((await mfa.verifyLogin('zed', codeAt(old, clock.now))).ok, false);
  assert.equal((await mfa.verifyLogin('zed', codeAt(fresh, clock.now))).ok, true);
});

test('compare-and-set retry rule: 8 tries with a short random wait, then conflict; at login that holds the login', async () => {
  const inner = new MemoryStorage();
  const { mfa, clock, keys } = site(inner);
  const secret = await enable(mfa, clock, 'quinn');
  clock.now += 30_000;
  const trusted = await mfa.verifyLogin('quinn', codeAt(secret, clock.now), { trustDevice: true });
  let tries = 0;
  const stamps = [];
  const losing = {
    get: (user) => inner.get(user),
    compareAndSet: async () => {
      tries++;
      stamps.push(performance.now());
      return false; // another node always wins
    },
  };
  const node = new Mail2fa({ keys, storage: losing, now: () => clock.now });
  clock.now += 30_000;
  // Retry exhaustion is conflict; at login (verifyLogin as beginLogin) it holds the login.
  assert.deepEqual(await node.verifyLogin('quinn', codeAt(secret, clock.now)),
    held('conflict', 'mail2fa: the record kept changing during the update; try again'));
  tries = 0;
  await assert.rejects(node.revokeAllDevices('quinn'), { code: 'conflict', message: 'mail2fa: the record kept changing during the update; try again' });
  assert.equal(tries, 8);
  // Each retry waited at least 1 ms (7 waits between 8 tries): racing nodes spread out.
  assert.ok(stamps.at(-1) - stamps[0] >= 7, `waited ${stamps.at(-1) - stamps[0]} ms in all`);
  // A device login writes (last seen): losing every race holds the login, never lets it through.
  tries = 0;
  const begin = await node.beginLogin('quinn', { deviceToken: trusted.deviceToken });
  assert.deepEqual([begin.required, begin.ok, begin.error, tries], [true, false, 'conflict', 8]);
});

test('policy as a function of the canonical user: called with the canonical name for every call that takes a policy', async () => {
  const storage = new MemoryStorage();
  const keys = [generateKey('k1')];
  const clock = { now: T0 };
  const seen = [];
  const mfa = new Mail2fa({
    keys, storage, now: () => clock.now, username: { domain: 'strip' },
    policy: (user) => {
      seen.push(user);
      return user === 'boss' ? { mode: 'required', methods: ['totp', 'backup_code'] } : { mode: 'optional' };
    },
  });
  // One user must enroll, the other needn't: the same site, the same storage.
  assert.equal((await mfa.beginLogin('BOSS@example.com')).verdict, 'enroll_required');
  assert.equal((await mfa.beginLogin('Intern@example.com')).verdict, 'not_required');
  assert.deepEqual(seen, ['boss', 'intern']);
  const secret = await enable(mfa, clock, 'boss');
  // The boss's policy has no app passwords: the core refuses one (with a valid proof).
  await assert.rejects(mfa.createAppPassword('boss', 'phone', { proof: nextProof(clock, secret) }), { code: 'method_not_allowed' });
  assert.ok(seen.length > 4 && seen.every((u) => u === 'boss' || u === 'intern'), `called with ${seen}`);

  // An object policy is the same for everyone (as before).
  const fixed = new Mail2fa({ keys, storage: new MemoryStorage(), policy: { mode: 'required' } });
  assert.equal((await fixed.beginLogin('anyone')).verdict, 'enroll_required');

  // Anything but an object, from the option or from the function: invalid_field, at login held.
  const message = 'policy must be an object, or a function of the canonical user name that returns one';
  for (const bad of [null, 'required', [], 5]) {
    const odd = new Mail2fa({ keys, storage, policy: () => bad });
    await assert.rejects(odd.enroll('intern'), { code: 'invalid_field', message });
    await assert.rejects(odd.projection('intern'), { code: 'invalid_field', message });
    const held = await odd.beginLogin('intern');
    assert.deepEqual([held.required, held.ok, held.error], [true, false, 'invalid_field']);
    if (bad !== null) assert.throws(() => new Mail2fa({ keys, storage, policy: bad }), { code: 'invalid_field', message });
  }
});

test('constructor options are checked as PHP\'s Service checks them (same codes and words)', () => {
  const keys = [generateKey('k1')];
  const storage = new MemoryStorage();
  const refused = [
    [{ keys, storage, isuer: 'typo' }, 'invalid_field', 'unknown option(s): isuer'],
    [{ keys: [], storage }, 'missing_field', null],
    [{ keys: [null], storage }, 'invalid_field', 'keys must be a list of {id, key} (current key first)'],
    [{ keys: ['k1'], storage }, 'invalid_field', 'keys must be a list of {id, key} (current key first)'],
    [{ keys }, 'missing_field', null],
    [{ keys, storage, username: 'strip' }, 'invalid_field', 'username must be an object: {case, domain, default_domain}'],
    [{ keys, storage, policy: 'required' }, 'invalid_field', 'policy must be an object, or a function of the canonical user name that returns one'],
  ];
  for (const [options, code, message] of refused) {
    assert.throws(() => new Mail2fa(options), (e) => e instanceof Mail2faError && e.code === code && (message === null || e.message === message),
      JSON.stringify(Object.keys(options)));
  }
  // An option set to null is not given.
  const mfa = new Mail2fa({ keys, storage, issuer: null, window: null, policy: null, username: null, now: null, random: null });
  assert.equal(mfa.canonicalUser('ALICE'), 'alice');
});

test('an async policy function is awaited; a result that is no plain object (a Map, a class instance) is refused', async () => {
  const keys = [generateKey('k1')];
  const storage = new MemoryStorage();
  const lookup = new Mail2fa({ keys, storage, policy: async (user) => (user === 'boss' ? { mode: 'required' } : {}) });
  assert.equal((await lookup.beginLogin('boss')).verdict, 'enroll_required');
  assert.equal((await lookup.beginLogin('intern')).verdict, 'not_required');
  // Each of these would serialize to {} (the default, optional policy) if it were passed on.
  for (const bad of [new Map([['mode', 'required']]), new (class Policy { mode = 'required'; })(), Promise.resolve({ mode: 'required' })]) {
    const odd = new Mail2fa({ keys, storage, policy: () => bad });
    const held = await odd.beginLogin('boss');
    if (bad instanceof Promise) {
      assert.equal(held.verdict, 'enroll_required', 'a returned promise is awaited');
      continue;
    }
    assert.deepEqual([held.required, held.reason, held.error], [true, 'error', 'invalid_field']);
    assert.throws(() => new Mail2fa({ keys, storage, policy: bad }), { code: 'invalid_field' });
  }
  assert.throws(() => new Mail2fa({ keys, storage, policy: Promise.resolve({}) }), { code: 'invalid_field' });
});
