// The README's first example runs as written, against the package as installed here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The first ```js block of a markdown file. */
export function firstJsExample(markdown) {
  const match = /```js\n([\s\S]*?)```/.exec(markdown);
  assert.ok(match, 'the README has a js example');
  return match[1];
}

test("the README's first example runs as written and prints what it says", () => {
  const example = firstJsExample(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
  // Inside the package directory, so `import 'mail2fa'` resolves to this package by name.
  const file = fileURLToPath(new URL(`../readme-example-${process.pid}.mjs`, import.meta.url));
  writeFileSync(file, example);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
    assert.equal(out, 'true true\ntrue true\n');
  } finally {
    rmSync(file, { force: true });
  }
});
