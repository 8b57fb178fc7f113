// The conformance vectors through the raw C ABI of dist/mail2fa.wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRawAbi } from './raw-abi.mjs';
import { vectorFiles, subsetMismatch } from './vectors.mjs';

const abi = await loadRawAbi();

for (const [file, cases] of vectorFiles()) {
  test(file, async (t) => {
    assert.ok(cases.length > 0, `${file} has cases`);
    for (const { name, request, response } of cases) {
      await t.test(name, () => {
        const actual = abi.call(request);
        const where = subsetMismatch(response, actual);
        assert.equal(where, null, `mismatch at ${where}: got ${JSON.stringify(actual)}`);
      });
    }
  });
}
