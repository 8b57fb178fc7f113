// Browser and bundler entry: `await init()` fetches mail2fa.wasm from next to this file and
// compiles it while it streams (bundlers such as Vite copy the file and rewrite this URL), or
// takes the bytes, a Response, a URL or a compiled WebAssembly.Module you pass.
import { configureLoader } from './lib/loader.js';

configureLoader({ input: () => new URL('./mail2fa.wasm', import.meta.url) });

export * from './lib/api.js';
export * from './lib/server.js';
