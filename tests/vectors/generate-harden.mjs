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
