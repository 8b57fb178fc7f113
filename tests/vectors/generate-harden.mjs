// Writes harden.json: the rules that close the ways around the second factor (issue 12)
// and the decisions taken out of the hosts (issue 13): the limiter counts guesses only,
// a security change needs a fresh factor ("proof"), activation issues the first backup
// codes and cleans the slate, app passwords belong to 2FA, the admin reset never repeats
// a rev, one canonical user name, login.decide's trust_days and pending_expires_at.
// As in generate-factors.mjs, expected responses are written here by hand; the module is
// used only to build inputs (sealed records, records after earlier steps).
// Run: node tests/vectors/generate-harden.mjs (after make wasm).
import { writeFileSync } from 'node:fs';
import { loadRawAbi } from '../node/raw-abi.mjs';

const abi = await loadRawAbi();
const ok = (request) => {
  const r = abi.call(request);
  if (!r.ok) throw new Error(`fixture ${request.op} failed: ${JSON.stringify(r.error)}`);
  return r;
};
const err = (code) => ({ ok: false, error: { code } });

const SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const USER = 'alice@example.com';
const K1 = { id: 'k1', key: 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=' };
const ENTROPY = 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=';
const T0 = 1700000000;
const step0 = Math.floor(T0 / 30);
const code = (time, secret = SEED) => ok({ op: 'totp.code', secret, time }).code;
const ctx = { user: USER, keys: [K1] };

const enabled = ok({
  op: 'record.seal', ...ctx, entropy: ENTROPY,
  plain: {
    format: 1, rev: 3, created_at: T0 - 1000, updated_at: T0 - 1000,
    totp: {
      algorithm: 'SHA1', digits: 6, period: 30, secret: SEED, issuer: 'Example Mail', account: USER,
      last_step: null, created_at: T0 - 1000, enabled_at: T0 - 1000,
    },
    pending_totp: null,
  },
}).record;
const used = { ...enabled, totp: { ...enabled.totp, last_step: step0 } };
const totpF = (value) => ({ type: 'totp', value });
const decide = (record, factor, time = T0, extra = {}) => ({
  op: 'login.decide', ...ctx, time, ...(record ? { record } : {}), ...(factor ? { factor } : {}), ...extra,
});
const verifyReq = (record, c, time = T0, extra = {}) => ({ op: 'totp.verify', ...ctx, record, code: c, time, ...extra });

const cases = [];
const add = (name, request, response) => cases.push({ name, request, response });

// ---- D. The limiter counts guesses only ----
{
  // The same (already used) code five times, as from a double-submit in several tabs.
  let record = used;
  for (let i = 0; i < 5; i++) {
    add(`replay ${i + 1} of 5: refused, not counted, nothing to write`, decide(record, totpF(code(T0)), T0 + i), {
      ok: true, verdict: 'wrong', reason: 'replayed', retry_after: null, record: { rev: 3 },
    });
    record = ok(decide(record, totpF(code(T0)), T0 + i)).record;
  }
  add('after five replays the user is not locked: the next code passes', decide(record, totpF(code(T0 + 30)), T0 + 30), {
    ok: true, verdict: 'ok', record: { rev: 4, totp: { last_step: step0 + 1 } },
  });
  let malformed = enabled;
  for (let i = 0; i < 5; i++) malformed = ok(decide(malformed, totpF('12345x'), T0 + i)).record;
  add('five malformed codes do not lock: the right code passes', decide(malformed, totpF(code(T0)), T0 + 5), { ok: true, verdict: 'ok', record: { rev: 4 } });
  add('totp.verify: a replay is not counted', verifyReq(used, code(T0)), { ok: true, accepted: false, reason: 'replayed', retry_after: null, record: { rev: 3 } });
  add('totp.verify: four wrong codes then a replay do not lock', verifyReq({ ...used, limiter: { failures: [T0 - 4, T0 - 3, T0 - 2, T0 - 1], locked_until: 0, lockouts: 0 } }, code(T0)), {
    ok: true, accepted: false, reason: 'replayed', retry_after: null, record: { rev: 3, limiter: { failures: [T0 - 4, T0 - 3, T0 - 2, T0 - 1], locked_until: 0 } },
  });
  add('totp.verify: four wrong codes then a wrong code lock (wrong codes still count)', verifyReq({ ...used, limiter: { failures: [T0 - 4, T0 - 3, T0 - 2, T0 - 1], locked_until: 0, lockouts: 0 } }, code(T0) === '000000' ? '111111' : '000000'), {
    ok: true, accepted: false, reason: 'wrong_code', retry_after: 30, record: { rev: 4, limiter: { locked_until: T0 + 30 } },
  });
  add('totp.disable: a malformed code is not counted', { ...verifyReq(enabled, 'abcdef'), op: 'totp.disable' }, { ok: true, disabled: false, reason: 'malformed', retry_after: null, state: 'enabled', record: { rev: 3 } });
}

// ---- A. A security change needs a fresh factor ----
const CHEAP = { argon2: { m: 64, t: 1, p: 1 } };
const ENTROPY2 = 'CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg=';
const proofAt = (time) => ({ method: 'totp', code: code(time) });
const wrongAt = (time) => ({ method: 'totp', code: code(time) === '000000' ? '111111' : '000000' });
const locked = { ...enabled, limiter: { failures: [], locked_until: T0 + 40, lockouts: 1 } };
const withCodesR = ok({ op: 'backup.generate', ...ctx, entropy: ENTROPY, time: T0, record: enabled, proof: proofAt(T0 - 30) });
const enrollReq = { op: 'totp.enroll', ...ctx, entropy: ENTROPY2, time: T0, issuer: 'Example Mail', record: enabled };
{
  add('attack: replacing the authenticator from a session without proof is refused', enrollReq, err('fresh_factor_required'));
  add('attack: replacing the authenticator with a wrong code: nothing enrolled, the guess counted', { ...enrollReq, proof: wrongAt(T0) }, {
    ok: true, uri: null, secret: null, state: 'enabled', fresh: { accepted: false, method: 'totp', reason: 'wrong_code', retry_after: null },
    record: { rev: 4, pending_totp: null, limiter: { failures: [T0] } },
  });
  add('attack: four wrong codes then a fifth wrong proof locks', { ...enrollReq, record: { ...enabled, limiter: { failures: [T0 - 4, T0 - 3, T0 - 2, T0 - 1], locked_until: 0, lockouts: 0 } }, proof: wrongAt(T0) }, {
    ok: true, uri: null, fresh: { accepted: false, reason: 'wrong_code', retry_after: 30 }, record: { rev: 4, pending_totp: null, limiter: { locked_until: T0 + 30 } },
  });
  add('attack: replacing the authenticator while locked: the right code is refused unchecked', { ...enrollReq, record: locked, proof: proofAt(T0) }, {
    ok: true, uri: null, secret: null, fresh: { accepted: false, method: 'totp', reason: 'locked', retry_after: 40 }, record: { rev: 3, pending_totp: null, totp: { last_step: null } },
  });
  add('replacing with a replayed code as proof: refused, not counted', { ...enrollReq, record: used, proof: proofAt(T0) }, {
    ok: true, uri: null, fresh: { accepted: false, reason: 'replayed', retry_after: null }, record: { rev: 3, pending_totp: null },
  });
  add('replacing with a current code: a pending enrollment, the old factor still in force, the step used up', { ...enrollReq, proof: proofAt(T0) }, {
    ok: true, state: 'enabled', fresh: { accepted: true, method: 'totp', reason: null, retry_after: null },
    record: { rev: 4, totp: { last_step: step0 }, pending_totp: { enabled_at: null }, limiter: undefined },
  });
  add('replacing with an unused backup code as proof: accepted, the code consumed', { ...enrollReq, record: withCodesR.record, proof: { method: 'backup_code', code: withCodesR.codes[0] } }, {
    ok: true, state: 'enabled', fresh: { accepted: true, method: 'backup_code' }, record: { rev: 5, backup_codes: { issued: 10, last_used_at: T0 } },
  });
  add('a backup code as proof when the policy forbids backup codes', { ...enrollReq, record: withCodesR.record, proof: { method: 'backup_code', code: withCodesR.codes[0] }, policy: { methods: ['totp'] } }, err('method_not_allowed'));
  add('a proof with an unknown method', { ...enrollReq, proof: { method: 'sms', code: '123456' } }, err('invalid_field'));
  add('a proof without a code', { ...enrollReq, proof: { method: 'totp' } }, err('invalid_field'));
  add('a proof that is a bare string', { ...enrollReq, proof: code(T0) }, err('invalid_field'));
  add('a first enrollment (no enabled factor) needs no proof; fresh is null', { ...enrollReq, record: undefined }, { ok: true, state: 'pending', fresh: null, record: { rev: 1 } });

  const genReq = { op: 'backup.generate', ...ctx, entropy: ENTROPY2, time: T0 + 5, record: withCodesR.record };
  add('attack: new backup codes from a session without proof are refused', genReq, err('fresh_factor_required'));
  add('attack: new backup codes with a wrong code: none made, the old set kept, the guess counted', { ...genReq, proof: wrongAt(T0) }, {
    ok: true, codes: null, remaining: 10, fresh: { accepted: false, reason: 'wrong_code' }, record: { rev: 5, backup_codes: { created_at: T0 }, limiter: { failures: [T0 + 5] } },
  });
  add('new backup codes while locked: refused unchecked', { ...genReq, record: { ...withCodesR.record, limiter: locked.limiter }, proof: proofAt(T0) }, {
    ok: true, codes: null, fresh: { accepted: false, reason: 'locked', retry_after: 35 }, record: { rev: 4 },
  });
  add('new backup codes with a current code', { ...genReq, proof: proofAt(T0) }, {
    ok: true, remaining: 10, fresh: { accepted: true }, record: { rev: 5, backup_codes: { created_at: T0 + 5 }, totp: { last_step: step0 } },
  });

  const apReq = { op: 'app_password.create', ...ctx, entropy: ENTROPY, time: T0, label: 'Phone', record: enabled, policy: CHEAP };
  const noTwoFa = ok({ op: 'record.new', time: T0 }).record;
  const pendingOnly = ok({ op: 'totp.enroll', ...ctx, entropy: ENTROPY, time: T0 }).record;
  add('attack: an app password for a user without 2FA (planted before the owner turns 2FA on) is refused', { ...apReq, record: noTwoFa, proof: proofAt(T0) }, err('not_enabled'));
  add('attack: an app password for a user only enrolling (pending) is refused', { ...apReq, record: pendingOnly, proof: proofAt(T0) }, err('not_enabled'));
  add('attack: an app password from a session without proof is refused', apReq, err('fresh_factor_required'));
  add('attack: an app password with a wrong code: none made, the guess counted', { ...apReq, proof: wrongAt(T0) }, {
    ok: true, password: null, id: null, phc: null, fresh: { accepted: false, reason: 'wrong_code' }, record: { rev: 4, limiter: { failures: [T0] } },
  });
  add('an app password with a current code', { ...apReq, proof: proofAt(T0) }, { ok: true, fresh: { accepted: true }, record: { rev: 4, app_passwords: [{ label: 'Phone' }] } });

  const trustReq = { op: 'device.trust', ...ctx, entropy: ENTROPY, time: T0, record: enabled, user_agent: 'Firefox' };
  add('attack: trusting a device from a session without proof is refused', trustReq, err('fresh_factor_required'));
  add('attack: trusting a device with a wrong code: no token, the guess counted', { ...trustReq, proof: wrongAt(T0) }, {
    ok: true, token: null, id: null, expires_at: null, fresh: { accepted: false, reason: 'wrong_code' }, record: { rev: 4, limiter: { failures: [T0] } },
  });
  add('trusting a device with a current code', { ...trustReq, proof: proofAt(T0) }, { ok: true, fresh: { accepted: true }, expires_at: T0 + 30 * 86400, record: { rev: 4, devices: [{ label: 'Firefox' }] } });
  add('device.trust needs keys now (the proof is checked against the sealed factor)', { ...trustReq, keys: undefined, proof: proofAt(T0) }, err('missing_field'));
}

// ---- B and C. Activation cleans the slate; app passwords belong to 2FA ----
{
  // A record with an enabled factor, an app password and a trusted device, all made with proofs.
  const ap = ok({ op: 'app_password.create', ...ctx, entropy: ENTROPY, time: T0, label: 'Thunderbird', record: enabled, policy: CHEAP, proof: proofAt(T0 - 30) });
  const dev = ok({ op: 'device.trust', ...ctx, entropy: ENTROPY2, time: T0, record: ap.record, user_agent: 'Firefox', proof: proofAt(T0) });
  const full = dev.record;
  // What an attacker with the password alone could plant under the old core: a pending
  // enrollment of the owner plus an app password and a device, 2FA not yet on.
  const ownerEnroll = ok({ op: 'totp.enroll', ...ctx, entropy: ENTROPY, time: T0 });
  const planted = { ...ownerEnroll.record, app_passwords: full.app_passwords, devices: full.devices };
  const activateReq = { op: 'totp.activate', ...ctx, record: planted, code: code(T0, ownerEnroll.secret), time: T0, entropy: ENTROPY };
  const activated = ok(activateReq);
  add('attack: activating the first factor revokes app passwords and devices planted before it', activateReq, {
    ok: true, activated: true, revoked_app_passwords: 1, revoked_devices: 1, state: 'enabled', record: { rev: 2, backup_codes: { issued: 10 } },
  });
  add('after activation the planted app password is gone', { op: 'app_password.list', record: activated.record }, { ok: true, app_passwords: [] });
  add('after activation the planted app password does not verify', { op: 'app_password.verify', record: activated.record, password: ap.password, time: T0 + 1 }, { ok: true, valid: false, reason: 'wrong_password' });
  add('after activation the planted device token does not log in', decide(activated.record, { type: 'trusted_device', value: dev.token }, T0 + 1), { ok: true, verdict: 'factor_required', reason: 'device_unknown', forget_device: true });
  add('activation issues the first backup codes (golden from fixed entropy)', activateReq, { ok: true, backup_codes: activated.backup_codes });
  add('a first backup code from activation logs in', decide(activated.record, { type: 'backup_code', value: activated.backup_codes[2] }, T0 + 1), { ok: true, verdict: 'ok', method: 'backup_code', backup_codes_remaining: 9 });

  const replaceEnroll = ok({ op: 'totp.enroll', ...ctx, entropy: ENTROPY2, time: T0 + 30, record: full, proof: proofAt(T0 + 30) });
  const replaceReq = { op: 'totp.activate', ...ctx, record: replaceEnroll.record, code: code(T0 + 60, replaceEnroll.secret), time: T0 + 60, entropy: ENTROPY };
  const replaced = ok(replaceReq);
  add('replacing an enabled factor (proof given at enroll) keeps app passwords and devices', replaceReq, {
    ok: true, activated: true, revoked_app_passwords: 0, revoked_devices: 0, state: 'enabled', record: { app_passwords: [{ id: ap.id }], devices: [{ id: dev.id }] },
  });
  add('the replaced authenticator no longer logs in', decide(replaced.record, totpF(code(T0 + 90)), T0 + 90), { ok: true, verdict: 'wrong', reason: 'wrong_code' });
  add('the new authenticator logs in', decide(replaced.record, totpF(code(T0 + 90, replaceEnroll.secret)), T0 + 90), { ok: true, verdict: 'ok' });

  const disableReq = { op: 'totp.disable', ...ctx, record: full, code: code(T0 + 30), time: T0 + 30 };
  const disabled = ok(disableReq);
  add('totp.disable revokes every app password and device', disableReq, { ok: true, disabled: true, revoked_app_passwords: 1, revoked_devices: 1, state: 'disabled' });
  add('after totp.disable no app password is left', { op: 'app_password.list', record: disabled.record }, { ok: true, app_passwords: [] });
  add('a refused totp.disable revokes nothing', { ...disableReq, code: wrongAt(T0 + 30).code }, { ok: true, disabled: false, revoked_app_passwords: 0, revoked_devices: 0, record: { app_passwords: [{ id: ap.id }] } });

  add('app_password.verify: the policy no longer allows app passwords: not valid, nothing touched', { op: 'app_password.verify', record: full, password: ap.password, time: T0 + 9, policy: { methods: ['totp', 'backup_code'] } }, {
    ok: true, valid: false, id: null, reason: 'method_not_allowed', record: { rev: full.rev, app_passwords: [{ last_used_at: null }] },
  });
  add('app_password.verify: a right app password', { op: 'app_password.verify', record: full, password: ap.password, time: T0 + 9 }, { ok: true, valid: true, id: ap.id, reason: null, record: { rev: full.rev + 1 } });
  add('app_password.verify: an app password kept from before (2FA off) does not verify', { op: 'app_password.verify', record: { ...disabled.record, app_passwords: full.app_passwords }, password: ap.password, time: T0 + 9 }, {
    ok: true, valid: false, reason: 'not_enabled', record: { rev: disabled.record.rev },
  });

  const row = full.app_passwords[0];
  add('record.projection: an enabled user\'s app-password rows for Dovecot', { op: 'record.projection', record: full }, {
    ok: true, state: 'enabled', app_passwords: [{ id: row.id, phc: row.phc, label: 'Thunderbird', created_at: T0, tag: row.tag }],
  });
  add('record.projection: none when the policy does not allow app passwords', { op: 'record.projection', record: full, policy: { methods: ['totp'] } }, { ok: true, state: 'enabled', app_passwords: [] });
  add('record.projection: none without 2FA (rows kept in an old record are not projected)', { op: 'record.projection', record: { ...disabled.record, app_passwords: full.app_passwords } }, { ok: true, state: 'disabled', app_passwords: [] });
  add('record.projection: none while only enrolling', { op: 'record.projection', record: planted }, { ok: true, state: 'pending', app_passwords: [] });
  add('record.projection: a row without a tag has tag null', { op: 'record.projection', record: { ...full, app_passwords: [{ ...row, tag: undefined }] } }, { ok: true, app_passwords: [{ id: row.id, tag: null }] });

  // ---- E. The admin reset never repeats a rev ----
  const resetReq = { op: 'record.reset', record: { ...full, limiter: { failures: [T0], locked_until: 0, lockouts: 2 } }, time: T0 + 100 };
  const reset = ok(resetReq);
  add('record.reset: every factor and credential gone, limiter clear, rev = old rev + 1', resetReq, {
    ok: true, state: 'disabled', record: { format: 1, rev: full.rev + 1, totp: null, pending_totp: null, updated_at: T0 + 100 },
  });
  add('after record.reset: disabled, nothing left', { op: 'record.status', ...ctx, record: reset.record, time: T0 + 100 }, {
    ok: true, state: 'disabled', rev: full.rev + 1, backup_codes_remaining: 0, app_passwords: 0, devices: 0, retry_after: null,
  });
  add('after record.reset: login needs no second step', decide(reset.record, null, T0 + 101), { ok: true, verdict: 'not_required' });
  add('record.reset of a pending enrollment', { op: 'record.reset', record: planted, time: T0 }, { ok: true, state: 'disabled', record: { rev: planted.rev + 1, pending_totp: null } });
  add('record.reset without a record: rev 1', { op: 'record.reset', time: T0 }, { ok: true, state: 'disabled', record: { rev: 1, created_at: T0 } });
  add('record.reset of a damaged record that still has its rev', { op: 'record.reset', record: { format: 1, rev: 41, totp: 'garbage' }, time: T0 }, { ok: true, record: { rev: 42 } });
  add('record.reset of a newer format is refused (never downgraded)', { op: 'record.reset', record: { ...full, format: 2 }, time: T0 }, err('unsupported_format'));
  add('record.reset of something without a rev', { op: 'record.reset', record: 'enabled', time: T0 }, err('invalid_record'));
  add('record.reset needs time', { op: 'record.reset', record: full }, err('missing_field'));
  add('re-enrolling after a reset continues the rev', { op: 'totp.enroll', ...ctx, entropy: ENTROPY, time: T0 + 200, record: reset.record }, { ok: true, state: 'pending', record: { rev: full.rev + 2 } });
}

// ---- F. One canonical user name ----
{
  const canon = (user, username, response) => add(`user.canonical ${user.length > 40 ? `${user.length} bytes` : JSON.stringify(user)} ${username ? JSON.stringify(username) : ''}`, { op: 'user.canonical', user, ...(username ? { username } : {}) }, response);
  const as = (user) => ({ ok: true, user });
  canon('ALICE@Example.COM', null, as('alice@example.com'));
  canon('alice@example.com', null, as('alice@example.com'));
  canon('Jörg@Example.com', null, as('jörg@example.com'));
  canon('ALICE@Example.COM', { case: 'keep' }, as('ALICE@Example.COM'));
  canon('ALICE@Example.COM', { case: 'lower', domain: 'keep' }, as('alice@example.com'));
  canon('Alice@anything.invalid', { domain: 'strip' }, as('alice'));
  canon('alice', { domain: 'strip' }, as('alice'));
  canon('Alice', { default_domain: 'Example.com' }, as('alice@example.com'));
  canon('Alice', { default_domain: 'Example.com', case: 'keep' }, as('Alice@Example.com'));
  canon('alice@other.org', { default_domain: 'example.com' }, as('alice@other.org'));
  canon('Alice', { default_domain: 'example.com', domain: 'strip' }, as('alice'));
  canon('Alice', { default_domain: '' }, as('alice'));
  canon('alice smith@example.com', null, as('alice smith@example.com'));
  for (const bad of ['', ' alice', 'alice ', 'alice\t', 'al\nice', 'a\u0000b', 'a@b@c', '@example.com', 'alice@', 'alice @example.com', 'alice@ example.com', 'ali\u200bce', '\u202ealice', 'u'.repeat(513)]) {
    canon(bad, null, err('invalid_user'));
  }
  canon('a'.repeat(500), { default_domain: 'example.com' }, as('a'.repeat(500) + '@example.com'));
  canon('a'.repeat(501), { default_domain: 'example.com' }, err('invalid_user'));
  canon('alice', { case: 'upper' }, err('invalid_field'));
  canon('alice', { domain: 'drop' }, err('invalid_field'));
  canon('alice', { default_domain: 'a@b' }, err('invalid_field'));
  canon('alice', { default_domain: 'exa mple.com' }, err('invalid_field'));
  canon('alice', { lowercase: true }, err('invalid_field'));
  canon('alice', 'lower', err('invalid_field'));
  add('user.canonical without user', { op: 'user.canonical' }, err('missing_field'));
  add('user.canonical with a number', { op: 'user.canonical', user: 42 }, err('invalid_field'));
}

// ---- G. Decisions returned to the hosts ----
{
  add('login.decide: factor_required gives trust_days and pending_expires_at', decide(enabled, null), { ok: true, verdict: 'factor_required', trust_days: 30, pending_expires_at: T0 + 600 });
  add('login.decide: policy device_days 7 and pending_seconds 120', decide(enabled, null, T0, { policy: { device_days: 7, pending_seconds: 120 } }), { ok: true, trust_days: 7, pending_expires_at: T0 + 120 });
  add('login.decide: trusted devices off: trust_days 0', decide(enabled, null, T0, { policy: { device_days: 0 } }), { ok: true, trust_days: 0 });
  add('login.decide: trusted devices not allowed: trust_days 0', decide(enabled, null, T0, { policy: { methods: ['totp'] } }), { ok: true, trust_days: 0 });
  add('login.decide: wrong keeps the login pending', decide(enabled, totpF(wrongAt(T0).code)), { ok: true, verdict: 'wrong', pending_expires_at: T0 + 600 });
  add('login.decide: locked keeps the login pending', decide(locked, totpF(code(T0))), { ok: true, verdict: 'locked', pending_expires_at: T0 + 600 });
  add('login.decide: ok ends the pending login', decide(enabled, totpF(code(T0))), { ok: true, verdict: 'ok', trust_days: 30, pending_expires_at: null });
  add('login.decide: not_required: no trust, nothing pending', decide(null, null), { ok: true, verdict: 'not_required', trust_days: 0, pending_expires_at: null });
  add('login.decide: enroll_required: pending until enrolled', decide(null, null, T0, { policy: { mode: 'required' } }), { ok: true, verdict: 'enroll_required', trust_days: 0, pending_expires_at: T0 + 600 });
  add('login.decide: pending_seconds under 60 is refused', decide(enabled, null, T0, { policy: { pending_seconds: 59 } }), err('invalid_field'));
}

writeFileSync(new URL('harden.json', import.meta.url), JSON.stringify(cases, null, 1) + '\n');

// Sanity: every hand-written expectation must hold on this module before the file is used.
const subset = (e, a) => {
  if (e && typeof e === 'object' && !Array.isArray(e)) return a && typeof a === 'object' && Object.keys(e).every((k) => k in a && subset(e[k], a[k]));
  if (Array.isArray(e)) return Array.isArray(a) && a.length === e.length && e.every((x, i) => subset(x, a[i]));
  return e === a;
};
let failed = 0;
for (const c of cases) {
  const actual = abi.call(JSON.parse(JSON.stringify(c.request)));
  if (!subset(JSON.parse(JSON.stringify(c.response)), actual)) {
    failed++;
    console.error(`harden: ${c.name}\n  expected ${JSON.stringify(c.response)}\n  got ${JSON.stringify(actual).slice(0, 600)}`);
  }
}
if (failed) {
  console.error(`${failed} case(s) do not hold`);
  process.exit(1);
}
console.log(`wrote harden.json (${cases.length} cases)`);
