// Copies the one build artifact (../dist/mail2fa.wasm, byte for byte) and its wasm-bindgen
// glue into the package. Run by `npm install` in the repo (prepare) and before `npm pack`.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const GLUE_DEFAULT_URL = "new URL('mail2fa_bg.wasm', import.meta.url)";
const PACKAGE_WASM_URL = "new URL('../mail2fa.wasm', import.meta.url)";

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
// The glue's own fallback URL names wasm-bindgen's default file name, which this package
// does not ship; point it at the package's mail2fa.wasm so bundlers that scan
// `new URL(..., import.meta.url)` (Vite, webpack, Rollup) find one real file and warn of none.
const glue = readFileSync(`${dist}mail2fa.js`, 'utf8');
const parts = glue.split(GLUE_DEFAULT_URL);
if (parts.length !== 2) {
  console.error(`mail2fa: expected the glue to contain ${GLUE_DEFAULT_URL} exactly once`);
  process.exit(1);
}
writeFileSync(`${pkg}glue/mail2fa.js`, parts.join(PACKAGE_WASM_URL));
console.log(`mail2fa: copied mail2fa.wasm (${wasm.length} bytes, sha256 ${actual}) and its glue`);
