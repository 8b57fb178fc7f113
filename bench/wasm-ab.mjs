// A/B of login.decide through the raw C ABI of several module builds, interleaved in one
// process (batches round-robin, so load from other processes hits each alike):
//   node bench/wasm-ab.mjs a.wasm b.wasm ...
import { loadRawAbi } from '../tests/node/raw-abi.mjs';

const KEYS = [{ id: 'k1', key: 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=' }];
const SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const T0 = 1700000000;
const contestants = [];
for (const path of process.argv.slice(2)) {
  const abi = await loadRawAbi(path);
  const rec = abi.call({ op: 'import.gauthenticator', user: 'alice@example.com', keys: KEYS, time: T0, entropy: Buffer.alloc(32, 1).toString('base64'), prefs: { secret: SEED, activate: true } }).record;
  const time = T0 + 300;
  const code = abi.call({ op: 'totp.code', secret: SEED, time }).code;
  const bytes = new TextEncoder().encode(`{"record":${JSON.stringify(rec)},"user":"alice@example.com","keys":${JSON.stringify(KEYS)},"time":${time},"window":1,"factor":{"type":"totp","value":"${code}"},"op":"login.decide"}`);
  if (abi.callBytes(bytes).verdict !== 'ok') throw new Error(`${path}: not accepted`);
  const { exports } = abi;
  const once = () => {
    const ptr = exports.mail2fa_alloc(bytes.length);
    new Uint8Array(exports.memory.buffer, ptr, bytes.length).set(bytes);
    const packed = BigInt.asUintN(64, exports.mail2fa_call(ptr, bytes.length));
    exports.mail2fa_free(Number(packed >> 32n), Number(packed & 0xffffffffn));
    exports.mail2fa_free(ptr, bytes.length);
  };
  contestants.push({ path, once, samples: [] });
}
const BATCH = 2000;
for (let b = 0; b < 31; b++) {
  for (const c of contestants) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) c.once();
    if (b > 0) c.samples.push(Number(process.hrtime.bigint() - t) / 1e3 / BATCH);
  }
}
for (const c of contestants) {
  c.samples.sort((x, y) => x - y);
  console.log(`${c.samples[c.samples.length >> 1].toFixed(2)} µs median, ${c.samples[0].toFixed(2)} min  ${c.path}`);
}
