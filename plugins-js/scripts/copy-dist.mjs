// Copies the one build artifact (../dist/mail2fa.wasm, byte for byte) and its wasm-bindgen
// glue into the package. Run by `npm install` in the repo (prepare) and before `npm pack`.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('../', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/', import.meta.url));

if (!existsSync(`${dist}mail2fa.wasm`)) {
  // A fresh clone runs `npm ci` before `make wasm`; the Makefile copies again after building.
  console.warn('mail2fa: ../dist/mail2fa.wasm is not built yet (run `make wasm`); nothing copied');
  process.exit(0);
}

const wasm = readFileSync(`${dist}mail2fa.wasm`);
const expected = readFileSync(`${dist}mail2fa.wasm.sha256`, 'utf8').split(/\s+/)[0];
const actual = createHash('sha256').update(wasm).digest('hex');
if (actual !== expected) {
  console.error(`mail2fa: dist/mail2fa.wasm has sha256 ${actual}, dist/mail2fa.wasm.sha256 says ${expected}`);
  process.exit(1);
}
mkdirSync(`${pkg}glue`, { recursive: true });
copyFileSync(`${dist}mail2fa.wasm`, `${pkg}mail2fa.wasm`);
copyFileSync(`${dist}mail2fa.wasm.sha256`, `${pkg}mail2fa.wasm.sha256`);
copyFileSync(`${dist}mail2fa.js`, `${pkg}glue/mail2fa.js`);
console.log(`mail2fa: copied mail2fa.wasm (${wasm.length} bytes, sha256 ${actual}) and its glue`);
