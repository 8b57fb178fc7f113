// The package as shipped: the module bytes are the build artifact unchanged, the exports
// map resolves, and the hand-written declarations name exactly the runtime exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as nodeEntry from 'mail2fa';

const pkgDir = new URL('../', import.meta.url);
const read = (rel, base = pkgDir) => readFileSync(new URL(rel, base));

test('mail2fa.wasm is dist/mail2fa.wasm unchanged (sha256 of the build)', () => {
  const expected = read('../dist/mail2fa.wasm.sha256', pkgDir).toString().split(/\s+/)[0];
  assert.match(expected, /^[0-9a-f]{64}$/);
  const actual = createHash('sha256').update(read('mail2fa.wasm')).digest('hex');
  assert.equal(actual, expected);
  // The glue is the built one, its fallback URL pointed at the shipped file (copy-dist.mjs).
  const builtGlue = read('../dist/mail2fa.js').toString();
  const fallback = "new URL('mail2fa_bg.wasm', import.meta.url)";
  assert.equal(builtGlue.split(fallback).length, 2);
  assert.equal(read('glue/mail2fa.js').toString(), builtGlue.replace(fallback, "new URL('../mail2fa.wasm', import.meta.url)"));
});

test('the exports map resolves each entry to a shipped file', () => {
  const pkg = JSON.parse(read('package.json'));
  const require = createRequire(import.meta.url);
  assert.equal(pkg.type, 'module');
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const targets = typeof target === 'string' ? [target] : Object.values(target);
    for (const file of targets) {
      if (file === './package.json') continue; // npm always packs it
      assert.ok(pkg.files.some((f) => file.slice(2).startsWith(f.replace(/\/$/, ''))), `${subpath}: ${file} is in files`);
      assert.ok(read(file).length > 0, `${file} exists`);
    }
  }
  assert.ok(require.resolve('mail2fa/mail2fa.wasm').endsWith('mail2fa.wasm'));
});

function declaredNames(dts) {
  const names = new Set();
  for (const m of dts.matchAll(/^export (?:declare )?(?:function|class|const) ([A-Za-z0-9_]+)/gm)) names.add(m[1]);
  return names;
}

test('index.d.ts declares every runtime export of both entries, and nothing else', async () => {
  const declared = declaredNames(read('index.d.ts').toString());
  const browserEntry = await import('../browser.js');
  for (const entry of [nodeEntry, browserEntry]) {
    assert.deepEqual(new Set(Object.keys(entry)), declared);
  }
});

test('sqlite.d.ts declares the runtime exports of mail2fa/sqlite', async () => {
  const sqlite = await import('mail2fa/sqlite');
  assert.deepEqual(new Set(Object.keys(sqlite)), declaredNames(read('sqlite.d.ts').toString()));
});

/** Runs an ESM snippet in a fresh Node process (a fresh module instance) and returns its stdout. */
function runFresh(source) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', source], {
    cwd: fileURLToPath(pkgDir),
    encoding: 'utf8',
  });
  return out.trim();
}

test('the browser entry refuses calls before init, then loads from bytes, a Module or a Response', () => {
  const browser = JSON.stringify(fileURLToPath(new URL('browser.js', pkgDir)));
  const wasm = JSON.stringify(fileURLToPath(new URL('mail2fa.wasm', pkgDir)));
  const request = "{ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', time: 59 }";
  const prelude = `import { readFileSync } from 'node:fs';
    const m = await import(${browser}); const bytes = readFileSync(${wasm});`;
  assert.equal(
    runFresh(`${prelude} try { m.totpCode(${request}); } catch (e) { console.log(e.code, e instanceof m.Mail2faError); }`),
    'not_initialized true',
  );
  const inputs = {
    bytes: 'bytes',
    module: 'new WebAssembly.Module(bytes)',
    response: "new Response(bytes, { headers: { 'content-type': 'application/wasm' } })",
    promise: 'Promise.resolve(bytes)',
  };
  for (const [kind, input] of Object.entries(inputs)) {
    assert.equal(
      runFresh(`${prelude} await m.init(${input}); console.log(m.isReady(), m.totpCode(${request}).code);`),
      'true 287082',
      kind,
    );
  }
  assert.equal(
    runFresh(`${prelude} m.initSync(bytes); console.log(m.totpCode(${request}).code);`),
    '287082',
    'initSync',
  );
});

test('the node entry needs no init: the first call loads the package file', () => {
  assert.equal(
    runFresh(`import { totpCode, isReady } from 'mail2fa';
      const before = isReady(); const { code } = totpCode({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', time: 59 });
      console.log(before, isReady(), code);`),
    'false true 287082',
  );
});
