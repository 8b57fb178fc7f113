// The cost of one login check in WebAssembly (dist/mail2fa.wasm through the raw C ABI,
// as the PHP host runs it): `node bench/login-cost.mjs` after `make wasm`.
// The native numbers come from `cargo bench -p mail2fa-core --bench login_cost`.
import { loadRawAbi } from '../tests/node/raw-abi.mjs';

const abi = await loadRawAbi();
const USER = 'alice@example.com';
const T0 = 1700000000;
const keys = [{ id: 'k1', key: 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=' }];
const entropy = (i) => Buffer.alloc(32, i).toString('base64');
const ok = (req) => {
  const r = abi.call(req);
  if (!r.ok) throw new Error(`${req.op}: ${JSON.stringify(r.error)}`);
  return r;
};
const time = (runs, f) => {
  f();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    f();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return [samples[samples.length >> 1], samples[0]];
};

const SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
// The login checks run after the setup's steps (security changes need a fresh factor each).
const T_LOGIN = T0 + 30 * 12;
const proof = (time) => ({ method: 'totp', code: ok({ op: 'totp.code', secret: SEED, time }).code });
const enabled = ok({ op: 'import.gauthenticator', user: USER, keys, entropy: entropy(1), time: T0, prefs: { secret: SEED, activate: true } }).record;
const gen = ok({ op: 'backup.generate', user: USER, keys, entropy: entropy(2), time: T0, record: enabled, proof: proof(T0) });
let withApps = gen.record;
let lastPassword = '';
for (let i = 0; i < 10; i++) {
  const time = T0 + 30 * (i + 1);
  const r = ok({ op: 'app_password.create', user: USER, keys, entropy: entropy(10 + i), time, label: `client ${i}`, record: withApps, proof: proof(time) });
  withApps = r.record;
  lastPassword = r.password;
}
const decide = (factor) => ({ op: 'login.decide', user: USER, keys, time: T_LOGIN, record: gen.record, factor });
const code = ok({ op: 'totp.code', secret: SEED, time: T_LOGIN }).code;
const expect = (req, field, value) => () => {
  const r = abi.call(req);
  if (r[field] !== value) throw new Error(`${req.op}: ${field} = ${r[field]}`);
};
const rows = [
  ['login.decide, TOTP code (reference)', time(200, expect(decide({ type: 'totp', value: code }), 'verdict', 'ok'))],
  ['login.decide, 10 backup codes, right code (last of 10)', time(200, expect(decide({ type: 'backup_code', value: gen.codes[9] }), 'verdict', 'ok'))],
  ['login.decide, 10 backup codes, wrong code (all 10 compared)', time(200, expect(decide({ type: 'backup_code', value: 'zzzzz-zzzzz' }), 'verdict', 'wrong'))],
  ['app_password.verify, 10 app passwords, right one (last of 10)', time(5, expect({ op: 'app_password.verify', record: withApps, password: lastPassword, time: T_LOGIN }, 'valid', true))],
  ['app_password.verify, 10 app passwords, wrong one (tags filter)', time(20, expect({ op: 'app_password.verify', record: withApps, password: 'abcd-efgh-ijkl-mnop-qrst', time: T_LOGIN }, 'valid', false))],
  // Without tags every entry is hashed: the cost Argon2id per backup code would have.
  ['app_password.verify, 10 untagged, wrong one (all 10 hashed = Argon2id per backup code)', time(3, expect({ op: 'app_password.verify', record: { ...withApps, app_passwords: withApps.app_passwords.map(({ tag, ...rest }) => rest) }, password: 'abcd-efgh-ijkl-mnop-qrst', time: T_LOGIN }, 'valid', false))],
  ['one Argon2id m=19456 t=2 p=1 (phc.verify)', time(10, expect({ op: 'phc.verify', phc: withApps.app_passwords[0].phc, password: 'x' }, 'valid', false))],
];
console.log(`node ${process.version}, dist/mail2fa.wasm`);
console.log('| check | median ms | min ms |');
console.log('| --- | --- | --- |');
for (const [name, [median, min]] of rows) console.log(`| ${name} | ${median.toFixed(3)} | ${min.toFixed(3)} |`);
