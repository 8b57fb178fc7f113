// tests/vectors/*.json through the package: every case through the typed function of its op
// (and through `call`), and through the raw C ABI of the package's own mail2fa.wasm; both
// faces must give the same response, byte for byte after JSON parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mail2fa from 'mail2fa';
import { loadRawAbi } from '../../tests/node/raw-abi.mjs';
import { vectorFiles, subsetMismatch } from '../../tests/node/vectors.mjs';

const PACKAGE_WASM = new URL('../mail2fa.wasm', import.meta.url).pathname;
await mail2fa.init();
const raw = await loadRawAbi(PACKAGE_WASM);
const supported = new Set(mail2fa.ops().ops);

/** The typed function's outcome as a response object: `{ok: true, ...}` or `{ok: false, error}`. */
function viaTyped(request) {
  const { op, ...fields } = request;
  const fn = mail2fa[mail2fa.functionName(op)];
  assert.equal(typeof fn, 'function', `the package exports ${mail2fa.functionName(op)} for ${op}`);
  try {
    return { ok: true, ...fn(fields) };
  } catch (error) {
    assert.ok(error instanceof mail2fa.Mail2faError, `${op} threw ${error}`);
    return { ok: false, error: { code: error.code, message: error.message } };
  }
}

for (const [file, cases] of vectorFiles()) {
  test(file, async (t) => {
    assert.ok(cases.length > 0, `${file} has cases`);
    for (const { name, request, response } of cases) {
      await t.test(name, () => {
        const viaRaw = raw.call(request);
        let where = subsetMismatch(response, viaRaw);
        assert.equal(where, null, `raw ABI mismatch at ${where}: got ${JSON.stringify(viaRaw)}`);

        const viaCall = mail2fa.call(request);
        assert.deepEqual(viaCall, viaRaw, 'call() and the raw ABI give the same response');

        const typedOp = request && typeof request === 'object' && !Array.isArray(request) &&
          typeof request.op === 'string' && supported.has(request.op);
        if (typedOp) {
          const viaFn = viaTyped(request);
          where = subsetMismatch(response, viaFn);
          assert.equal(where, null, `typed ${request.op} mismatch at ${where}: got ${JSON.stringify(viaFn)}`);
          assert.deepEqual(viaFn, viaRaw, 'the typed function and the raw ABI give the same response');
        }
      });
    }
  });
}

test('every op the module lists has a typed function in the package', () => {
  for (const op of supported) {
    assert.equal(typeof mail2fa[mail2fa.functionName(op)], 'function', op);
  }
});
