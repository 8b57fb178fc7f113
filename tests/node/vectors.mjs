// Shared helpers for running tests/vectors/*.json in any JS runner (see tests/vectors/README.md).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const VECTORS_DIR = fileURLToPath(new URL('../vectors/', import.meta.url));

/** Every vector file as [fileName, cases]. */
export function vectorFiles() {
  return readdirSync(VECTORS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(join(VECTORS_DIR, f), 'utf8'))]);
}

/** Returns null when `actual` contains `expected` as a subset, else the path of the first difference. */
export function subsetMismatch(expected, actual, path = '$') {
  if (expected === null || typeof expected !== 'object') {
    return Object.is(expected, actual) || expected === actual ? null : path;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return path;
    for (let i = 0; i < expected.length; i++) {
      const m = subsetMismatch(expected[i], actual[i], `${path}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return path;
  for (const key of Object.keys(expected)) {
    if (!(key in actual)) return `${path}.${key}`;
    const m = subsetMismatch(expected[key], actual[key], `${path}.${key}`);
    if (m) return m;
  }
  return null;
}
