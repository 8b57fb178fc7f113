// The server API's whole flow over both storages, and the race the compare-and-set exists for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    assert.deepEqual(await mfa.beginLogin('alice'), { required: false, state: 'disabled' });

    const enrolled = await mfa.enroll('alice', { account: 'alice@example.com' });
    assert.match(enrolled.uri, /^otpauth:\/\/totp\/Example%20Mail:alice%40example\.com\?secret=[A-Z2-7]{32}&/);
    assert.match(enrolled.qr, /^<svg[\s\S]*<\/svg>\s*$/);
    assert.equal(enrolled.state, 'pending');
    // An unfinished enrollment never turns 2FA on.
    assert.deepEqual(await mfa.beginLogin('alice'), { required: false, state: 'pending' });

    const wrong = await mfa.confirm('alice', codeAt(enrolled.secret, clock.now + 600_000));
    assert.deepEqual(wrong, { ok: false, reason: 'wrong_code', state: 'pending' });
    const code = codeAt(enrolled.secret, clock.now);
    assert.deepEqual(await mfa.confirm('alice', code), { ok: true, reason: null, state: 'enabled' });
    assert.deepEqual(await mfa.beginLogin('alice'), { required: true, state: 'enabled' });

    // The step used to confirm is spent; the next step logs in once.
    assert.equal((await mfa.verifyLogin('alice', code)).reason, 'replayed');
    clock.now += 30_000;
    const next = codeAt(enrolled.secret, clock.now);
    const ok = await mfa.verifyLogin('alice', next);
    assert.equal(ok.ok, true);
    assert.equal(ok.step, Math.floor(clock.now / 30_000));
    assert.deepEqual(await mfa.verifyLogin('alice', next), { ok: false, reason: 'replayed', step: null });
    assert.equal((await mfa.verifyLogin('alice', ` ${next.slice(0, 5)}x`)).reason, 'malformed');

    const status = await mfa.status('alice');
    assert.equal(status.totp.account, 'alice@example.com');
    assert.equal(status.totp.last_step, ok.step);
    assert.equal(JSON.stringify(status).includes(enrolled.secret), false, 'status shows no secret');

    clock.now += 30_000;
    assert.equal((await mfa.disable('alice', '000000')).ok, false);
    assert.deepEqual(await mfa.disable('alice', codeAt(enrolled.secret, clock.now)), { ok: true, reason: null, state: 'disabled' });
    assert.deepEqual(await mfa.beginLogin('alice'), { required: false, state: 'disabled' });
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

  test(`${kind}: admin reset turns 2FA off, even when the record no longer opens`, async () => {
    const storage = makeStorage();
    const { mfa, clock } = site(storage);
    const secret = await enable(mfa, clock, 'frank');
    assert.equal(await mfa.adminReset('nobody'), false);
    assert.equal(await mfa.adminReset('frank'), true);
    assert.deepEqual(await mfa.beginLogin('frank'), { required: false, state: 'disabled' });
    clock.now += 30_000;
    await assert.rejects(mfa.verifyLogin('frank', codeAt(secret, clock.now)), { code: 'not_enabled' });
    // A record sealed under keys the site lost: reset is the way back.
    const lost = new Mail2fa({ keys: [generateKey('k9')], storage, now: () => clock.now });
    await enable(lost, clock, 'gina');
    assert.deepEqual(await mfa.beginLogin('gina'), { required: true, state: 'enabled', error: 'unknown_key_id' });
    assert.equal(await mfa.adminReset('gina'), true);
    assert.deepEqual(await mfa.beginLogin('gina'), { required: false, state: 'disabled' });
  });

  test(`${kind}: a record that does not open keeps 2FA required (fails closed)`, async () => {
    const storage = makeStorage();
    const { mfa, clock } = site(storage);
    const secret = await enable(mfa, clock, 'dave');
    const otherSite = new Mail2fa({ keys: [generateKey('k1')], storage, now: () => clock.now });
    assert.deepEqual(await otherSite.beginLogin('dave'), { required: true, state: 'enabled', error: 'decrypt_failed' });
    clock.now += 30_000;
    await assert.rejects(otherSite.verifyLogin('dave', codeAt(secret, clock.now)), (e) => {
      assert.ok(e instanceof Mail2faError);
      assert.equal(e.code, 'decrypt_failed');
      assert.equal(e.message.includes(secret), false);
      return true;
    });
    await assert.rejects(mfa.verifyLogin('nobody', '123456'), { code: 'not_enabled' });
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
      results.filter((r) => !r.ok).map((r) => r.reason),
      Array(nodes - 1).fill('replayed'),
    );
    assert.ok(refused >= nodes - 1, `${nodes} nodes: the losers' writes were refused (${refused})`);
  }
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
