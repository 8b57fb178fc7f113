// The e2e harness itself (lib/test.mjs, lib/browser.mjs): a test whose browser died under it
// is reported and run once more; any other failure is not retried.
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { test, runOnceMoreIfBrowserDied } from './lib/test.mjs';
import { browser, browserDeaths } from './lib/browser.mjs';

let runs = 0;
test('harness: a test whose page crashed under it is reported and run once more', async () => {
  runs++;
  const b = await browser();
  try {
    await b.page.setContent('<p id="x">hi</p>');
    if (runs === 1) await b.page.goto('chrome://crash').catch(() => {});
    assert.equal(await b.page.textContent('#x'), 'hi');
  } finally {
    await b.close();
  }
});

nodeTest('harness: the crash was seen and the test ran twice', () => {
  assert.equal(runs, 2);
  assert.ok(browserDeaths().some((d) => d.what === 'the page crashed'), JSON.stringify(browserDeaths().map((d) => d.what)));
});

nodeTest('harness: a failure without a browser death is not run again', async () => {
  let calls = 0;
  const notes = [];
  const failing = async () => {
    calls++;
    const b = await browser();
    await b.close();
    assert.equal(1, 2, 'a plain failure');
  };
  await assert.rejects(runOnceMoreIfBrowserDied(failing, { diagnostic: (n) => notes.push(n) }), /a plain failure/);
  assert.deepEqual([calls, notes], [1, []]);
});
