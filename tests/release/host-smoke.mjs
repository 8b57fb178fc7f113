// Smoke test of a prebuilt host library as shipped in the release: the C driver
// (host-smoke.c, built for the library's architecture) loads it, opens the module through
// the C entry points and answers every TOTP case of the conformance vectors
// (tests/vectors/totp-*.json); each response must contain the expected one. For aarch64
// the driver runs under qemu-user with Debian's arm64 cross libc (/usr/aarch64-linux-gnu).
//
//   node tests/release/host-smoke.mjs DRIVER LIBRARY WASM [--qemu aarch64]
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { VECTORS_DIR, subsetMismatch } from '../node/vectors.mjs';

const args = process.argv.slice(2);
const qemuAt = args.indexOf('--qemu');
const arch = qemuAt >= 0 ? args.splice(qemuAt, 2)[1] : null;
const [driver, library, wasm] = args;
if (!driver || !library || !wasm) {
  console.error('usage: host-smoke.mjs DRIVER LIBRARY WASM [--qemu aarch64]');
  process.exit(2);
}

const cases = [];
for (const f of readdirSync(VECTORS_DIR).filter((n) => /^totp-.*\.json$/.test(n)).sort()) {
  for (const c of JSON.parse(readFileSync(`${VECTORS_DIR}/${f}`, 'utf8'))) cases.push({ file: f, ...c });
}
if (cases.length === 0) {
  console.error('host-smoke: no TOTP vectors found');
  process.exit(1);
}
const input = cases.map((c) => JSON.stringify(c.request)).join('\n') + '\n';
const [cmd, cmdArgs] = arch
  ? [`qemu-${arch}`, ['-L', `/usr/${arch}-linux-gnu`, driver, library, wasm]]
  : [driver, [library, wasm]];
const t0 = Date.now();
const r = spawnSync(cmd, cmdArgs, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (r.status !== 0) {
  console.error(`host-smoke: ${cmd} exited ${r.status ?? r.signal}: ${r.stderr}`);
  process.exit(1);
}
const lines = r.stdout.split('\n').filter((l) => l !== '');
const pinned = lines.shift();
const sha = createHash('sha256').update(readFileSync(wasm)).digest('hex');
let failed = 0;
if (pinned !== sha) {
  console.error(`host-smoke: the library pins ${pinned}, the module is ${sha}`);
  failed++;
}
if (lines.length !== cases.length) {
  console.error(`host-smoke: ${lines.length} responses for ${cases.length} requests`);
  process.exit(1);
}
cases.forEach((c, i) => {
  const mismatch = subsetMismatch(c.response, JSON.parse(lines[i]));
  if (mismatch) {
    failed++;
    console.error(`host-smoke: ${c.file} "${c.name}": differs at ${mismatch}: ${lines[i]}`);
  }
});
const where = arch ? `${arch} under qemu-${arch}` : process.arch;
if (failed) {
  console.error(`host-smoke: ${failed} of ${cases.length} TOTP vectors failed (${where})`);
  process.exit(1);
}
console.log(`host-smoke: ${library} (${where}): module ${sha.slice(0, 12)}… opened, ${cases.length} TOTP vectors pass in ${Date.now() - t0} ms`);
