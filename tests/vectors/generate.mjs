// Writes the spine's conformance vector files (totp-*.json, otpauth.json, record.json,
// errors.json). Expected responses are written here by hand: RFC values, accept/reject
// truths, error codes. The module is used only to build *inputs* that need sealing
// (records), and for the golden enrollment vector, whose exact bytes every host must
// reproduce from the same entropy. Run: node tests/vectors/generate.mjs (after make wasm).
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

const SHA1_SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const SHA256_SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA';
const SHA512_SEED =
  'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA';
const USER = 'alice@example.com';
const K1 = { id: 'k1', key: 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=' };
const K2 = { id: 'k2', key: 'ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q=' };
const ENTROPY = 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=';
const T0 = 1700000000; // a fixed "now"; step 56666666 with period 30
const code = (time, secret = SHA1_SEED, digits = 6, algorithm = 'SHA1') =>
  ok({ op: 'totp.code', secret, time, digits, algorithm, period: 30 }).code;

// ---- RFC 6238 Appendix B and RFC 4226 Appendix D ----
const rfc6238 = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];
const totpRfc = [];
for (const [time, sha1, sha256, sha512] of rfc6238) {
  for (const [algorithm, secret, expected] of [
    ['SHA1', SHA1_SEED, sha1],
    ['SHA256', SHA256_SEED, sha256],
    ['SHA512', SHA512_SEED, sha512],
  ]) {
    totpRfc.push({
      name: `RFC 6238 B ${algorithm} t=${time}`,
      request: { op: 'totp.code', secret, time, algorithm, digits: 8, period: 30 },
      response: { ok: true, code: expected },
    });
  }
}
const hotp = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
const hotpRfc = hotp.map((expected, count) => ({
  name: `RFC 4226 D count=${count} (TOTP at t=${count * 30}, period 30)`,
  request: { op: 'totp.code', secret: SHA1_SEED, time: count * 30 + 29, algorithm: 'SHA1', digits: 6, period: 30 },
  response: { ok: true, code: expected },
}));
hotpRfc.push({
  name: 'defaults are SHA1, 6 digits, 30 s; lower-case secret accepted',
  request: { op: 'totp.code', secret: SHA1_SEED.toLowerCase(), time: 59 },
  response: { ok: true, code: '287082' },
});
write('totp-rfc.json', [...totpRfc, ...hotpRfc]);

// ---- Records used as inputs ----
const sealedEnabled = (lastStep, secret = SHA1_SEED, keys = [K1], digits = 6) =>
  ok({
    op: 'record.seal', user: USER, keys, entropy: ENTROPY,
    plain: {
      format: 1, rev: 3, created_at: T0 - 1000, updated_at: T0 - 1000,
      totp: {
        algorithm: 'SHA1', digits, period: 30, secret, issuer: 'Example Mail', account: USER,
        last_step: lastStep, created_at: T0 - 1000, enabled_at: T0 - 1000,
      },
      pending_totp: null,
    },
  }).record;
const fresh = sealedEnabled(null);
const step0 = Math.floor(T0 / 30);
const check = (op, record, c, time, extra = {}) => ({
  op, user: USER, keys: [K1], record, code: c, time, ...extra,
});

