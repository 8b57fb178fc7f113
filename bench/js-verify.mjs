// Benchmark (not a test): verifying one TOTP code, µs per call, mail2fa vs the npm packages
// otpauth and otplib in the same process, same 160-bit secret, SHA1, 6 digits, 30 s, a window
// of ±1 step, the code of the current step; plus the module's init time in fresh processes.
//   node bench/js-verify.mjs            (from the repo root, after npm ci and make wasm)
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import * as OTPAuth from 'otpauth';
import { verifySync as otplibVerifySync } from 'otplib';
import * as mail2fa from 'mail2fa';

const SECRET_160 = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'; // 32 base32 characters: 160 bits
const NOW = 1_800_000_015; // seconds
const KEYS = [{ id: 'k1', key: Buffer.alloc(32, 7).toString('base64') }];
const ENTROPY = Buffer.alloc(32, 9).toString('base64');
const BATCH = 2_000;
const BATCHES = 21;

/**
 * µs per call of each contestant: batches of BATCH calls, round-robin across contestants so
 * that load from other processes hits all of them alike; the minimum and the median batch.
 */
function measureAll(contestants) {
  const samples = new Map(Object.keys(contestants).map((name) => [name, []]));
  for (const fn of Object.values(contestants)) for (let i = 0; i < BATCH; i++) fn(); // warm-up
  for (let b = 0; b < BATCHES; b++) {
    for (const [name, fn] of Object.entries(contestants)) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < BATCH; i++) fn();
      samples.get(name).push(Number(process.hrtime.bigint() - start) / 1e3 / BATCH);
    }
  }
  return Object.fromEntries([...samples].map(([name, s]) => {
    s.sort((x, y) => x - y);
    return [name, { min: s[0], median: s[Math.floor(s.length / 2)] }];
  }));
}

function initTimes(runs = 7) {
  const script = `
    const t0 = performance.now();
    const m = await import('mail2fa');
    const t1 = performance.now();
    await m.init();
    const t2 = performance.now();
    m.totpCode({ secret: '${SECRET_160}', time: 59 });
    const t3 = performance.now();
    console.log(JSON.stringify({ importMs: t1 - t0, initMs: t2 - t1, firstCallMs: t3 - t2 }));`;
  const rows = [];
  for (let i = 0; i < runs; i++) {
    rows.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })));
  }
  const median = (key) => rows.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs / 2)];
  return { importMs: median('importMs'), initMs: median('initMs'), firstCallMs: median('firstCallMs') };
}

await mail2fa.init();
const code = mail2fa.totpCode({ secret: SECRET_160, time: NOW }).code;
const uri = mail2fa.otpauthBuild({ account: 'bench', secret: SECRET_160 }).uri;
const { record } = mail2fa.totpImport({ user: 'bench', keys: KEYS, uri, time: NOW - 100, entropy: ENTROPY });

// Every contestant must accept the same code, or the comparison means nothing.
const otpauthTotp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(SECRET_160), algorithm: 'SHA1', digits: 6, period: 30 });
const checks = {
  'mail2fa totpVerify (full op: open sealed record, 3 steps, new record)': () =>
    mail2fa.totpVerify({ user: 'bench', keys: KEYS, record, code, time: NOW, window: 1 }).accepted,
  'mail2fa loginDecide (what Mail2fa.verifyLogin runs: + policy, limiter)': () =>
    mail2fa.loginDecide({ user: 'bench', keys: KEYS, record, time: NOW, window: 1, factor: { type: 'totp', value: code } }).verdict === 'ok',
  'mail2fa call({op: "totp.verify"})': () =>
    mail2fa.call({ op: 'totp.verify', user: 'bench', keys: KEYS, record, code, time: NOW, window: 1 }).accepted,
  'mail2fa totpCode (one HMAC, no record; lower bound of a call)': () =>
    mail2fa.totpCode({ secret: SECRET_160, time: NOW }).code === code,
  'otpauth TOTP.validate': () => otpauthTotp.validate({ token: code, timestamp: NOW * 1000, window: 1 }) === 0,
  'otplib verifySync': () =>
    otplibVerifySync({ secret: SECRET_160, token: code, epoch: NOW, epochTolerance: 30 }).valid,
};
for (const [name, fn] of Object.entries(checks)) {
  if (fn() !== true) throw new Error(`${name} did not accept the code`);
}

const results = measureAll(checks);
const reference = (key) => Math.min(results['otpauth TOTP.validate'][key], results['otplib verifySync'][key]);
const init = initTimes();

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${os.platform()} ${os.release()}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`mail2fa ${mail2fa.version().version}; ${BATCHES} batches × ${BATCH} calls per contestant, interleaved\n`);
console.log('| verify one code | µs/call (min batch) | µs/call (median batch) | ratio to the faster of otpauth/otplib (median) |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, { min, median }] of Object.entries(results)) {
  console.log(`| ${name} | ${min.toFixed(2)} | ${median.toFixed(2)} | ${(median / reference('median')).toFixed(2)} |`);
}
console.log(`\n| module init (fresh process, median of 7) | ms |\n| --- | ---: |`);
console.log(`| import 'mail2fa' (Node entry + glue) | ${init.importMs.toFixed(2)} |`);
console.log(`| await init() (read mail2fa.wasm, compile, instantiate) | ${init.initMs.toFixed(2)} |`);
console.log(`| first call (totpCode) | ${init.firstCallMs.toFixed(2)} |`);
