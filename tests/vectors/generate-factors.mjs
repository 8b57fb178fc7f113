// Writes the factor vector files: login.json, limiter.json, backup.json, device.json,
// app-password.json, phc.json, import.json. As in generate.mjs, expected responses are
// written here by hand (verdicts, reasons, counts, rev, lock times, error codes); the
// module is used only to build *inputs* (sealed records, records after earlier steps) and
// for golden outputs from fixed entropy (backup codes, device tokens, app passwords),
// which every host must reproduce byte for byte.
// Run: node tests/vectors/generate-factors.mjs (after make wasm).
import { writeFileSync } from 'node:fs';
import { loadRawAbi } from '../node/raw-abi.mjs';

const abi = await loadRawAbi();
const ok = (request) => {
  const r = abi.call(request);
  if (!r.ok) throw new Error(`fixture ${request.op} failed: ${JSON.stringify(r.error)}`);
  return r;
};
const write = (file, cases) =>
  writeFileSync(new URL(file, import.meta.url), JSON.stringify(cases, null, 1) + '\n');
const err = (code) => ({ ok: false, error: { code } });

const SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const LEGACY = 'JBSWY3DPEHPK3PXP'; // 80 bits, what twofactor_gauthenticator made
const USER = 'alice@example.com';
const K1 = { id: 'k1', key: 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=' };
const K2 = { id: 'k2', key: 'ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q=' };
const ENTROPY = 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=';
const ENTROPY2 = 'CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg=';
const T0 = 1700000000;
const DAY = 86400;
const step0 = Math.floor(T0 / 30);
const CHEAP = { argon2: { m: 64, t: 1, p: 1 } }; // fast app-password hashes for vectors
const code = (time, secret = SEED, digits = 6, algorithm = 'SHA1') =>
  ok({ op: 'totp.code', secret, time, digits, algorithm, period: 30 }).code;
const ctx = { user: USER, keys: [K1] };
// A fresh factor (issue 12): a current TOTP code as the proof of a security change.
const proofAt = (time) => ({ method: 'totp', code: code(time) });

const enabledRecord = (extra = {}, secret = SEED) => {
  const record = ok({
    op: 'record.seal', ...ctx, entropy: ENTROPY,
    plain: {
      format: 1, rev: 3, created_at: T0 - 1000, updated_at: T0 - 1000,
      totp: {
        algorithm: 'SHA1', digits: 6, period: 30, secret, issuer: 'Example Mail', account: USER,
        last_step: null, created_at: T0 - 1000, enabled_at: T0 - 1000,
      },
      pending_totp: null,
    },
  }).record;
  return { ...record, ...extra };
};
const enabled = enabledRecord();
const pendingOnly = ok({ op: 'totp.enroll', ...ctx, entropy: ENTROPY, time: T0 }).record;
const decide = (record, factor, time = T0, extra = {}) => ({
  op: 'login.decide', ...ctx, time, ...(record ? { record } : {}), ...(factor ? { factor } : {}), ...extra,
});
const totp = (value) => ({ type: 'totp', value });
const backupF = (value) => ({ type: 'backup_code', value });
const deviceF = (value) => ({ type: 'trusted_device', value });

// Backup codes made from fixed entropy.
// The proof is the previous step's code, so the current step stays free for later vectors.
const genReq = { op: 'backup.generate', ...ctx, entropy: ENTROPY, time: T0, record: enabled, proof: proofAt(T0 - 30) };
const generated = ok(genReq);
const codes = generated.codes;
const withCodes = generated.record;
const afterOne = ok({ op: 'backup.verify', ...ctx, time: T0 + 1, record: withCodes, code: codes[0] }).record;

// Limiter states, written by hand into an enabled record.
const limited = (limiter, base = enabled) => ({ ...base, limiter });
const fourFailures = { failures: [T0 - 40, T0 - 30, T0 - 20, T0 - 10], locked_until: 0, lockouts: 0 };

// A chain of five wrong codes through login.decide.
let chain = enabled;
const chainSteps = [];
for (let i = 0; i < 5; i++) {
  const r = ok(decide(chain, totp('000000'), T0 + i));
  chainSteps.push(r);
  chain = r.record;
}
const lockedAfterFive = chain;

// A trusted device.
const trustReq = decide(enabled, totp(code(T0)), T0, { trust_device: true, user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', entropy: ENTROPY });
const trusted = ok(trustReq);
const deviceToken = trusted.device_token;
const deviceRecord = trusted.record;
const deviceId = trusted.device_id;

// ---- login.json ----
const login = [
  { name: 'no record, optional policy: 2FA not required', request: decide(null, null), response: { ok: true, verdict: 'not_required', enroll_by: null, methods: [] } },
  { name: 'no record, required policy: enrollment required', request: decide(null, null, T0, { policy: { mode: 'required' } }), response: { ok: true, verdict: 'enroll_required' } },
  { name: 'required with a grace date ahead: not yet required, enroll_by reported', request: decide(null, null, T0, { policy: { mode: 'required', grace_until: T0 + DAY } }), response: { ok: true, verdict: 'not_required', enroll_by: T0 + DAY } },
  { name: 'required with the grace date reached: enrollment required', request: decide(null, null, T0 + DAY, { policy: { mode: 'required', grace_until: T0 + DAY } }), response: { ok: true, verdict: 'enroll_required' } },
  { name: 'an unfinished enrollment never makes 2FA required', request: decide(pendingOnly, totp('123456')), response: { ok: true, verdict: 'not_required', state: 'pending', record: { rev: 1 } } },
  { name: 'an unfinished enrollment does not satisfy a required policy', request: decide(pendingOnly, null, T0, { policy: { mode: 'required' } }), response: { ok: true, verdict: 'enroll_required' } },
  { name: 'enabled, nothing submitted: factor required; methods listed', request: decide(enabled, null), response: { ok: true, verdict: 'factor_required', retry_after: null, methods: ['totp', 'trusted_device'], backup_codes_remaining: null, record: { rev: 3 } } },
  { name: 'enabled with backup codes: backup_code offered', request: decide(withCodes, null), response: { ok: true, verdict: 'factor_required', methods: ['totp', 'backup_code', 'trusted_device'], backup_codes_remaining: 10 } },
  { name: 'policy without devices and backup codes offers only totp', request: decide(withCodes, null, T0, { policy: { methods: ['totp'] } }), response: { ok: true, verdict: 'factor_required', methods: ['totp'] } },
  { name: 'correct TOTP code: ok, step recorded, rev bumped', request: decide(enabled, totp(code(T0))), response: { ok: true, verdict: 'ok', method: 'totp', reason: null, device_token: null, forget_device: false, record: { rev: 4, totp: { last_step: step0 } } } },
  { name: 'wrong TOTP code: wrong, counted', request: decide(enabled, totp('000000')), response: { ok: true, verdict: 'wrong', method: 'totp', reason: 'wrong_code', retry_after: null, record: { rev: 4, limiter: { failures: [T0], locked_until: 0, lockouts: 0 } } } },
  { name: 'a letter in the code: wrong (malformed), not counted', request: decide(enabled, totp(code(T0).slice(0, 5) + 'x')), response: { ok: true, verdict: 'wrong', reason: 'malformed', retry_after: null, record: { rev: 3 } } },
  { name: 'the same step twice: wrong (replayed)', request: decide(enabledRecord({ totp: { ...enabled.totp, last_step: step0 } }), totp(code(T0))), response: { ok: true, verdict: 'wrong', reason: 'replayed' } },
  { name: 'legacy 80-bit secret verifies', request: decide(enabledRecord({}, LEGACY), totp(code(T0, LEGACY))), response: { ok: true, verdict: 'ok', method: 'totp' } },
  { name: 'backup code typed in upper case with a space: ok, consumed', request: decide(withCodes, backupF(codes[3].toUpperCase().replace('-', ' '))), response: { ok: true, verdict: 'ok', method: 'backup_code', backup_codes_remaining: 9, record: { rev: 5 } } },
  { name: 'a used backup code is wrong', request: decide(afterOne, backupF(codes[0]), T0 + 2), response: { ok: true, verdict: 'wrong', method: 'backup_code', reason: 'wrong_code', backup_codes_remaining: 9 } },
  { name: 'backup code without a set: wrong', request: decide(enabled, backupF(codes[0])), response: { ok: true, verdict: 'wrong', reason: 'wrong_code', backup_codes_remaining: null } },
  { name: 'backup codes not allowed by policy: wrong, not counted', request: decide(withCodes, backupF(codes[1]), T0, { policy: { methods: ['totp', 'trusted_device'] } }), response: { ok: true, verdict: 'wrong', reason: 'method_not_allowed', backup_codes_remaining: 10, record: { rev: 4 } } },
  ...chainSteps.map((r, i) => ({
    name: `wrong code ${i + 1} of 5 in a row${i === 4 ? ' locks for 30 s' : ''}`,
    request: decide(i === 0 ? enabled : chainSteps[i - 1].record, totp('000000'), T0 + i),
    response: { ok: true, verdict: 'wrong', retry_after: i === 4 ? 30 : null, record: { rev: 4 + i } },
  })),
  { name: 'during the lock the correct code is refused unchecked', request: decide(lockedAfterFive, totp(code(T0 + 10)), T0 + 10), response: { ok: true, verdict: 'locked', retry_after: 24, record: { rev: 8, totp: { last_step: null } } } },
  { name: 'during the lock nothing submitted: factor_required with retry_after', request: decide(lockedAfterFive, null, T0 + 10), response: { ok: true, verdict: 'factor_required', retry_after: 24 } },
  { name: 'after the lock the correct code passes', request: decide(lockedAfterFive, totp(code(T0 + 34)), T0 + 34), response: { ok: true, verdict: 'ok', retry_after: null, record: { rev: 9 } } },
  { name: 'golden: trusting the device returns a token from fixed entropy', request: trustReq, response: { ok: true, verdict: 'ok', method: 'totp', device_token: deviceToken, device_id: deviceId, device_expires_at: T0 + 30 * DAY, record: { rev: 5, devices: [{ id: deviceId, label: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', created_at: T0, last_seen_at: T0, expires_at: T0 + 30 * DAY }] } } },
  { name: 'trusting needs entropy', request: { ...trustReq, entropy: undefined }, response: err('missing_field') },
  { name: 'trusting with devices off is refused before the code is checked', request: { ...trustReq, policy: { device_days: 0 } }, response: err('feature_disabled') },
  { name: 'a wrong code with trust requested issues no token', request: decide(enabled, totp('000000'), T0, { trust_device: true, entropy: ENTROPY }), response: { ok: true, verdict: 'wrong', device_token: null } },
  { name: 'the device token logs in without a code', request: decide(deviceRecord, deviceF(deviceToken), T0 + DAY), response: { ok: true, verdict: 'ok', method: 'trusted_device', device_id: deviceId, forget_device: false, record: { rev: 6, devices: [{ last_seen_at: T0 + DAY }] } } },
  { name: 'the device token passes during a lock (it cannot be guessed)', request: decide({ ...deviceRecord, limiter: { failures: [], locked_until: T0 + 500, lockouts: 1 } }, deviceF(deviceToken), T0 + 1), response: { ok: true, verdict: 'ok', method: 'trusted_device', record: { limiter: { locked_until: T0 + 500 } } } },
  { name: 'an expired device token: factor required, forget the cookie', request: decide(deviceRecord, deviceF(deviceToken), T0 + 30 * DAY), response: { ok: true, verdict: 'factor_required', reason: 'device_expired', forget_device: true, record: { rev: 6 } } },
  { name: 'a tampered device token: factor required, not counted', request: decide(deviceRecord, deviceF(deviceToken.slice(0, -2) + (deviceToken.endsWith('AA') ? 'BB' : 'AA')), T0 + 1), response: { ok: true, verdict: 'factor_required', reason: 'device_unknown', forget_device: true, record: { rev: 5 } } },
  { name: 'a garbage device token is malformed', request: decide(deviceRecord, deviceF('not-a-token'), T0 + 1), response: { ok: true, verdict: 'factor_required', reason: 'device_malformed', forget_device: true } },
  { name: 'a revoked device token no longer works', request: decide(ok({ op: 'device.revoke', time: T0 + 1, record: deviceRecord, id: deviceId }).record, deviceF(deviceToken), T0 + 2), response: { ok: true, verdict: 'factor_required', reason: 'device_unknown', forget_device: true } },
  { name: 'device tokens with devices turned off: factor required, forget the cookie', request: decide(deviceRecord, deviceF(deviceToken), T0 + 1, { policy: { device_days: 0 } }), response: { ok: true, verdict: 'factor_required', reason: 'method_not_allowed', forget_device: true, methods: ['totp'] } },
  { name: 'the record does not open for another user (fails closed)', request: { ...decide(deviceRecord, deviceF(deviceToken), T0 + 1), user: 'mallory@example.com' }, response: err('decrypt_failed') },
  { name: 'a record under an unknown key fails closed', request: { ...decide(enabled, null), keys: [K2] }, response: err('unknown_key_id') },
  { name: 'an unknown factor type is refused', request: decide(enabled, { type: 'sms', value: '123456' }), response: err('invalid_field') },
  { name: 'a factor without a value is refused', request: decide(enabled, { type: 'totp' }), response: err('invalid_field') },
  { name: 'a misspelt policy setting is refused', request: decide(enabled, null, T0, { policy: { mxa_failures: 3 } }), response: err('invalid_field') },
  { name: 'a policy without totp is refused', request: decide(enabled, null, T0, { policy: { methods: ['backup_code'] } }), response: err('invalid_field') },
];
write('login.json', login);

// ---- limiter.json ----
const verifyReq = (record, c, time = T0, extra = {}) => ({ op: 'totp.verify', ...ctx, record, code: c, time, ...extra });
const limiter = [
  { name: 'fifth wrong code in the window locks for 30 s', request: verifyReq(limited(fourFailures), '000000'), response: { ok: true, accepted: false, reason: 'wrong_code', retry_after: 30, record: { rev: 4, limiter: { failures: [], locked_until: T0 + 30, lockouts: 1 } } } },
  { name: 'second lock doubles to 60 s', request: verifyReq(limited({ ...fourFailures, locked_until: T0 - 50, lockouts: 1 }), '000000'), response: { ok: true, retry_after: 60, record: { limiter: { locked_until: T0 + 60, lockouts: 2 } } } },
  { name: 'fifth lock is 480 s', request: verifyReq(limited({ ...fourFailures, locked_until: T0 - 50, lockouts: 4 }), '000000'), response: { ok: true, retry_after: 480, record: { limiter: { lockouts: 5 } } } },
  { name: 'locks are capped at 900 s', request: verifyReq(limited({ ...fourFailures, locked_until: T0 - 50, lockouts: 9 }), '000000'), response: { ok: true, retry_after: 900, record: { limiter: { locked_until: T0 + 900 } } } },
  { name: 'the lock level decays after a quiet window', request: verifyReq(limited({ ...fourFailures, locked_until: T0 - 900, lockouts: 6 }), '000000'), response: { ok: true, retry_after: 30, record: { limiter: { lockouts: 1 } } } },
  { name: 'failures older than the window do not count', request: verifyReq(limited({ failures: [T0 - 1000, T0 - 950, T0 - 901, T0 - 10], locked_until: 0, lockouts: 0 }), '000000'), response: { ok: true, reason: 'wrong_code', retry_after: null, record: { limiter: { failures: [T0 - 10, T0] } } } },
  { name: 'while locked a correct code is refused unchecked and nothing changes', request: verifyReq(limited({ failures: [], locked_until: T0 + 100, lockouts: 1 }), code(T0)), response: { ok: true, accepted: false, reason: 'locked', retry_after: 100, record: { rev: 3, totp: { last_step: null } } } },
  { name: 'while locked a wrong code is not counted', request: verifyReq(limited({ failures: [], locked_until: T0 + 100, lockouts: 1 }), '000000'), response: { ok: true, reason: 'locked', record: { rev: 3, limiter: { failures: [], lockouts: 1 } } } },
  { name: 'the lock ends at locked_until', request: verifyReq(limited({ failures: [], locked_until: T0, lockouts: 1 }), code(T0)), response: { ok: true, accepted: true, retry_after: null, record: { rev: 4 } } },
  { name: 'policy max_failures 2 locks on the second wrong code', request: verifyReq(limited({ failures: [T0 - 5], locked_until: 0, lockouts: 0 }), '000000', T0, { policy: { max_failures: 2, lock_base: 10 } }), response: { ok: true, retry_after: 10 } },
  { name: 'totp.disable with a wrong code is counted', request: { ...verifyReq(limited(fourFailures), '000000'), op: 'totp.disable' }, response: { ok: true, disabled: false, reason: 'wrong_code', retry_after: 30, state: 'enabled' } },
  { name: 'totp.disable during a lock is refused', request: { ...verifyReq(limited({ failures: [], locked_until: T0 + 5, lockouts: 1 }), code(T0)), op: 'totp.disable' }, response: { ok: true, disabled: false, reason: 'locked', retry_after: 5, state: 'enabled' } },
  { name: 'totp.disable with a correct code removes backup codes and devices too', request: { ...verifyReq({ ...withCodes, devices: deviceRecord.devices }, code(T0)), op: 'totp.disable' }, response: { ok: true, disabled: true, state: 'disabled', record: { totp: null, pending_totp: null } } },
  { name: 'totp.disable with method backup_code and an unused backup code (lost phone)', request: { ...verifyReq(withCodes, codes[3]), op: 'totp.disable', method: 'backup_code' }, response: { ok: true, disabled: true, reason: null, state: 'disabled', record: { totp: null, pending_totp: null } } },
  { name: 'after disabling with a backup code no backup code is left', request: { op: 'backup.status', record: ok({ ...verifyReq(withCodes, codes[3]), op: 'totp.disable', method: 'backup_code' }).record }, response: { ok: true, remaining: 0, issued: null } },
  { name: 'totp.disable with method backup_code and a used backup code is counted', request: { ...verifyReq(limited(fourFailures, afterOne), codes[0]), op: 'totp.disable', method: 'backup_code' }, response: { ok: true, disabled: false, reason: 'wrong_code', retry_after: 30, state: 'enabled' } },
  { name: 'totp.disable with method backup_code does not take a TOTP code', request: { ...verifyReq(withCodes, code(T0)), op: 'totp.disable', method: 'backup_code' }, response: { ok: true, disabled: false, reason: 'wrong_code', state: 'enabled' } },
  { name: 'totp.disable with method backup_code during a lock is refused', request: { ...verifyReq(limited({ failures: [], locked_until: T0 + 5, lockouts: 1 }, withCodes), codes[3]), op: 'totp.disable', method: 'backup_code' }, response: { ok: true, disabled: false, reason: 'locked', retry_after: 5, state: 'enabled' } },
  { name: 'totp.disable with method backup_code when the policy forbids backup codes', request: { ...verifyReq(withCodes, codes[3]), op: 'totp.disable', method: 'backup_code', policy: { methods: ['totp'] } }, response: err('method_not_allowed') },
  { name: 'totp.disable with an unknown method', request: { ...verifyReq(withCodes, code(T0)), op: 'totp.disable', method: 'sms' }, response: err('invalid_field') },
  { name: 'totp.activate is not counted (rev unchanged on a wrong code)', request: { op: 'totp.activate', ...ctx, record: pendingOnly, code: '000000', time: T0, entropy: ENTROPY }, response: { ok: true, activated: false, reason: 'wrong_code', record: { rev: 1 } } },
  { name: 'record.status reports the lock', request: { op: 'record.status', ...ctx, record: limited({ failures: [], locked_until: T0 + 7, lockouts: 1 }), time: T0 }, response: { ok: true, retry_after: 7 } },
];
write('limiter.json', limiter);

// ---- backup.json ----
const regenerated = ok({ ...genReq, entropy: ENTROPY2, time: T0 + 5, record: withCodes, proof: proofAt(T0) });
const backup = [
  { name: 'golden: ten codes from fixed entropy, xxxxx-xxxxx', request: genReq, response: { ok: true, codes, remaining: 10, record: { rev: 4, backup_codes: { issued: 10, created_at: T0, last_used_at: null, key: { kid: 'k1' } } } } },
  { name: 'count 3', request: { ...genReq, count: 3 }, response: { ok: true, codes: codes.slice(0, 3), remaining: 3 } },
  { name: 'policy backup_count 4', request: { ...genReq, policy: { backup_count: 4 } }, response: { ok: true, remaining: 4 } },
  { name: 'count 21 is refused', request: { ...genReq, count: 21 }, response: err('invalid_field') },
  { name: 'backup codes not allowed', request: { ...genReq, policy: { methods: ['totp'] } }, response: err('method_not_allowed') },
  { name: 'no TOTP: not enabled', request: { ...genReq, record: ok({ op: 'record.new', time: T0 }).record }, response: err('not_enabled') },
  { name: 'while enrolling (pending) no codes are made: the first ones come from totp.activate', request: { ...genReq, record: pendingOnly }, response: err('not_enabled') },
  { name: 'short entropy', request: { ...genReq, entropy: 'AAAA' }, response: err('insufficient_entropy') },
  { name: 'verify consumes the code', request: { op: 'backup.verify', ...ctx, time: T0 + 1, record: withCodes, code: codes[0] }, response: { ok: true, accepted: true, reason: null, remaining: 9, record: { rev: 5, backup_codes: { last_used_at: T0 + 1 } } } },
  { name: 'a used code never verifies again', request: { op: 'backup.verify', ...ctx, time: T0 + 2, record: afterOne, code: codes[0] }, response: { ok: true, accepted: false, reason: 'wrong_code', remaining: 9 } },
  { name: 'normalized: upper case, no dash, spaces', request: { op: 'backup.verify', ...ctx, time: T0 + 2, record: withCodes, code: ` ${codes[5].replace('-', '').toUpperCase().split('').join(' ')} ` }, response: { ok: true, accepted: true, remaining: 9 } },
  { name: 'normalized: O for 0 and I/L for 1 (Crockford)', request: { op: 'backup.verify', ...ctx, time: T0 + 2, record: withCodes, code: codes[7].replace(/0/g, 'O').replace(/1/g, 'l') }, response: { ok: true, accepted: true } },
  { name: 'anything but letters, digits, spaces and dashes is wrong', request: { op: 'backup.verify', ...ctx, time: T0 + 2, record: withCodes, code: codes[2] + '!' }, response: { ok: true, accepted: false, reason: 'wrong_code' } },
  { name: 'regenerating invalidates every old code', request: { op: 'backup.verify', ...ctx, time: T0 + 6, record: regenerated.record, code: codes[1] }, response: { ok: true, accepted: false, remaining: 10 } },
  { name: 'the new set works', request: { op: 'backup.verify', ...ctx, time: T0 + 6, record: regenerated.record, code: regenerated.codes[9] }, response: { ok: true, accepted: true, remaining: 9 } },
  { name: 'codes are bound to the user', request: { op: 'backup.verify', ...ctx, user: 'bob@example.com', time: T0 + 1, record: withCodes, code: codes[0] }, response: err('decrypt_failed') },
  { name: 'verify during a lock is refused', request: { op: 'backup.verify', ...ctx, time: T0 + 1, record: { ...withCodes, limiter: { failures: [], locked_until: T0 + 60, lockouts: 1 } }, code: codes[0] }, response: { ok: true, accepted: false, reason: 'locked', retry_after: 59, remaining: 10 } },
  { name: 'status', request: { op: 'backup.status', record: afterOne }, response: { ok: true, remaining: 9, issued: 10, created_at: T0, last_used_at: T0 + 1 } },
  { name: 'status without a set', request: { op: 'backup.status', record: enabled }, response: { ok: true, remaining: 0, issued: null } },
  { name: 'key rotation re-seals the backup key; codes still work', request: { op: 'backup.verify', ...ctx, keys: [K2], time: T0 + 1, record: ok({ op: 'record.rotate_key', ...ctx, keys: [K2, K1], entropy: ENTROPY, time: T0, record: withCodes }).record, code: codes[4] }, response: { ok: true, accepted: true } },
  { name: 'rotation counts the backup key', request: { op: 'record.rotate_key', ...ctx, keys: [K2, K1], entropy: ENTROPY, time: T0, record: withCodes }, response: { ok: true, resealed: 2, record: { backup_codes: { key: { kid: 'k2' } } } } },
];
write('backup.json', backup);

// ---- device.json ----
const trustOp = { op: 'device.trust', ...ctx, entropy: ENTROPY, time: T0, record: enabled, user_agent: 'Thunderbird\u0000\nEvil', proof: proofAt(T0 - 30) };
const t1 = ok(trustOp);
const t2 = ok({ ...trustOp, entropy: ENTROPY2, record: t1.record, user_agent: 'Phone', proof: proofAt(T0) });
const device = [
  { name: 'golden: trust a device from fixed entropy; control characters cleaned', request: trustOp, response: { ok: true, token: t1.token, id: t1.id, expires_at: T0 + 30 * DAY, record: { rev: 4, devices: [{ id: t1.id, label: 'Thunderbird  Evil' }] } } },
  { name: 'policy device_days 7', request: { ...trustOp, policy: { device_days: 7 } }, response: { ok: true, expires_at: T0 + 7 * DAY } },
  { name: 'device_days 0 turns the feature off', request: { ...trustOp, policy: { device_days: 0 } }, response: err('feature_disabled') },
  { name: 'devices not allowed', request: { ...trustOp, policy: { methods: ['totp'] } }, response: err('method_not_allowed') },
  { name: 'trust needs 2FA enabled', request: { ...trustOp, record: pendingOnly }, response: err('not_enabled') },
  { name: 'max_devices 1 replaces the least recently seen', request: { ...trustOp, entropy: ENTROPY2, record: t1.record, policy: { max_devices: 1 } }, response: { ok: true, record: { devices: [{ created_at: T0 }] } } },
  { name: 'list shows no hashes', request: { op: 'device.list', record: t2.record, time: T0 + 31 * DAY }, response: { ok: true, devices: [{ id: t1.id, expired: true }, { id: t2.id, label: 'Phone', expired: true }] } },
  { name: 'revoke one', request: { op: 'device.revoke', time: T0 + 1, record: t2.record, id: t1.id }, response: { ok: true, revoked: true, record: { rev: 6, devices: [{ id: t2.id }] } } },
  { name: 'revoke an unknown id changes nothing', request: { op: 'device.revoke', time: T0 + 1, record: t2.record, id: 'nope' }, response: { ok: true, revoked: false, record: { rev: 5 } } },
  { name: 'revoke all but the current one', request: { op: 'device.revoke_all', time: T0 + 1, record: t2.record, except: t2.id }, response: { ok: true, revoked: 1, record: { devices: [{ id: t2.id }] } } },
  { name: 'revoke all', request: { op: 'device.revoke_all', time: T0 + 1, record: t2.record }, response: { ok: true, revoked: 2, record: { rev: 6 } } },
  { name: 'the other device still logs in after one is revoked', request: decide(ok({ op: 'device.revoke', time: T0 + 1, record: t2.record, id: t1.id }).record, deviceF(t2.token), T0 + 2), response: { ok: true, verdict: 'ok', device_id: t2.id } },
  { name: 'the revoked device does not', request: decide(ok({ op: 'device.revoke', time: T0 + 1, record: t2.record, id: t1.id }).record, deviceF(t1.token), T0 + 2), response: { ok: true, verdict: 'factor_required', reason: 'device_unknown', forget_device: true } },
  { name: 'password.changed revokes every device', request: { op: 'password.changed', time: T0 + 1, record: t2.record }, response: { ok: true, revoked_devices: 2, revoked_app_passwords: 0 } },
];
write('device.json', device);

// ---- app-password.json ----
const createReq = { op: 'app_password.create', ...ctx, entropy: ENTROPY, time: T0, label: 'Thunderbird 📧 laptop', record: enabled, policy: CHEAP, proof: proofAt(T0 - 30) };
const ap1 = ok(createReq);
const ap2 = ok({ ...createReq, entropy: ENTROPY2, record: ap1.record, label: 'Phone', proof: proofAt(T0) });
const apDefault = ok({ ...createReq, policy: undefined });
const appPassword = [
  { name: 'golden: app password and PHC string from fixed entropy', request: createReq, response: { ok: true, password: ap1.password, id: ap1.id, phc: ap1.phc, record: { rev: 4, app_passwords: [{ id: ap1.id, label: 'Thunderbird 📧 laptop', phc: ap1.phc, created_at: T0, last_used_at: null, tag: ap1.record.app_passwords[0].tag }] } } },
  { name: 'an entry without a tag (made elsewhere) is still checked', request: { op: 'app_password.verify', record: { ...ap1.record, app_passwords: [{ ...ap1.record.app_passwords[0], tag: undefined }] }, password: ap1.password, time: T0 + 9 }, response: { ok: true, valid: true, id: ap1.id } },
  { name: 'golden: default cost is argon2id m=19456 t=2 p=1', request: { ...createReq, policy: undefined }, response: { ok: true, phc: apDefault.phc } },
  { name: 'verify the exact password', request: { op: 'app_password.verify', record: ap2.record, password: ap1.password, time: T0 + 9 }, response: { ok: true, valid: true, id: ap1.id, record: { rev: 6, app_passwords: [{ last_used_at: T0 + 9 }, { last_used_at: null }] } } },
  { name: 'verify typed without dashes, in upper case, with spaces', request: { op: 'app_password.verify', record: ap2.record, password: ap2.password.replace(/-/g, ' ').toUpperCase(), time: T0 + 9 }, response: { ok: true, valid: true, id: ap2.id } },
  { name: 'a wrong password is not valid and changes nothing', request: { op: 'app_password.verify', record: ap2.record, password: 'abcd-efgh-ijkl-mnop-qrst', time: T0 + 9 }, response: { ok: true, valid: false, id: null, record: { rev: 5 } } },
  { name: 'a revoked app password never verifies', request: { op: 'app_password.verify', record: ok({ op: 'app_password.revoke', time: T0 + 1, record: ap2.record, id: ap1.id }).record, password: ap1.password, time: T0 + 9 }, response: { ok: true, valid: false } },
  { name: 'revoke one', request: { op: 'app_password.revoke', time: T0 + 1, record: ap2.record, id: ap1.id }, response: { ok: true, revoked: true, record: { rev: 6, app_passwords: [{ id: ap2.id }] } } },
  { name: 'revoke all', request: { op: 'app_password.revoke_all', time: T0 + 1, record: ap2.record }, response: { ok: true, revoked: 2 } },
  { name: 'password.changed revokes every app password', request: { op: 'password.changed', time: T0 + 1, record: ap2.record }, response: { ok: true, revoked_app_passwords: 2, revoked_devices: 0, record: { rev: 6 } } },
  { name: 'list', request: { op: 'app_password.list', record: ap2.record }, response: { ok: true, app_passwords: [{ id: ap1.id, label: 'Thunderbird 📧 laptop', phc: ap1.phc }, { id: ap2.id, label: 'Phone' }] } },
  { name: 'the cap is enforced', request: { ...createReq, record: ap2.record, policy: { ...CHEAP, max_app_passwords: 2 } }, response: err('limit_reached') },
  { name: 'app passwords not allowed', request: { ...createReq, policy: { methods: ['totp'] } }, response: err('method_not_allowed') },
  { name: 'a label with a newline is refused', request: { ...createReq, label: 'a\nb' }, response: err('invalid_field') },
  { name: 'a label with a bidi override is refused', request: { ...createReq, label: 'gpj.\u202Eexe' }, response: err('invalid_field') },
  { name: 'a label of 65 characters is refused', request: { ...createReq, label: 'é'.repeat(65) }, response: err('invalid_field') },
  { name: 'an empty label is refused', request: { ...createReq, label: '   ' }, response: err('invalid_field') },
  { name: 'a memory-bomb cost in the policy is refused', request: { ...createReq, policy: { argon2: { m: 4194304 } } }, response: err('hash_params_refused') },
  { name: 'no record (a user without 2FA): app passwords belong to 2FA', request: { ...createReq, record: undefined }, response: err('not_enabled') },
];
write('app-password.json', appPassword);

// ---- phc.json ----
const phcVerify = (phc, password, valid) => ({ name: `${valid ? 'verifies' : 'refuses'}: ${phc.slice(0, 36)}…`, request: { op: 'phc.verify', phc, password }, response: { ok: true, valid } });
const PHP_ID = '$argon2id$v=19$m=1024,t=2,p=1$REFUZTEzUWhKYmgzcFVIYw$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY';
const PHP_I = '$argon2i$v=19$m=1024,t=3,p=1$U1Q0dXM4bFZDMjNabHcxVw$T2b6Ij7uVCP6qFzkHM5hWwtq6PPhVv7Qz36xcxaP13w';
const PHP_P4 = '$argon2id$v=19$m=256,t=2,p=4$U054WFVERFUucGZnNk5JTw$YoXl8Ckov6o6x30j/wWN4demHzXcHfBVsPtlgAmliyE';
const DOVECOT = '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$5T6lH2csxZCubPXtPwNNbw$yc8Rx5aK4h7rZ6BD7yzxOCkdjIN8xpHsA5ppfYduCNs';
const hashReq = { op: 'phc.hash', password: 'password', salt: 'c29tZXNhbHRzb21lc2FsdA==', m: 64, t: 1, p: 1 };
const made = ok(hashReq).phc;
const phc = [
  { name: 'golden: phc.hash', request: hashReq, response: { ok: true, phc: made } },
  phcVerify(made, 'password', true),
  phcVerify(PHP_ID, 'password', true),
  phcVerify(PHP_ID, 'Password', false),
  phcVerify(PHP_I, 'password', true),
  phcVerify(PHP_P4, 'password', true),
  phcVerify(DOVECOT, 'password', true),
  phcVerify(DOVECOT, 'password ', false),
  { name: 'phc.hash argon2i', request: { ...hashReq, variant: 'argon2i' }, response: { ok: true } },
  { name: 'phc.hash default cost', request: { op: 'phc.hash', password: 'x', salt: 'c29tZXNhbHRzb21lc2FsdA==' }, response: { ok: true } },
  { name: 'phc.hash refuses a 7-byte salt', request: { ...hashReq, salt: 'c29tZXNhbA==' }, response: err('invalid_field') },
  { name: 'phc.hash refuses m beyond 256 MiB', request: { ...hashReq, m: 262145 }, response: err('hash_params_refused') },
  { name: 'phc.hash refuses m below 8·p', request: { ...hashReq, m: 15, p: 2 }, response: err('hash_params_refused') },
  { name: 'phc.hash refuses argon2d', request: { ...hashReq, variant: 'argon2d' }, response: err('unsupported_hash') },
  { name: 'memory bomb: m=4 GiB', request: { op: 'phc.verify', phc: '$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY', password: 'x' }, response: err('hash_params_refused') },
  { name: 'time bomb: t=1000', request: { op: 'phc.verify', phc: '$argon2id$v=19$m=1024,t=1000,p=1$c29tZXNhbHQ$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY', password: 'x' }, response: err('hash_params_refused') },
  { name: 'm·t beyond 1 GiB processed', request: { op: 'phc.verify', phc: '$argon2id$v=19$m=262144,t=8,p=1$c29tZXNhbHQ$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY', password: 'x' }, response: err('hash_params_refused') },
  { name: 'p=255', request: { op: 'phc.verify', phc: '$argon2id$v=19$m=65536,t=1,p=255$c29tZXNhbHQ$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY', password: 'x' }, response: err('hash_params_refused') },
  { name: 'argon2d is not read', request: { op: 'phc.verify', phc: '$argon2d$v=19$m=64,t=1,p=1$c29tZXNhbHQ$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY', password: 'x' }, response: err('unsupported_hash') },
  { name: 'bcrypt is not read', request: { op: 'phc.verify', phc: '$2y$10$abcdefghijklmnopqrstuuVhB0cYgJ0Z3i1g2bq8s1cRjYkVJ7eW', password: 'x' }, response: err('unsupported_hash') },
  { name: 'a repeated parameter', request: { op: 'phc.verify', phc: '$argon2id$v=19$m=64,m=64,t=1,p=1$c29tZXNhbHQ$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY', password: 'x' }, response: err('unsupported_hash') },
  { name: 'a keyid parameter', request: { op: 'phc.verify', phc: '$argon2id$v=19$m=64,t=1,p=1,keyid=AAAA$c29tZXNhbHQ$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY', password: 'x' }, response: err('unsupported_hash') },
  { name: 'an absurd number', request: { op: 'phc.verify', phc: '$argon2id$v=19$m=99999999999999,t=1,p=1$c29tZXNhbHQ$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY', password: 'x' }, response: err('unsupported_hash') },
  { name: 'version 18', request: { op: 'phc.verify', phc: '$argon2id$v=18$m=64,t=1,p=1$c29tZXNhbHQ$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY', password: 'x' }, response: err('unsupported_hash') },
  { name: 'empty', request: { op: 'phc.verify', phc: '', password: 'x' }, response: err('unsupported_hash') },
];
write('phc.json', phc);

// ---- import.json ----
const gaReq = { op: 'import.gauthenticator', ...ctx, entropy: ENTROPY, time: T0, prefs: { secret: LEGACY, activate: true, recovery_codes: ['ABCDEFGHJK', 'MNPQRSTVWX', '', ''] } };
const ga = ok(gaReq);
const kolabBlob = {
  'totp:5f2a9c': { active: true, label: 'Phone', created: T0 - 500, secret: SEED, digits: 8, algorithm: 'sha256' },
  'totp:11aa22': { active: false, label: 'old', created: T0 - 900, secret: LEGACY },
  'hotp:77bb88': { active: true, label: 'Token', created: T0 - 800, secret: LEGACY, counter: 4 },
  'yubikey:1': { active: false, label: 'key', yubikeyid: 'ccccccabcdef' },
};
const kReq = { op: 'import.kolab', ...ctx, entropy: ENTROPY, time: T0, blob: JSON.stringify(kolabBlob) };
const kolab = ok(kReq);
const importCases = [
  { name: 'gauthenticator: active 80-bit secret and two recovery codes', request: gaReq, response: { ok: true, totp: 'enabled', backup_codes: 2, not_imported: [], state: 'enabled', record: { rev: 1, totp: { digits: 6, algorithm: 'SHA1', period: 30, account: USER, enabled_at: T0 }, backup_codes: { issued: 2 } } } },
  { name: 'gauthenticator: the imported secret verifies at login', request: decide(ga.record, totp(code(T0, LEGACY))), response: { ok: true, verdict: 'ok' } },
  { name: 'gauthenticator: a recovery code logs in once (lower case, dash)', request: decide(ga.record, backupF('mnpqr-stvwx')), response: { ok: true, verdict: 'ok', method: 'backup_code', backup_codes_remaining: 1 } },
  { name: 'gauthenticator: inactive becomes a pending enrollment (2FA stays off)', request: { ...gaReq, prefs: { secret: LEGACY, activate: false } }, response: { ok: true, totp: 'pending', state: 'pending', record: { totp: null } } },
  { name: 'gauthenticator: a recovery code too short is reported', request: { ...gaReq, prefs: { secret: LEGACY, activate: true, recovery_codes: ['abc', 'ABCDEFGHJK', 7] } }, response: { ok: true, backup_codes: 1, not_imported: [{ entry: 'recovery_codes[2]', reason: 'invalid_code' }, { entry: 'recovery_codes[0]', reason: 'invalid_code' }] } },
  { name: 'gauthenticator: an existing enabled factor is kept without replace', request: { ...gaReq, record: enabled }, response: err('already_enabled') },
  { name: 'gauthenticator: replace overwrites it', request: { ...gaReq, record: enabled, replace: true }, response: { ok: true, totp: 'enabled', record: { rev: 4 } } },
  { name: 'gauthenticator: a secret under 80 bits is refused', request: { ...gaReq, prefs: { secret: 'JBSWY3DP', activate: true } }, response: err('secret_too_short') },
  { name: 'gauthenticator: nothing to import', request: { ...gaReq, prefs: { activate: true } }, response: err('invalid_import') },
  { name: 'gauthenticator: prefs not an object', request: { ...gaReq, prefs: 'x' }, response: err('invalid_import') },
  { name: 'kolab: newest active TOTP imported; hotp and yubikey reported, not dropped', request: kReq, response: { ok: true, totp: 'enabled', state: 'enabled', not_imported: kolab.not_imported, record: { totp: { digits: 8, algorithm: 'SHA256', account: 'Phone', created_at: T0 - 500 } } } },
  { name: 'kolab: the imported 8-digit SHA256 factor verifies at login', request: decide(kolab.record, totp(code(T0, SEED, 8, 'SHA256'))), response: { ok: true, verdict: 'ok' } },
  { name: 'kolab: a blob object works as well as its JSON text', request: { ...kReq, blob: kolabBlob }, response: { ok: true, totp: 'enabled' } },
  { name: 'kolab: only hotp: reported, nothing imported', request: { ...kReq, blob: { 'hotp:1': { active: true, secret: LEGACY } } }, response: { ok: true, totp: 'none', not_imported: [{ entry: 'hotp:1', reason: 'hotp_unsupported' }], state: 'disabled' } },
  { name: 'kolab: not JSON', request: { ...kReq, blob: '{nope' }, response: err('invalid_import') },
  { name: 'kolab: empty blob', request: { ...kReq, blob: {} }, response: err('invalid_import') },
  { name: 'kolab: bad digits', request: { ...kReq, blob: { 'totp:1': { active: true, secret: SEED, digits: 9 } } }, response: err('unsupported_digits') },
];
write('import.json', importCases);

// Sanity: every hand-written expectation must hold on this module before the files are used.
let failed = 0;
const subset = (e, a) => {
  if (e && typeof e === 'object' && !Array.isArray(e)) return a && typeof a === 'object' && Object.keys(e).every((k) => k in a && subset(e[k], a[k]));
  if (Array.isArray(e)) return Array.isArray(a) && a.length === e.length && e.every((x, i) => subset(x, a[i]));
  return e === a;
};
for (const [file, cases] of Object.entries({ login, limiter, backup, device, appPassword, phc, importCases })) {
  for (const c of cases) {
    const actual = abi.call(JSON.parse(JSON.stringify(c.request)));
    if (!subset(c.response, actual)) {
      failed++;
      console.error(`${file}: ${c.name}\n  expected ${JSON.stringify(c.response)}\n  got ${JSON.stringify(actual).slice(0, 600)}`);
    }
  }
}
if (failed) {
  console.error(`${failed} case(s) do not hold`);
  process.exit(1);
}
