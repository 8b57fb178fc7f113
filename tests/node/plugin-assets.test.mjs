// The Roundcube plugin serves the enrollment element from its own assets/ directory
// (Roundcube serves only files under plugins/<name>/). Those files are not kept in git: the
// install step (scripts/roundcube-install.sh assets, `make plugin-assets`) copies them from
// www/, the one source of each, so a site can never serve an older element than www/ holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const install = (dir) =>
  execFileSync('bash', [join(repo, 'scripts/roundcube-install.sh'), 'assets', dir], { encoding: 'utf8' });

/** mail2fa::ASSETS: the files the plugin checks for and serves. */
function pluginAssets() {
  const php = readFileSync(join(repo, 'plugins-php/mail2fa/mail2fa.php'), 'utf8');
  const m = php.match(/const ASSETS = \[([^\]]*)\];/);
  assert.ok(m, 'mail2fa.php declares const ASSETS');
  return [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1]);
}

function withDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'mail2fa-assets-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the install step copies exactly the files the plugin serves, byte-identical to www/', () => {
  withDir((dir) => {
    install(dir);
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, [...pluginAssets()].sort(), 'installed files = mail2fa::ASSETS');
    for (const f of files) {
      assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(repo, 'www', f))), `${f} = www/${f}`);
      assert.equal(statSync(join(dir, f)).mode & 0o777, 0o644, `${f} readable by the web server`);
    }
  });
});

test('no WebAssembly in the plugin: the server renders the QR code, the element needs no module', () => {
  // (tests/e2e: the settings page makes no .wasm request during an enrollment.)
  for (const f of pluginAssets()) assert.doesNotMatch(f, /\.wasm$|^mail2fa\.js$/, f);
});

test('every module the element imports statically, and its stylesheets, are among the installed files', () => {
  const installed = new Set(pluginAssets());
  for (const f of installed) {
    if (!f.endsWith('.js')) continue;
    const src = readFileSync(join(repo, 'www', f), 'utf8');
    for (const [, spec] of src.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm)) {
      assert.ok(spec.startsWith('./'), `${f} imports ${spec}: only files beside it can be served`);
      assert.ok(installed.has(spec.slice(2)), `${f} imports ${spec}, which the install step does not copy`);
    }
  }
  const ui = readFileSync(join(repo, 'www/mail2fa-ui.js'), 'utf8');
  const enroll = readFileSync(join(repo, 'www/mail2fa-enroll.js'), 'utf8');
  assert.match(ui, /new URL\('\.\/mail2fa\.css'/);
  assert.match(enroll, /new URL\('\.\/mail2fa-print\.css'/);
  assert.ok(installed.has('mail2fa.css') && installed.has('mail2fa-print.css'));
});

test('rerunning the install step refreshes the copies and drops the module an older install left', () => {
  withDir((dir) => {
    install(dir);
    writeFileSync(join(dir, 'mail2fa-enroll.js'), '// an older element\n');
    writeFileSync(join(dir, 'mail2fa.wasm'), 'old module');
    writeFileSync(join(dir, 'mail2fa.js'), 'old glue');
    writeFileSync(join(dir, 'site-logo.png'), 'not ours');
    install(dir);
    assert.ok(readFileSync(join(dir, 'mail2fa-enroll.js')).equals(readFileSync(join(repo, 'www/mail2fa-enroll.js'))));
    assert.deepEqual(readdirSync(dir).sort(), [...pluginAssets(), 'site-logo.png'].sort(),
      'module and glue removed; files the step did not make are left alone');
  });
});
