// Writes expected/<name>.json for every scenario (or the ones named) from the JS host, after
// checking each step's expectations. Run it when a scenario is added or changed, or when the
// core's answers change on purpose (then read the diff before committing it):
//   node tests/scenarios/record.mjs [name ...]
// Both runners (plugins-js/test/scenarios.test.mjs, plugins-php/host-tests/ScenariosTest.php)
// compare their host's transcript with these files exactly.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lib from '../../plugins-js/node.js';
import { EXPECTED_DIR, formatTranscript, loadScenario, moduleSha256, runScenario, scenarioFiles } from './run.mjs';

const wanted = new Set(process.argv.slice(2));
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
  writeFileSync(join(EXPECTED_DIR, `${scenario.name}.json`), formatTranscript(scenario.name, transcript.steps));
  console.log(`${scenario.name}: ${transcript.steps.length} steps recorded (module ${moduleSha256().slice(0, 12)})`);
}
process.exit(failed ? 1 : 0);