const verify = [
  {
    name: 'current code accepted; step recorded; rev bumped',
    request: check('totp.verify', fresh, code(T0), T0),
    response: { ok: true, accepted: true, step: step0, reason: null, state: 'enabled', record: { rev: 4, totp: { last_step: step0 } } },
  },
  {
    name: 'same step again is a replay (RFC 6238 5.2)',
    request: check('totp.verify', sealedEnabled(step0), code(T0), T0),
    // A replay is refused but not counted (a double-submit must not lock): nothing changes.
    response: { ok: true, accepted: false, reason: 'replayed', record: { rev: 3, totp: { last_step: step0 } } },
  },
  {
    name: 'an older step than the last accepted is a replay even inside the window',
    request: check('totp.verify', sealedEnabled(step0), code(T0 - 30), T0),
    response: { ok: true, accepted: false, reason: 'replayed' },
  },
  {
    name: 'a later step after an accepted one is accepted',
    request: check('totp.verify', sealedEnabled(step0 - 1), code(T0), T0),
    response: { ok: true, accepted: true, step: step0 },
  },
  {
    name: 'window 1: previous step accepted',
    request: check('totp.verify', fresh, code(T0 - 30), T0),
    response: { ok: true, accepted: true, step: step0 - 1 },
  },
  {
    name: 'window 1: next step accepted',
    request: check('totp.verify', fresh, code(T0 + 30), T0),
    response: { ok: true, accepted: true, step: step0 + 1 },
  },
  {
    name: 'window 1: two steps back refused',
    request: check('totp.verify', fresh, code(T0 - 60), T0),
    response: { ok: true, accepted: false, reason: 'wrong_code', record: { rev: 4, limiter: { failures: [T0] } } },
  },
  {
    name: 'window 1: two steps ahead refused',
    request: check('totp.verify', fresh, code(T0 + 60), T0),
    response: { ok: true, accepted: false, reason: 'wrong_code' },
  },
  {
    name: 'window 2: two steps back accepted',
    request: check('totp.verify', fresh, code(T0 - 60), T0, { window: 2 }),
    response: { ok: true, accepted: true, step: step0 - 2 },
  },
  {
    name: 'window 0: previous step refused',
    request: check('totp.verify', fresh, code(T0 - 30), T0, { window: 0 }),
    response: { ok: true, accepted: false, reason: 'wrong_code' },
  },
  {
    name: 'window 0: last second of the step accepted',
    request: check('totp.verify', fresh, code(step0 * 30), step0 * 30 + 29, { window: 0 }),
    response: { ok: true, accepted: true, step: step0 },
  },
  {
    name: 'window 0: first second of the next step refuses the old code',
    request: check('totp.verify', fresh, code(step0 * 30), step0 * 30 + 30, { window: 0 }),
    response: { ok: true, accepted: false, reason: 'wrong_code' },
  },
  {
    name: 'spaces between groups are ignored',
    request: check('totp.verify', fresh, code(T0).replace(/^(...)/, '$1 '), T0),
    response: { ok: true, accepted: true, step: step0 },
  },
  {
    name: 'a trailing letter makes a malformed code, never parsed (not counted)',
    request: check('totp.verify', fresh, code(T0).slice(0, 5) + 'x', T0),
    response: { ok: true, accepted: false, reason: 'malformed', record: { rev: 3 } },
  },
  {
    name: 'a leading space with five digits is malformed',
    request: check('totp.verify', fresh, ' ' + code(T0).slice(1), T0),
    response: { ok: true, accepted: false, reason: 'malformed' },
  },
  {
    name: 'seven digits for a six-digit factor is malformed',
    request: check('totp.verify', fresh, code(T0) + '0', T0),
    response: { ok: true, accepted: false, reason: 'malformed' },
  },
  {
    name: 'full-width digits are malformed',
    request: check('totp.verify', fresh, '\uff11\uff12\uff13\uff14\uff15\uff16', T0),
    response: { ok: true, accepted: false, reason: 'malformed' },
  },
  {
    name: 'a sign or decimal point is malformed',
    request: check('totp.verify', fresh, '+12345', T0),
    response: { ok: true, accepted: false, reason: 'malformed' },
  },
  {
    name: 'empty code is malformed',
    request: check('totp.verify', fresh, '', T0),
    response: { ok: true, accepted: false, reason: 'malformed' },
  },
  {
    name: 'legacy 80-bit secret (16 base32 chars) verifies',
    request: check('totp.verify', sealedEnabled(null, 'JBSWY3DPEHPK3PXP'), code(T0, 'JBSWY3DPEHPK3PXP'), T0),
    response: { ok: true, accepted: true, step: step0 },
  },
  {
    name: 'record for another user does not open (fails closed)',
    request: { ...check('totp.verify', fresh, code(T0), T0), user: 'mallory@example.com' },
    response: err('decrypt_failed'),
  },
  {
    name: 'wrong key under the same id does not open (fails closed)',
    request: { ...check('totp.verify', fresh, code(T0), T0), keys: [{ id: 'k1', key: K2.key }] },
    response: err('decrypt_failed'),
  },
  {
    name: 'keyring without the record key id',
    request: { ...check('totp.verify', fresh, code(T0), T0), keys: [K2] },
    response: err('unknown_key_id'),
  },
  {
    name: 'an older key later in the keyring still opens',
    request: { ...check('totp.verify', fresh, code(T0), T0), keys: [K2, K1] },
    response: { ok: true, accepted: true },
  },
  {
    name: 'window over 10 is refused',
    request: check('totp.verify', fresh, code(T0), T0, { window: 11 }),
    response: err('invalid_field'),
  },
  {
    name: 'verify on a record without TOTP',
    request: check('totp.verify', ok({ op: 'record.new', time: T0 }).record, '123456', T0),
    response: err('not_enabled'),
  },
  {
    name: 'code must be a string',
    request: check('totp.verify', fresh, 123456, T0),
    response: err('invalid_field'),
  },
  {
    name: 'tampered ciphertext fails closed',
    request: check('totp.verify', { ...fresh, totp: { ...fresh.totp, secret: { ...fresh.totp.secret, ct: 'AAAA' + fresh.totp.secret.ct.slice(4) } } }, code(T0), T0),
    response: err('decrypt_failed'),
  },
];
write('totp-verify.json', verify);

