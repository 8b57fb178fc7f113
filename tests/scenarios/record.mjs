// Writes expected/<name>.json for every scenario (or the ones named) from the JS host, after
// checking each step's expectations. Run it when a scenario is added or changed, or when the
// core's answers change on purpose (then read the diff before committing it):
//   node tests/scenarios/record.mjs [name ...]
// Both runners (plugins-js/test/scenarios.test.mjs, plugins-php/host-tests/ScenariosTest.php)
// compare their host's transcript with these files exactly.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lib from '../../plugins-js/node.js';
import { EXPECTED_DIR, loadScenario, runScenario, scenarioFiles } from './run.mjs';

const wanted = new Set(process.argv.slice(2));
// The module the package runs (make test-js copies dist/ there), named in each transcript.
const module = createHash('sha256').update(readFileSync(new URL('../../plugins-js/mail2fa.wasm', import.meta.url))).digest('hex');
mkdirSync(EXPECTED_DIR, { recursive: true });
let failed = 0;
for (const file of scenarioFiles()) {
  const scenario = loadScenario(file);
  if (wanted.size && !wanted.has(scenario.name)) continue;
  const { transcript, failures } = await runScenario(scenario, lib);
  if (failures.length) {
    failed++;
    console.error(`${scenario.name}: not recorded\n  ${failures.join('\n  ')}`);
    continue;
  }
  // One step per line: small diffs when a scenario changes, records compared as text.
  const lines = transcript.steps.map((s) => `    ${JSON.stringify(s)}`).join(',\n');
  const text = `{\n  "scenario": ${JSON.stringify(scenario.name)},\n  "module_sha256": ${JSON.stringify(module)},\n  "steps": [\n${lines}\n  ]\n}\n`;
  writeFileSync(join(EXPECTED_DIR, `${scenario.name}.json`), text);
  console.log(`${scenario.name}: ${transcript.steps.length} steps recorded`);
}
process.exit(failed ? 1 : 0);
