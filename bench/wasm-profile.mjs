// Where one login.decide spends its time in WebAssembly under V8: runs the raw C ABI of
// an unstripped module (cargo's own output, which keeps the function names) in a loop
// under V8's sampling profiler and sums the time of the functions by stage.
//
//   node bench/wasm-profile.mjs [module.wasm]   (default target/wasm32-unknown-unknown/release/mail2fa_wasm.wasm)
import { Session } from 'node:inspector/promises';
import { loadRawAbi } from '../tests/node/raw-abi.mjs';

const path = process.argv[2] ?? new URL('../target/wasm32-unknown-unknown/release/mail2fa_wasm.wasm', import.meta.url).pathname;
const abi = await loadRawAbi(path);
const KEYS = [{ id: 'k1', key: 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=' }];
const SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const T0 = 1700000000;
const rec = abi.call({ op: 'import.gauthenticator', user: 'alice@example.com', keys: KEYS, time: T0, entropy: Buffer.alloc(32, 1).toString('base64'), prefs: { secret: SEED, activate: true } }).record;
const time = T0 + 300;
const code = abi.call({ op: 'totp.code', secret: SEED, time }).code;
const text = `{"record":${JSON.stringify(rec)},"user":"alice@example.com","keys":${JSON.stringify(KEYS)},"time":${time},"window":1,"factor":{"type":"totp","value":"${code}"},"op":"login.decide"}`;
const bytes = new TextEncoder().encode(text);
const { exports } = abi;
const once = () => {
  const ptr = exports.mail2fa_alloc(bytes.length);
  new Uint8Array(exports.memory.buffer, ptr, bytes.length).set(bytes);
  const packed = BigInt.asUintN(64, exports.mail2fa_call(ptr, bytes.length));
  exports.mail2fa_free(Number(packed >> 32n), Number(packed & 0xffffffffn));
  exports.mail2fa_free(ptr, bytes.length);
};
if (!JSON.stringify(abi.callBytes(bytes)).includes('"verdict":"ok"')) throw new Error('not accepted');
for (let i = 0; i < 20000; i++) once();
const N = 40000;
const batches = [];
for (let b = 0; b < 15; b++) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < 4000; i++) once();
  batches.push(Number(process.hrtime.bigint() - t) / 1e3 / 4000);
}
batches.sort((x, y) => x - y);
console.log(`login.decide raw ABI: ${batches[7].toFixed(2)} µs/call median batch, ${batches[0].toFixed(2)} min batch`);

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
await session.post('Profiler.start');
for (let i = 0; i < N; i++) once();
const { profile } = await session.post('Profiler.stop');
// Inclusive time per function name (each name counted once per stack), self time too.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const inclusive = new Map();
const self = new Map();
let total = 0;
for (const [id, count] of hits) {
  total += count;
  const seen = new Set();
  let cur = id;
  const leaf = byId.get(id).callFrame.functionName || '(anon)';
  self.set(leaf, (self.get(leaf) ?? 0) + count);
  while (cur !== undefined) {
    const name = byId.get(cur).callFrame.functionName || '(anon)';
    if (!seen.has(name)) {
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + count);
    }
    cur = parent.get(cur);
  }
}
const show = (map, title, limit) => {
  console.log(`\n${title}`);
  for (const [name, c] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    console.log(`${((100 * c) / total).toFixed(1).padStart(5)} %  ${name.slice(0, 150)}`);
  }
};
show(inclusive, 'inclusive', Number(process.env.TOP ?? 70));
show(self, 'self', 30);
