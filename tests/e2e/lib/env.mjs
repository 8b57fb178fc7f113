// The e2e environment: scripts/roundcube-env.sh brings up Debian's Roundcube with the
// mail2fa plugin, Dovecot, php-fpm and nginx (and PostgreSQL) on 127.0.0.1; helpers here
// read its database, run the admin tool, compute codes with oathtool and talk HTTP.
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ARTIFACTS = join(REPO, 'tests', 'artifacts', 'e2e');
const run = promisify(execFile);

export function parseEnv(text) {
  const env = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^([A-Z_]+)=(.*)$/);
    if (m) env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  return env;
}

/**
 * A local.inc.php snippet: settings from CONFIG_DIR/overrides.json (read on every request,
 * unlike PHP files, which opcache keeps) replace the environment's while the servers run.
 */
export const OVERRIDES_FROM_FILE = `
if (is_file(__DIR__ . '/overrides.json')) {
    foreach (json_decode(file_get_contents(__DIR__ . '/overrides.json'), true) as $k => $v) {
        $config[$k] = $v;
    }
}
`;

/** Replaces settings of a running environment (see OVERRIDES_FROM_FILE); {} restores them. */
export function setOverrides(env, settings) {
  const path = join(env.CONFIG_DIR, 'overrides.json');
  writeFileSync(path, JSON.stringify(settings));
  execFileSync('chgrp', ['www-data', path]);
  execFileSync('chmod', ['0640', path]);
}

/** The lines of a Roundcube log (logs/roundcube/<name>.log), [] before the first one. */
export function logLines(env, name) {
  try {
    return readFileSync(join(env.DIR, 'logs', 'roundcube', `${name}.log`), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Starts an environment; returns its env (URL, DSN, DIR, ...) and a stop function. */
export function up({ db = 'sqlite', local = '' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `mail2fa-e2e-${db}-`));
  // MAIL2FA_E2E_DIST: a directory with a matching libmail2fa_host.so + mail2fa.wasm (and the
  // mail2fa.ini configure.php wrote for them, given as MAIL2FA_PHP_INI), so a run is not
  // disturbed by dist/ being rebuilt meanwhile.
  const dist = process.env.MAIL2FA_E2E_DIST;
  if (dist) {
    const pin = `\n$config['mail2fa_core_options']['library'] = ${JSON.stringify(join(dist, 'libmail2fa_host.so'))};\n`
      + `$config['mail2fa_core_options']['wasm'] = ${JSON.stringify(join(dist, 'mail2fa.wasm'))};\n`;
    local = (local || '<?php\n') + pin;
  }
  if (local) writeFileSync(join(dir, 'local.inc.php'), local);
  const t0 = Date.now();
  try {
    execFileSync('bash', [join(REPO, 'scripts', 'roundcube-env.sh'), 'up', dir, '--db', db], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch (e) {
    try {
      execFileSync('bash', [join(REPO, 'scripts', 'roundcube-env.sh'), 'down', dir]);
    } catch {}
    throw e;
  }
  const env = parseEnv(readFileSync(join(dir, 'env'), 'utf8'));
  env.setupMs = Date.now() - t0;
  env.stop = () => {
    execFileSync('bash', [join(REPO, 'scripts', 'roundcube-env.sh'), 'down', dir], { stdio: 'inherit' });
    if (!process.env.MAIL2FA_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  return env;
}

/** Runs SQL against the environment's database (through PHP's PDO); returns rows. */
export function sql(env, query, params = []) {
  const out = execFileSync('php', [join(REPO, 'tests', 'e2e', 'lib', 'db.php'), env.DSN, query, JSON.stringify(params)], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

/** bin/mail2fa-admin.sh with the environment's config; returns {code, stdout, stderr}. */
export async function admin(env, ...args) {
  try {
    const { stdout, stderr } = await run(join(REPO, 'plugins-php', 'mail2fa', 'bin', 'mail2fa-admin.sh'), args, {
      env: { ...process.env, ROUNDCUBE_CONFIG_DIR: env.CONFIG_DIR },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export function password(user) {
  return `pw-${user}-Secret1`;
}

/**
 * TOTP codes as a phone app makes them (oathtool), one step at a time: a step accepted once
 * is never accepted again (RFC 6238 §5.2), so each call returns a step after the last one
 * used for that secret, within the server's window (±1 step), waiting for the next step
 * only when none is left.
 */
export class Phone {
  constructor(secret) {
    this.secret = secret;
    this.lastStep = -1;
  }

  codeAt(step) {
    return execFileSync('oathtool', ['--totp', '-b', this.secret, '-N', `@${step * 30}`], { encoding: 'utf8' }).trim();
  }

  async next() {
    for (;;) {
      // With the server's window of ±1 step, step s is accepted from (s-1)·30 to (s+2)·30:
      // the current or next step stays valid for at least 30 s more (a slow machine is fine).
      const now = Math.floor(Date.now() / 1000 / 30);
      const step = Math.max(this.lastStep + 1, now);
      if (step <= now + 1) {
        this.lastStep = step;
        return this.codeAt(step);
      }
      await new Promise((r) => setTimeout(r, (now + 1) * 30 * 1000 - Date.now() + 200));
    }
  }

  /** A code that is certainly wrong now (a step far away). */
  wrong() {
    const now = Math.floor(Date.now() / 1000 / 30);
    let code = this.codeAt(now + 1000);
    for (const s of [now - 1, now, now + 1]) {
      if (this.codeAt(s) === code) code = String((Number(code) + 1) % 1000000).padStart(6, '0');
    }
    return code;
  }
}

/** A snapshot of what a request might change: DB tables and the users' mail stores. */
export function snapshot(env) {
  const tables = {};
  for (const t of ['users', 'identities', 'contacts', 'contactgroups', 'responses', 'mail2fa_users', 'mail2fa_app_passwords']) {
    try {
      tables[t] = sql(env, `SELECT * FROM ${t} ORDER BY 1`).map((r) => {
        const copy = { ...r };
        delete copy.last_login; // a password login updates it before the second factor (by design)
        delete copy.failed_login;
        delete copy.failed_login_counter;
        return copy;
      });
    } catch (e) {
      tables[t] = `error: ${e.message}`;
    }
  }
  const mail = {};
  const walk = (d) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (!/dovecot/.test(n)) mail[p.slice(env.DIR.length)] = st.size;
    }
  };
  walk(join(env.DIR, 'mail'));
  return { tables, mail };
}

export function artifact(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
