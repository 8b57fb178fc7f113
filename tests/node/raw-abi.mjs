// Loads dist/mail2fa.wasm through the host-neutral C ABI only, as a non-JS host would:
// every import of the module (the wasm-bindgen glue's) is defined as a trap, so a
// request that reached one would fail loudly.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const WASM_PATH = fileURLToPath(new URL('../../dist/mail2fa.wasm', import.meta.url));

export async function loadRawAbi(path = WASM_PATH) {
  const module = await WebAssembly.compile(await readFile(path));
  const imports = {};
  for (const { module: name, name: field, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== 'function') {
      throw new Error(`unexpected ${kind} import ${name}.${field}`);
    }
    imports[name] ??= {};
    imports[name][field] = () => {
      throw new Error(`raw ABI reached JS import ${name}.${field}`);
    };
  }
  const { exports } = await WebAssembly.instantiate(module, imports);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });

  /** Sends raw request bytes, returns the parsed response. */
  function callBytes(bytes) {
    const ptr = bytes.length ? exports.mail2fa_alloc(bytes.length) : 0;
    if (bytes.length && ptr === 0) throw new Error('mail2fa_alloc refused the request size');
    new Uint8Array(exports.memory.buffer, ptr, bytes.length).set(bytes);
    const packed = exports.mail2fa_call(ptr, bytes.length);
    const outPtr = Number(BigInt.asUintN(64, packed) >> 32n);
    const outLen = Number(BigInt.asUintN(64, packed) & 0xffffffffn);
    const text = decoder.decode(new Uint8Array(exports.memory.buffer, outPtr, outLen).slice());
    exports.mail2fa_free(outPtr, outLen);
    if (ptr) exports.mail2fa_free(ptr, bytes.length);
    return JSON.parse(text);
  }

  return {
    exports,
    callBytes,
    call: (request) => callBytes(encoder.encode(JSON.stringify(request))),
  };
}
