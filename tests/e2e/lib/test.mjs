// node:test's test(), run once more when a browser died under it (see browserDeaths in
// ./browser.mjs). Only that: a failed assertion, a timeout or a server error fails at once, and
// a test that fails again after the rerun fails with the rerun's error.
import { test as nodeTest } from 'node:test';
import { browserDeaths, closeAllBrowsers } from './browser.mjs';

export { before, after } from 'node:test';

/** Runs `fn(t)`; when it fails and a browser died meanwhile, reports that on `t` and runs it once more. */
export async function runOnceMoreIfBrowserDied(fn, t) {
  const before = browserDeaths().length;
  try {
    return await fn(t);
  } catch (err) {
    const deaths = browserDeaths().slice(before);
    if (deaths.length === 0) throw err;
    t.diagnostic(`Chromium died under this test (${deaths.map((d) => d.what).join('; ')}): ${String(err?.message).split('\n')[0]}; running it once more`);
    await closeAllBrowsers();
    return await fn(t);
  }
}

export function test(name, fn) {
  return nodeTest(name, (t) => runOnceMoreIfBrowserDied(fn, t));
}
