// The host scenarios (tests/scenarios/) against this package's Mail2fa class: each step's
// expectations, then the whole transcript — every result and every stored record, as text —
// against the committed one, which the PHP service (plugins-php/host-tests/ScenariosTest.php)
// must match too. A difference in a record is a difference between the hosts or in the core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from '../node.js';
import { CALLS, loadExpected, loadScenario, moduleSha256, runScenario, scenarioFiles, writeActual } from '../../tests/scenarios/run.mjs';

const files = scenarioFiles();

test('there are scenarios and each has a committed transcript', () => {
  assert.ok(files.length >= 10, `only ${files.length} scenarios`);
  for (const file of files) assert.ok(loadExpected(loadScenario(file).name).steps.length > 0);
});

test('the runner may call every public method of Mail2fa, and some scenario calls each', () => {
  const methods = Object.getOwnPropertyNames(lib.Mail2fa.prototype).filter((m) => m !== 'constructor').sort();
  assert.deepEqual([...CALLS].sort(), methods);
  const used = new Set();
  for (const file of files) {
    for (const step of loadScenario(file).steps) {
      used.add(step.call);
      if (step.race) used.add(step.race.call);
    }
  }
  assert.deepEqual(methods.filter((m) => !used.has(m)), []);
});

// Each scenario twice: over a storage of record objects, and over one that offers the stored
// JSON text (getText/compareAndSetText, as MemoryStorage and SqliteStorage do), which the login
// check passes to the core as is. Both must give the committed transcript.
for (const file of files) for (const text of [false, true]) {
  const scenario = loadScenario(file);
  test(`scenario ${scenario.name}${text ? ' (text storage)' : ''}`, async () => {
    const { transcript, failures } = await runScenario(scenario, lib, { text });
    writeActual(text ? 'js-text' : 'js', scenario.name, transcript.steps);
    assert.deepEqual(failures, [], 'the scenario\'s expectations');
    const expected = loadExpected(scenario.name);
    assert.equal(transcript.steps.length, expected.steps.length, 'steps in the transcript');
    for (const [i, step] of transcript.steps.entries()) {
      // Compared as text: the same keys in the same order, records byte for byte.
      assert.equal(JSON.stringify(step), JSON.stringify(expected.steps[i]),
        `${scenario.name} step ${i} differs from expected/${scenario.name}.json (module ${moduleSha256().slice(0, 12)}; ` +
        'this run: build/scenarios/js/; if the core changed on purpose: node tests/scenarios/record.mjs, then review the diff)');
    }
  });
}
