// Benchmark (not a test): one login check at the edge of the npm package, BEFORE and AFTER
// side by side in one Node process, against otpauth's TOTP.validate plus a replay check in a
// Map (issue 13 item 8). Every contestant accepts every call: each call is the next 30 s
// step with that step's code (codes made beforehand), and the record each call returns is
// the one the next call reads, as a real login would.
//
//   node bench/boundary.mjs [--before=DIR]
//
// DIR (default /tmp/before) is a checkout of the earlier commit with its module built and
// copied into its package (`git worktree add /tmp/before <commit>`, then in it `make wasm`
// and `node plugins-js/scripts/copy-dist.mjs`, and link this tree's node_modules into it for
// better-sqlite3); without it only this tree is measured.
// Run from the repo root after `npm ci` and `make wasm`.
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import * as OTPAuth from 'otpauth';

const here = fileURLToPath(new URL('..', import.meta.url));
const beforeArg = process.argv.find((a) => a.startsWith('--before='));
const beforeDir = beforeArg ? beforeArg.slice('--before='.length) : '/tmp/before';
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const KEYS = [{ id: 'k1', key: Buffer.alloc(32, 7).toString('base64') }];
const T0 = 1_800_000_010; // seconds
const BATCH = 500;
const BATCHES = 21;
const CALLS = BATCH * (BATCHES + 2);
const otp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(SECRET), algorithm: 'SHA1', digits: 6, period: 30 });
// The code of step T0/30 + i, for every call any contestant makes.
const codes = Array.from({ length: CALLS + 1 }, (_, i) => otp.generate({ timestamp: (T0 + 30 * i) * 1000 }));

function describe(dir) {
  const wasm = readFileSync(`${dir}/dist/mail2fa.wasm`);
  let commit = '';
  try {
    commit = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    commit = '?';
  }
  return { commit, raw: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length };
}

/** The contestants of one checkout: fresh state each, a step counter each. */
async function contestants(label, dir) {
  const m = await import(pathToFileURL(`${dir}/plugins-js/node.js`).href);
  await m.init();
  const uri = m.otpauthBuild({ account: 'bench', secret: SECRET }).uri;
  const fresh = () => m.totpImport({ user: 'bench', keys: KEYS, uri, time: T0 - 100, entropy: Buffer.alloc(32, 9).toString('base64') }).record;

  let record = fresh();
  let i = 0;
  const decide = () => {
    i++;
    const d = m.loginDecide({ user: 'bench', keys: KEYS, record, time: T0 + 30 * i, window: 1, factor: { type: 'totp', value: codes[i] } });
    record = d.record;
    return d.verdict === 'ok';
  };

  const storage = new m.MemoryStorage();
  const clock = { s: T0 };
  const mfa = new m.Mail2fa({ keys: KEYS, storage, now: () => clock.s * 1000 });
  await storage.compareAndSet('bench', null, fresh());
  let j = 0;
  const verify = async () => {
    j++;
    clock.s = T0 + 30 * j;
    return (await mfa.verifyLogin('bench', codes[j])).ok;
  };
  // The reference SQLite storage on an in-memory database (better-sqlite3).
  const { SqliteStorage } = await import(pathToFileURL(`${dir}/plugins-js/sqlite.js`).href);
  const sqlite = new SqliteStorage(':memory:');
  const sqlClock = { s: T0 };
  const sqlMfa = new m.Mail2fa({ keys: KEYS, storage: sqlite, now: () => sqlClock.s * 1000 });
  await sqlite.compareAndSet('bench', null, fresh());
  let q = 0;
  const verifySql = async () => {
    q++;
    sqlClock.s = T0 + 30 * q;
    return (await sqlMfa.verifyLogin('bench', codes[q])).ok;
  };
  return {
    [`${label}: loginDecide on a stored record`]: decide,
    [`${label}: Mail2fa.verifyLogin (MemoryStorage)`]: verify,
    [`${label}: Mail2fa.verifyLogin (SqliteStorage, :memory:)`]: verifySql,
  };
}

function baseline() {
  const lastStep = new Map();
  let i = 0;
  return {
    'otpauth TOTP.validate + replay check in a Map': () => {
      i++;
      const now = T0 + 30 * i;
      const delta = otp.validate({ token: codes[i], timestamp: now * 1000, window: 1 });
      if (delta === null) return false;
      const step = Math.floor(now / 30) + delta;
      const last = lastStep.get('bench');
      if (last !== undefined && step <= last) return false;
      lastStep.set('bench', step);
      return true;
    },
  };
}

const all = { ...baseline() };
const sides = [];
if (existsSync(`${beforeDir}/plugins-js/node.js`) && existsSync(`${beforeDir}/dist/mail2fa.wasm`)) {
  sides.push(['before', beforeDir]);
}
sides.push(['after', here]);
for (const [label, dir] of sides) Object.assign(all, await contestants(label, dir));

// Round-robin batches so that load from other processes hits every contestant alike.
const samples = Object.fromEntries(Object.keys(all).map((name) => [name, []]));
for (let b = 0; b < BATCHES + 1; b++) {
  for (const [name, fn] of Object.entries(all)) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < BATCH; k++) {
      if ((await fn()) !== true) throw new Error(`${name} refused a right code`);
    }
    if (b > 0) samples[name].push(Number(process.hrtime.bigint() - start) / 1e3 / BATCH); // batch 0: warm-up
  }
}
const stats = (s) => {
  s.sort((x, y) => x - y);
  return { min: s[0], median: s[s.length >> 1] };
};
const ref = stats(samples['otpauth TOTP.validate + replay check in a Map']).median;

const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`machine: ${os.cpus().length}× ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${load}`);
for (const [label, dir] of sides) {
  const d = describe(dir);
  console.log(`${label}: ${dir} (commit ${d.commit}), mail2fa.wasm ${d.raw} bytes raw / ${d.gzip} gzip -9`);
}
console.log(`${BATCHES} batches × ${BATCH} calls per contestant, interleaved; every call accepted\n`);
console.log('| one login check | µs/call median batch | µs/call min batch | × otpauth + Map (median) |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, s] of Object.entries(samples)) {
  const { min, median } = stats(s);
  console.log(`| ${name} | ${median.toFixed(2)} | ${min.toFixed(2)} | ${(median / ref).toFixed(2)} |`);
}
