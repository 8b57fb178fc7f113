// Static assets of the demo: the web components from www/, the one module and its glue
// from dist/, the demo's own CSS/JS. Only listed files are served, gzipped when the browser
// accepts it (the enrollment page's transfer budget is measured in gzipped bytes).
import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync, constants } from 'node:zlib';
import { join } from 'node:path';

const TYPES = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  wasm: 'application/wasm',
};

export class Assets {
  #files;
  #cache = new Map();

  constructor(repo) {
    const www = join(repo, 'www');
    this.#files = {
      'mail2fa-enroll.js': join(www, 'mail2fa-enroll.js'),
      'mail2fa-ui.js': join(www, 'mail2fa-ui.js'),
      'mail2fa.css': join(www, 'mail2fa.css'),
      'mail2fa-print.css': join(www, 'mail2fa-print.css'),
      'mail2fa-panel.js': join(www, 'mail2fa-panel.js'),
      'mail2fa-panel.css': join(www, 'mail2fa-panel.css'),
      'mail2fa-backup-codes.js': join(www, 'mail2fa-backup-codes.js'),
      'mail2fa-app-passwords.js': join(www, 'mail2fa-app-passwords.js'),
      'mail2fa-devices.js': join(www, 'mail2fa-devices.js'),
      'mail2fa-codes-print.css': join(www, 'mail2fa-codes-print.css'),
      'mail2fa.js': join(repo, 'dist', 'mail2fa.js'),
      'mail2fa.wasm': join(repo, 'dist', 'mail2fa.wasm'),
      'demo.css': join(www, 'demo', 'static', 'demo.css'),
    };
  }

  #load(name) {
    const file = this.#files[name];
    const mtime = statSync(file).mtimeMs;
    const cached = this.#cache.get(name);
    if (cached && cached.mtime === mtime) return cached;
    const body = readFileSync(file);
    const entry = {
      mtime,
      body,
      gzip: gzipSync(body, { level: constants.Z_BEST_COMPRESSION }),
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      type: TYPES[name.split('.').pop()],
    };
    this.#cache.set(name, entry);
    return entry;
  }

  serve(req, res, name) {
    if (!Object.hasOwn(this.#files, name)) {
      res.writeHead(404, { 'Content-Type': 'text/plain', 'X-Content-Type-Options': 'nosniff' });
      res.end('not found');
      return;
    }
    const entry = this.#load(name);
    const headers = {
      'Content-Type': entry.type,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
      ETag: entry.etag,
      Vary: 'Accept-Encoding',
    };
    if (req.headers['if-none-match'] === entry.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] || '');
    const body = gzip ? entry.gzip : entry.body;
    res.writeHead(200, { ...headers, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}), 'Content-Length': body.length });
    res.end(body);
  }
}
