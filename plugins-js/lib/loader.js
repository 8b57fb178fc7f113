// Internal (not exported from the package): how the runtime entry loads the module by
// default, and its random source. Set once by node.js or browser.js at import.
export const loader = { input: undefined, sync: undefined, random: globalThis.crypto };

export function configureLoader({ input, sync, random }) {
  loader.input = input;
  loader.sync = sync;
  if (random) loader.random = random;
}
