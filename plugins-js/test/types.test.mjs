// The declarations (hand-written, plus the block generated from typed.rs) compile under `tsc --strict` for a file that uses every
// export (types/usage.ts), and reject the misuses it marks with @ts-expect-error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

test('index.d.ts and sqlite.d.ts type-check a strict TypeScript user of every export', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const project = fileURLToPath(new URL('types/tsconfig.json', import.meta.url));
  const { status, stdout, stderr } = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
  assert.equal(status, 0, `tsc failed:\n${stdout}${stderr}`);
});
