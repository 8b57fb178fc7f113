// Node entry (`import ... from 'mail2fa'` under Node): the module is read from this
// package's own mail2fa.wasm. `init()` is optional here: the first call loads it synchronously.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { webcrypto } from 'node:crypto';
import { configureLoader } from './lib/loader.js';

const WASM_URL = new URL('./mail2fa.wasm', import.meta.url);

configureLoader({
  input: () => readFile(WASM_URL),
  sync: () => readFileSync(WASM_URL),
  random: webcrypto,
});

export * from './lib/api.js';
export * from './lib/server.js';
