// The README's demo command as a user runs it: scripts/demo.sh (what `make demo` starts after
// building) brings up the JS webmail demo and Roundcube with the plugin, prints where to open
// both, serves both login pages, and Ctrl-C (SIGINT to the process group) stops every server
// it started, by PID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './lib/env.mjs';

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('make demo: both demos start, print their URLs, serve their login pages and stop on Ctrl-C', async () => {
  execFileSync(process.execPath, [join(REPO, 'plugins-js/scripts/copy-dist.mjs')]);
  const state = join(mkdtempSync(join(tmpdir(), 'mail2fa-demo-')), 'state');
  const port = await freePort();
  const child = spawn('bash', [join(REPO, 'scripts/demo.sh')], {
    cwd: REPO,
    detached: true, // its own process group, as a terminal's foreground job
    env: { ...process.env, MAIL2FA_DEMO_PORT: String(port), MAIL2FA_DEMO_DIR: state, MAIL2FA_DEMO_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const urls = await new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        const rc = out.match(/Roundcube 1\.6 with the mail2fa plugin: (http:\/\/127\.0\.0\.1:\d+\/)/);
        const js = out.match(/mail2fa demo: (http:\/\/127\.0\.0\.1:\d+\/)/);
        if (rc && js) {
          clearInterval(timer);
          resolve({ rc: rc[1], js: js[1] });
        }
      }, 100);
      exited.then(() => {
        clearInterval(timer);
        reject(new Error(`demo.sh exited early:\n${out}`));
      });
    });
    assert.equal(urls.js, `http://127.0.0.1:${port}/`);
    assert.match(out, /alice \/ pw-alice-Secret1/);
    assert.match(out, /user: +demo@example\.com/);

    const rcPage = await fetch(urls.rc);
    assert.equal(rcPage.status, 200);
    assert.match(await rcPage.text(), /id="rcmloginuser"/, 'Roundcube serves its login form');
    const jsPage = await fetch(new URL('/login', urls.js));
    assert.equal(jsPage.status, 200);
    assert.match(await jsPage.text(), /type="password"/, 'the JS demo serves its login form');

    const rcDir = readFileSync(join(state, 'roundcube-dir'), 'utf8').trim();
    const pidFile = join(rcDir, 'pids');
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[1]));
    assert.equal(pids.length, 3, 'dovecot, php-fpm and nginx');
    assert.ok(pids.every(alive));

    process.kill(-child.pid, 'SIGINT');
    await exited;
    assert.deepEqual(pids.filter(alive), [], 'every Roundcube server is stopped');
    assert.equal(existsSync(rcDir), false, 'the throw-away Roundcube directory is removed');
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
    rmSync(join(state, '..'), { recursive: true, force: true });
  }
});
