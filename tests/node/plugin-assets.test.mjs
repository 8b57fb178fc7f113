// The Roundcube plugin serves the enrollment element and the module from its own assets/
// directory (Roundcube serves only files under plugins/<name>/). Those files are copies:
// they must stay byte-identical to the one source of each, or a browser would run another
// module than the server, or an older element.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const repo = new URL('../../', import.meta.url);
const sha = (path) => createHash('sha256').update(readFileSync(new URL(path, repo))).digest('hex');

const copies = {
  'plugins-php/mail2fa/assets/mail2fa.wasm': 'dist/mail2fa.wasm',
  'plugins-php/mail2fa/assets/mail2fa.js': 'dist/mail2fa.js',
  'plugins-php/mail2fa/assets/mail2fa-enroll.js': 'www/mail2fa-enroll.js',
  'plugins-php/mail2fa/assets/mail2fa-ui.js': 'www/mail2fa-ui.js',
  'plugins-php/mail2fa/assets/mail2fa.css': 'www/mail2fa.css',
  'plugins-php/mail2fa/assets/mail2fa-print.css': 'www/mail2fa-print.css',
};

for (const [copy, source] of Object.entries(copies)) {
  test(`${copy} is byte-identical to ${source}`, () => {
    assert.equal(sha(copy), sha(source), `refresh it: cp ${source} ${copy}`);
  });
}