// ---- Enrollment lifecycle ----
const enrollReq = {
  op: 'totp.enroll', user: USER, keys: [K1], entropy: ENTROPY, time: T0,
  issuer: 'Example Mail', account: USER,
};
const enrolled = ok(enrollReq);
const enrolledCode = code(T0, enrolled.secret);
const activated = ok(check('totp.activate', enrolled.record, enrolledCode, T0, { entropy: ENTROPY }));
const enabled = activated.record;
// Replacing an enabled authenticator needs a fresh factor: a current code of the old one.
const reenrollReq = { ...enrollReq, record: enabled, time: T0 + 60, proof: { method: 'totp', code: code(T0 + 60, enrolled.secret) } };
const lifecycle = [
  {
    name: 'golden: enrollment from fixed entropy is byte-identical on every host',
    request: enrollReq,
    response: { ok: true, state: 'pending', uri: enrolled.uri, secret: enrolled.secret, record: enrolled.record },
  },
  {
    name: 'enrollment makes a 160-bit secret and a pending record; 2FA not yet required',
    request: enrollReq,
    response: { ok: true, state: 'pending', record: { format: 1, rev: 1, totp: null, pending_totp: { digits: 6, last_step: null, enabled_at: null } } },
  },
  {
    name: 'enrollment refuses short entropy',
    request: { ...enrollReq, entropy: 'AAAA' },
    response: err('insufficient_entropy'),
  },
  {
    name: 'enrollment refuses an issuer with a colon',
    request: { ...enrollReq, issuer: 'Ex:ample' },
    response: err('invalid_label'),
  },
  {
    name: 'enrollment refuses 9 digits',
    request: { ...enrollReq, digits: 9 },
    response: err('unsupported_digits'),
  },
  {
    name: 'wrong code does not activate and changes nothing',
    request: check('totp.activate', enrolled.record, enrolledCode === '000000' ? '111111' : '000000', T0, { entropy: ENTROPY }),
    response: { ok: true, activated: false, reason: 'wrong_code', backup_codes: null, state: 'pending', record: { rev: 1 } },
  },
  {
    name: 'correct code activates; its step is used up; the first backup codes are issued',
    request: check('totp.activate', enrolled.record, enrolledCode, T0, { entropy: ENTROPY }),
    response: { ok: true, activated: true, step: step0, backup_codes: activated.backup_codes, revoked_app_passwords: 0, revoked_devices: 0, state: 'enabled', record: { rev: 2, pending_totp: null, totp: { last_step: step0, enabled_at: T0 }, backup_codes: { issued: 10 } } },
  },
  {
    name: 'activate needs entropy for the first backup codes (checked before the code)',
    request: check('totp.activate', enrolled.record, enrolledCode, T0),
    response: err('missing_field'),
  },
  {
    name: 'activate under a policy without backup codes needs no entropy and issues none',
    request: check('totp.activate', enrolled.record, enrolledCode, T0, { policy: { methods: ['totp'] } }),
    response: { ok: true, activated: true, backup_codes: null, state: 'enabled' },
  },
  {
    name: 'the activation code cannot be replayed at login',
    request: check('totp.verify', enabled, enrolledCode, T0),
    response: { ok: true, accepted: false, reason: 'replayed' },
  },
  {
    name: 'activate without a pending enrollment',
    request: check('totp.activate', enabled, enrolledCode, T0, { entropy: ENTROPY }),
    response: err('no_pending_enrollment'),
  },
  {
    name: 're-enrolling (with a current code as proof) keeps the enabled factor in force until confirmed',
    request: reenrollReq,
    response: { ok: true, state: 'enabled', fresh: { accepted: true, method: 'totp', reason: null, retry_after: null }, record: { rev: 3, totp: { last_step: step0 + 2 }, pending_totp: { enabled_at: null } } },
  },
  {
    name: 're-enrolling without proof is refused: the authenticator cannot be replaced from a session alone',
    request: { ...enrollReq, record: enabled, time: T0 + 60 },
    response: err('fresh_factor_required'),
  },
  {
    name: 'cancel drops only the pending enrollment',
    request: { op: 'totp.cancel', record: ok(reenrollReq).record, time: T0 + 61 },
    response: { ok: true, state: 'enabled', record: { rev: 4, pending_totp: null } },
  },
  {
    name: 'disable needs a current code: wrong code keeps 2FA on',
    request: check('totp.disable', enabled, enrolledCode, T0),
    response: { ok: true, disabled: false, reason: 'replayed', state: 'enabled' },
  },
  {
    name: 'disable with a fresh code turns 2FA off',
    request: check('totp.disable', enabled, code(T0 + 30, enrolled.secret), T0 + 30),
    response: { ok: true, disabled: true, state: 'disabled', record: { totp: null, pending_totp: null } },
  },
  {
    name: 'export gives back the enrolled key as an otpauth URI',
    request: { op: 'totp.export', user: USER, keys: [K1], record: enabled },
    response: { ok: true, uri: enrolled.uri },
  },
  {
    name: 'import of a legacy 80-bit key as an enabled factor',
    request: { op: 'totp.import', user: USER, keys: [K1], entropy: ENTROPY, time: T0, uri: 'otpauth://totp/Old%20Plugin:alice?secret=JBSWY3DPEHPK3PXP' },
    response: { ok: true, state: 'enabled', record: { totp: { issuer: 'Old Plugin', account: 'alice', last_step: null, enabled_at: T0 } } },
  },
  {
    name: 'import does not silently overwrite an enabled factor',
    request: { op: 'totp.import', user: USER, keys: [K1], entropy: ENTROPY, time: T0, record: enabled, uri: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP' },
    response: err('already_enabled'),
  },
  {
    name: 'import with replace overwrites',
    request: { op: 'totp.import', user: USER, keys: [K1], entropy: ENTROPY, time: T0, record: enabled, replace: true, uri: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP' },
    response: { ok: true, state: 'enabled', record: { totp: { account: 'x' } } },
  },
];
write('totp-lifecycle.json', lifecycle);

// ---- otpauth URIs ----
const parse = (uri, response) => ({ name: `parse ${uri.slice(0, 80)}`, request: { op: 'otpauth.parse', uri }, response });
const otp = [
  parse('otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example', {
    ok: true, issuer: 'Example', account: 'alice@google.com', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30,
  }),
  parse('otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60', {
    ok: true, issuer: 'ACME Co', account: 'john.doe@email.com', secret: 'HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ', algorithm: 'SHA256', digits: 8, period: 60,
  }),
  parse('OTPAUTH://TOTP/j%C3%B6rg%40example.com?secret=jbsw%20y3dp%20ehpk%203pxp====&algorithm=sha512', {
    ok: true, issuer: null, account: 'jörg@example.com', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA512',
  }),
  parse('otpauth://totp/Example%3A%20alice?secret=JBSWY3DPEHPK3PXP&image=https%3A%2F%2Fexample.com%2Fa.png', {
    ok: true, issuer: 'Example', account: 'alice',
  }),
  parse('otpauth://totp/Mail:a%2Bb%3Ac?secret=JBSWY3DPEHPK3PXP#fragment', { ok: true, issuer: 'Mail', account: 'a+b:c' }),
  parse('https://example.com/?secret=JBSWY3DPEHPK3PXP', err('not_otpauth')),
  parse('otpauth:/totp/x?secret=JBSWY3DPEHPK3PXP', err('not_otpauth')),
  parse('otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=0', err('unsupported_type')),
  parse('otpauth://steam/x?secret=JBSWY3DPEHPK3PXP', err('unsupported_type')),
  parse('otpauth://totp/x?issuer=Example', err('missing_secret')),
  parse('otpauth://totp/x?secret=', err('missing_secret')),
  parse('otpauth://totp/x?secret=JBSWY3DPEHPK3PX1', err('bad_base32')),
  parse('otpauth://totp/x?secret=JBSWY3DP', err('secret_too_short')),
  parse('otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5', err('unsupported_algorithm')),
  parse('otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=5', err('unsupported_digits')),
  parse('otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=six', err('unsupported_digits')),
  parse('otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0', err('unsupported_period')),
  parse('otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=86400', err('unsupported_period')),
  parse('otpauth://totp/A:x?secret=JBSWY3DPEHPK3PXP&issuer=B', err('issuer_mismatch')),
  parse('otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP', err('duplicate_parameter')),
  parse('otpauth://totp/?secret=JBSWY3DPEHPK3PXP', err('invalid_label')),
  parse('otpauth://totp/%C3%28?secret=JBSWY3DPEHPK3PXP', err('invalid_label')),
  parse('otpauth://totp/a%0Ab?secret=JBSWY3DPEHPK3PXP', err('invalid_label')),
  { name: 'parse without uri', request: { op: 'otpauth.parse' }, response: err('missing_field') },
  { name: 'parse a number', request: { op: 'otpauth.parse', uri: 42 }, response: err('invalid_field') },
  {
    name: 'build escapes Unicode, spaces, +, : and @',
    request: { op: 'otpauth.build', issuer: 'Mail & Co+', account: 'jörg test@example.com', secret: 'jbswy3dpehpk3pxp' },
    response: { ok: true, uri: 'otpauth://totp/Mail%20%26%20Co%2B:j%C3%B6rg%20test%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Mail%20%26%20Co%2B&algorithm=SHA1&digits=6&period=30' },
  },
  {
    name: 'build without issuer has a bare label',
    request: { op: 'otpauth.build', account: 'bob', secret: SHA1_SEED, algorithm: 'SHA512', digits: 8, period: 60 },
    response: { ok: true, uri: `otpauth://totp/bob?secret=${SHA1_SEED}&algorithm=SHA512&digits=8&period=60` },
  },
  { name: 'build refuses an issuer with a colon', request: { op: 'otpauth.build', issuer: 'a:b', account: 'x', secret: SHA1_SEED }, response: err('invalid_label') },
  { name: 'build refuses an empty account', request: { op: 'otpauth.build', account: '', secret: SHA1_SEED }, response: err('invalid_label') },
  { name: 'build refuses bad base32', request: { op: 'otpauth.build', account: 'x', secret: '0000' }, response: err('bad_base32') },
  { name: 'build refuses a 40-bit secret', request: { op: 'otpauth.build', account: 'x', secret: 'JBSWY3DP' }, response: err('secret_too_short') },
  { name: 'build refuses period 10', request: { op: 'otpauth.build', account: 'x', secret: SHA1_SEED, period: 10 }, response: err('unsupported_period') },
];
write('otpauth.json', otp);

// ---- Records ----
const opened = ok({ op: 'record.open', user: USER, keys: [K1], record: fresh });
const rotated = ok({ op: 'record.rotate_key', user: USER, keys: [K2, K1], entropy: ENTROPY, time: T0, record: fresh });
const records = [
  { name: 'new record is disabled', request: { op: 'record.new', time: T0 }, response: { ok: true, record: { format: 1, rev: 0, created_at: T0, updated_at: T0, totp: null, pending_totp: null } } },
  {
    name: 'status of an enabled record',
    request: { op: 'record.status', user: USER, keys: [K1], record: fresh },
    response: { ok: true, state: 'enabled', rev: 3, pending: false, key_ids: ['k1'], needs_rotation: false, totp: { algorithm: 'SHA1', digits: 6, period: 30, last_step: null } },
  },
  { name: 'status fails closed for a wrong key', request: { op: 'record.status', user: USER, keys: [{ id: 'k1', key: K2.key }], record: fresh }, response: err('decrypt_failed') },
  { name: 'status with a new current key asks for rotation', request: { op: 'record.status', user: USER, keys: [K2, K1], record: fresh }, response: { ok: true, needs_rotation: true } },
  { name: 'open reveals the secret for export', request: { op: 'record.open', user: USER, keys: [K1], record: fresh }, response: { ok: true, state: 'enabled', plain: { totp: { secret: SHA1_SEED } } } },
  { name: 'seal is the inverse of open', request: { op: 'record.seal', user: USER, keys: [K1], entropy: ENTROPY, plain: opened.plain }, response: { ok: true, record: fresh } },
  { name: 'rotate re-seals under the first key', request: { op: 'record.rotate_key', user: USER, keys: [K2, K1], entropy: ENTROPY, time: T0, record: fresh }, response: { ok: true, resealed: 1, record: { rev: 4, totp: { secret: { kid: 'k2' } } } } },
  { name: 'a rotated record opens with the new key alone', request: check('totp.verify', rotated.record, code(T0), T0, { keys: [K2] }), response: { ok: true, accepted: true } },
  { name: 'rotating an up-to-date record changes nothing', request: { op: 'record.rotate_key', user: USER, keys: [K1], entropy: ENTROPY, time: T0, record: fresh }, response: { ok: true, resealed: 0, record: { rev: 3 } } },
  { name: 'unknown record format', request: { op: 'record.status', user: USER, keys: [K1], record: { ...fresh, format: 2 } }, response: err('unsupported_format') },
  { name: 'record that is not an object', request: { op: 'record.status', user: USER, keys: [K1], record: 'enabled' }, response: err('invalid_record') },
  { name: 'record with a wrongly typed field', request: { op: 'record.status', user: USER, keys: [K1], record: { ...fresh, totp: { ...fresh.totp, last_step: 'x' } } }, response: err('invalid_record') },
  { name: 'unknown fields of a newer core survive', request: { op: 'totp.cancel', time: T0, record: { ...fresh, added_later: [1, 2] } }, response: { ok: true, record: { added_later: [1, 2] } } },
  { name: 'seal refuses a bad plain secret', request: { op: 'record.seal', user: USER, keys: [K1], entropy: ENTROPY, plain: { ...opened.plain, totp: { ...opened.plain.totp, secret: '!!' } } }, response: err('bad_base32') },
];
write('record.json', records);

// ---- Request-level errors ----
const errors = [
  { name: 'ops lists every op', request: { op: 'ops' }, response: { ok: true } },
  { name: 'version', request: { op: 'version' }, response: { ok: true, record_format: 1 } },
  { name: 'missing op', request: {}, response: err('missing_field') },
  { name: 'op of the wrong type', request: { op: 1 }, response: err('invalid_field') },
  { name: 'unknown op', request: { op: 'totp.generate' }, response: err('unknown_op') },
  { name: 'totp.code without secret', request: { op: 'totp.code', time: 1 }, response: err('missing_field') },
  { name: 'totp.code without time', request: { op: 'totp.code', secret: SHA1_SEED }, response: err('missing_field') },
  { name: 'totp.code negative time', request: { op: 'totp.code', secret: SHA1_SEED, time: -5 }, response: err('invalid_field') },
  { name: 'totp.code fractional time', request: { op: 'totp.code', secret: SHA1_SEED, time: 1.5 }, response: err('invalid_field') },
  { name: 'totp.code time as string', request: { op: 'totp.code', secret: SHA1_SEED, time: '59' }, response: err('invalid_field') },
  { name: 'totp.code bad base32', request: { op: 'totp.code', secret: 'not base32!', time: 1 }, response: err('bad_base32') },
  { name: 'totp.code MD5', request: { op: 'totp.code', secret: SHA1_SEED, time: 1, algorithm: 'MD5' }, response: err('unsupported_algorithm') },
  { name: 'totp.code 5 digits', request: { op: 'totp.code', secret: SHA1_SEED, time: 1, digits: 5 }, response: err('unsupported_digits') },
  { name: 'totp.code 300-digit overflow', request: { op: 'totp.code', secret: SHA1_SEED, time: 1, digits: 300 }, response: err('unsupported_digits') },
  { name: 'totp.code period 0', request: { op: 'totp.code', secret: SHA1_SEED, time: 1, period: 0 }, response: err('unsupported_period') },
  { name: 'enroll without keys', request: { ...enrollReq, keys: undefined }, response: err('missing_field') },
  { name: 'enroll with empty keyring', request: { ...enrollReq, keys: [] }, response: err('invalid_key') },
  { name: 'enroll with a 16-byte key', request: { ...enrollReq, keys: [{ id: 'k1', key: 'AAAAAAAAAAAAAAAAAAAAAA==' }] }, response: err('invalid_key') },
  { name: 'enroll with a key that is not base64', request: { ...enrollReq, keys: [{ id: 'k1', key: '***' }] }, response: err('bad_base64') },
  { name: 'enroll with a duplicate key id', request: { ...enrollReq, keys: [K1, { id: 'k1', key: K2.key }] }, response: err('invalid_key') },
  { name: 'enroll with a key id containing a space', request: { ...enrollReq, keys: [{ id: 'k 1', key: K1.key }] }, response: err('invalid_key') },
  { name: 'enroll without entropy', request: { ...enrollReq, entropy: undefined }, response: err('missing_field') },
  { name: 'enroll with an empty user', request: { ...enrollReq, user: '' }, response: err('invalid_field') },
  { name: 'enroll with a user over 512 bytes', request: { ...enrollReq, user: 'u'.repeat(513) }, response: err('invalid_field') },
  { name: 'enroll with keys as an object', request: { ...enrollReq, keys: K1 }, response: err('invalid_field') },
];
write('errors.json', errors.map((c) => ({ ...c, request: JSON.parse(JSON.stringify(c.request)) })));
console.log('wrote vectors');
