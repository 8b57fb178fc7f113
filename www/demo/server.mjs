// The reference JS webmail demo: a small node:http server on the npm package's Mail2fa
// class and its SQLite storage. Password login → second factor (app code or backup code,
// optionally trusting the browser) → an "inbox"; the security page enrolls with
// <mail2fa-enroll> and manages backup codes, app passwords and trusted devices with their
// components; password change; admin reset with admin.mjs. Run it with `make demo` (or
// `node www/demo/server.mjs`).
//
// Environment: MAIL2FA_DEMO_PORT (default 8025), MAIL2FA_DEMO_DIR (state: default build/demo),
// MAIL2FA_DEMO_PASSWORD (the seeded user's password; default printed at start),
// MAIL2FA_DEMO_MODE=required (every user must enroll at the next login),
// MAIL2FA_DEMO_QUIET=1 (no request log).
//
// The demo decides nothing the core decides: whether a login needs a second step, how long
// that step may wait (pending_expires_at), for how many days a browser may be trusted
// (trust_days, device_expires_at), whether a change may happen without a current code.
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { Mail2fa, Mail2faError } from 'mail2fa';
import { SqliteStorage } from 'mail2fa/sqlite';
import { openDemoState } from './state.mjs';
import { Sessions, parseCookies, sameToken } from './sessions.mjs';
import { Assets } from './assets.mjs';
import * as pages from './pages.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

export const DEMO_USER = 'demo@example.com';
export const DEFAULT_PASSWORD = 'demo-password';
/** The site policy the demo gives the core (docs/ops.md#site-policy-policy): browsers trusted 30 days. */
export const POLICY = { device_days: 30 };
/** The trusted-device cookie: the only credential the demo keeps in a cookie (revocable). */
export const DEVICE_COOKIE = 'm2f_device';
const MIN_PASSWORD = 10;

/** Content-Security-Policy of every page: no inline script or style, wasm allowed. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

const MAX_BODY = 64 * 1024;

/** The core refused the current code a change carried (`fresh`: the core's outcome). */
class ProofRefused extends Error {
  constructor(fresh) {
    super('proof refused');
    this.fresh = fresh;
  }
}

/** Core errors about a user's request (not the server): the API answers 400 with the code. */
const USER_ERRORS = new Set([
  'invalid_field', 'missing_field', 'limit_reached', 'not_enabled', 'method_not_allowed', 'feature_disabled',
  'fresh_factor_required', 'no_pending_enrollment', 'already_enabled',
]);

/**
 * The device cookie: HttpOnly, SameSite=Strict, Secure when the request came over TLS; it
 * lives until the core's device_expires_at (the host keeps no lifetime of its own).
 */
function deviceCookie(req, token, expiresAt, nowSeconds) {
  const maxAge = Math.max(0, expiresAt - nowSeconds);
  return `${DEVICE_COOKIE}=${token}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${req.socket.encrypted ? '; Secure' : ''}`;
}
const clearDeviceCookie = (req) =>
  `${DEVICE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${req.socket.encrypted ? '; Secure' : ''}`;

function readBody(req) {
  return new Promise((resolveBody, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function parseBody(req) {
  const text = await readBody(req);
  const type = (req.headers['content-type'] || '').split(';')[0].trim();
  if (type === 'application/json') {
    try {
      const value = JSON.parse(text || '{}');
      return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/**
 * The proof (a current code) a security change carries: `{method, code}` from a JSON body, or
 * its JSON text from a form body; undefined when absent (the core then refuses the change).
 */
function proofOf(body) {
  let proof = body.proof;
  if (typeof proof === 'string') {
    try {
      proof = JSON.parse(proof);
    } catch {
      proof = { code: proof };
    }
  }
  if (!proof || typeof proof !== 'object' || Array.isArray(proof)) return undefined;
  return { method: proof.method === 'backup_code' ? 'backup_code' : 'totp', code: String(proof.code ?? '') };
}

/**
 * Builds the demo app; returns {server, mfa, state, close}. `policy` is merged over POLICY;
 * `now` (milliseconds) is the clock of the core and of the demo's sessions (tests).
 */
export async function createDemo({ dir, password = DEFAULT_PASSWORD, log = console.log, policy = {}, now = Date.now } = {}) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const state = openDemoState(resolve(dir, 'demo.sqlite'));
  const storage = new SqliteStorage(state.db);
  const mfa = new Mail2fa({ keys: state.siteKeys(), storage, issuer: 'mail2fa demo', policy: { ...POLICY, ...policy }, now });
  const nowSeconds = () => Math.floor(now() / 1000);
  await state.seedUser(mfa.canonicalUser(DEMO_USER), password);
  const sessions = new Sessions();
  const assets = new Assets(repo);

  function send(res, status, body, headers = {}) {
    res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
    res.end(body);
  }
  const html = (res, body, status = 200, headers = {}) =>
    send(res, status, body, { 'Content-Type': 'text/html; charset=utf-8', ...headers });
  const json = (res, value, status = 200) =>
    send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8' });
  const redirect = (res, location, headers = {}) => send(res, 303, '', { Location: location, ...headers });

  async function route(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = url.pathname;
    const method = req.method;

    if (method === 'GET' && path.startsWith('/assets/')) {
      return assets.serve(req, res, path.slice('/assets/'.length));
    }
    if (method === 'GET' && path === '/favicon.ico') return send(res, 204, '');

    const cookies = parseCookies(req.headers.cookie);
    let session = sessions.get(cookies.m2f_sid);
    // Set-Cookie lines by cookie name (the last one set for a name wins).
    const jar = new Map();
    const setCookie = {};
    const addCookie = (name, line) => {
      jar.set(name, line);
      setCookie['Set-Cookie'] = [...jar.values()];
    };
    if (!session) {
      session = sessions.create();
      addCookie('sid', sessions.cookie(session));
    }
    /** Replaces the session id (login, second factor): an id seen before a login is dropped. */
    const rotate = () => {
      session = sessions.rotate(session);
      addCookie('sid', sessions.cookie(session));
    };
    const forgetDevice = () => {
      if (cookies[DEVICE_COOKIE]) addCookie('device', clearDeviceCookie(req));
    };
    /**
     * Runs a core call for the JSON API; the user's own mistakes come back as {error: {code}}.
     * A refused proof (`fresh.accepted` false) throws a ProofRefused: {error: {code: reason, retry_after}}.
     */
    const api = async (fn) => {
      const jsonHeaders = () => ({ 'Content-Type': 'application/json; charset=utf-8', ...setCookie });
      try {
        const value = await fn();
        return send(res, 200, JSON.stringify(value), jsonHeaders());
      } catch (error) {
        if (error instanceof ProofRefused) {
          const { reason, retryAfter } = error.fresh;
          const refused = { code: reason || 'wrong_code', message: 'the current code was not accepted', retry_after: retryAfter };
          return send(res, 400, JSON.stringify({ error: refused }), jsonHeaders());
        }
        if (error instanceof Mail2faError && USER_ERRORS.has(error.code)) {
          return send(res, 400, JSON.stringify({ error: { code: error.code, message: 'not accepted' } }), jsonHeaders());
        }
        throw error;
      }
    };
    /** The core refused the proof of a change: logged (fail2ban-style line, never the code), then thrown. */
    const refusedProof = (what, result) => {
      log(`security: ${user}: ${what} refused (proof ${result.fresh.method}: ${result.fresh.reason})`);
      throw new ProofRefused(result.fresh);
    };

    // A pending login (second step or enrollment at login) ends at the core's
    // pending_expires_at: the session is dropped before anything else is looked at.
    if ((session.stage === 'second' || session.stage === 'enroll') && session.pendingUntil != null && nowSeconds() >= session.pendingUntil) {
      log(`login: ${session.user}: second step expired`);
      sessions.destroy(session);
      session = sessions.create();
      session.flash = 'Your sign-in took too long. Sign in again.';
      addCookie('sid', sessions.cookie(session));
      if (path.startsWith('/api/')) return json(res, { error: { code: 'unauthenticated', message: 'sign in first' } }, 401);
      return redirect(res, '/login', setCookie);
    }

    let body = {};
    if (method === 'POST') {
      body = await parseBody(req);
      const token = req.headers['x-csrf-token'] || body._csrf;
      if (!sameToken(token, session.csrf)) {
        if (path.startsWith('/api/')) return json(res, { error: { code: 'forbidden', message: 'bad CSRF token' } }, 403);
        return html(res, pages.message('Request refused', 'The form expired. Go back, reload the page and try again.'), 403, setCookie);
      }
    } else if (method !== 'GET' && method !== 'HEAD') {
      return send(res, 405, '', { Allow: 'GET, POST' });
    }

    const full = session.stage === 'full';
    const user = session.user;
    /** A one-time notice for the next page (after a redirect). */
    const takeFlash = () => {
      const flash = session.flash;
      session.flash = null;
      return flash;
    };
    /** Starts the pending step the core asked for (second factor or enrollment). */
    const pending = (login) => {
      session.stage = login.verdict === 'enroll_required' ? 'enroll' : 'second';
      session.methods = login.methods || ['totp'];
      session.trustDays = login.trustDays || 0;
      session.pendingUntil = login.pendingExpiresAt ?? null;
      return session.stage === 'enroll' ? '/login/enroll' : '/login/2fa';
    };

    // --- Before any login ---
    if (path === '/' && method === 'GET') return redirect(res, full ? '/inbox' : '/login', setCookie);
    if (path === '/login' && method === 'GET') {
      if (full) return redirect(res, '/inbox', setCookie);
      return html(res, pages.login(session, { user: DEMO_USER, notice: takeFlash() }), 200, setCookie);
    }
    if (path === '/login' && method === 'POST') {
      const typed = String(body.user || '').trim();
      // One canonical user name (the core's user.canonical) for the password check, the
      // session and every Mail2fa call: 'DEMO@Example.com' is the demo user, not a new one.
      let name = null;
      try {
        name = mfa.canonicalUser(typed);
      } catch (error) {
        if (!(error instanceof Mail2faError)) throw error;
      }
      if (name === null || !(await state.checkPassword(name, String(body.password || '')))) {
        return html(res, pages.login(session, { user: typed, error: 'Wrong user name or password.' }), 401, setCookie);
      }
      // The browser's device token, if any: the core decides whether it skips the second step.
      // Any core error holds the login (beginLogin fails closed: required, with `error`).
      const login = await mfa.beginLogin(name, { deviceToken: cookies[DEVICE_COOKIE] || null });
      rotate();
      session.user = name;
      session.deviceId = null;
      if (login.forgetDevice) forgetDevice();
      if (login.required) {
        const next = pending(login);
        const why = login.error ? ` (held: ${login.error})` : login.forgetDevice ? ' (device token refused)' : '';
        log(`login: ${name}: password ok, ${session.stage === 'enroll' ? 'enrollment' : 'second factor'} required${why}`);
        return redirect(res, next, setCookie);
      }
      session.stage = 'full';
      if (login.method === 'trusted_device') {
        session.deviceId = login.deviceId;
        log(`login: ${name}: password ok, trusted device`);
      } else {
        log(`login: ${name}: password ok, no second factor enrolled`);
      }
      return redirect(res, '/inbox', setCookie);
    }
    if (path === '/login/2fa') {
      if (session.stage !== 'second') return redirect(res, full ? '/inbox' : '/login', setCookie);
      if (method === 'GET') return html(res, pages.secondFactor(session), 200, setCookie);
      const factor = body.method === 'backup_code' ? 'backup_code' : 'totp';
      const trust = body.trust === '1' && session.trustDays > 0 && session.methods?.includes('trusted_device');
      const result = await mfa.verifyLogin(user, String(body.code || ''), {
        method: factor,
        trustDevice: trust,
        userAgent: String(req.headers['user-agent'] || ''),
      });
      if (!result.ok) {
        log(`login: ${user}: second factor refused (${factor}: ${result.reason})`);
        if (Array.isArray(result.methods)) session.methods = result.methods;
        // retryAfter: the user is locked, or this wrong code started the lock.
        const error =
          result.verdict === 'locked' || result.retryAfter
            ? `Too many wrong codes. Try again in ${Math.ceil((result.retryAfter || 60) / 60)} minute(s).`
            : factor === 'backup_code'
              ? 'That backup code was not accepted. Each code works only once.'
              : 'That code was not accepted. Try the next code from your app.';
        return html(res, pages.secondFactor(session, { error, method: factor }), 401, setCookie);
      }
      rotate();
      session.stage = 'full';
      session.methods = null;
      session.pendingUntil = null;
      if (result.deviceToken) {
        session.deviceId = result.deviceId;
        addCookie('device', deviceCookie(req, result.deviceToken, result.deviceExpiresAt, nowSeconds()));
      }
      if (factor === 'backup_code') {
        const left = result.backupCodesRemaining ?? 0;
        session.flash = `You signed in with a backup code. ${left} backup codes left.${left <= 3 ? ' Make new ones on the Security page.' : ''}`;
      }
      log(`login: ${user}: second factor accepted (${factor}${result.deviceToken ? ', browser trusted' : ''})`);
      return redirect(res, '/inbox', setCookie);
    }
    // Enrollment at login (a policy that requires 2FA): only enrollment is served, and the
    // login completes only when THIS session confirmed a code of the factor it enrolled.
    if (path === '/login/enroll' && method === 'GET') {
      if (session.stage !== 'enroll') return redirect(res, full ? '/inbox' : session.stage === 'second' ? '/login/2fa' : '/login', setCookie);
      // Another session may have enrolled meanwhile: the core decides the step again (the
      // password was checked in this session); an enabled factor is asked for, never granted.
      const again = await mfa.beginLogin(user);
      if (again.required && again.verdict !== 'enroll_required') {
        const until = session.pendingUntil;
        pending(again);
        session.pendingUntil = until; // the step keeps the deadline it started with
        log(`login: ${user}: enrolled elsewhere meanwhile; second factor required`);
        return redirect(res, '/login/2fa', setCookie);
      }
      if (!again.required) {
        rotate();
        session.stage = 'full';
        session.pendingUntil = null;
        return redirect(res, '/inbox', setCookie);
      }
      return html(res, pages.enrollAtLogin(session), 200, setCookie);
    }
    if (session.stage === 'enroll' && path.startsWith('/api/enroll/') && method === 'POST') {
      if (path === '/api/enroll/start') {
        return api(async () => {
          const started = await mfa.enroll(user, { account: user });
          if (!started.ok) refusedProof('enrollment', started);
          const { uri, secret, qr, params } = started;
          return { uri, secret, qr, params };
        });
      }
      if (path === '/api/enroll/confirm') {
        return api(async () => {
          const result = await mfa.confirm(user, String(body.code || ''));
          if (!result.ok) return { activated: false, reason: result.reason ?? null };
          // This session proved the factor it enrolled: the login completes here, and only here.
          rotate();
          session.stage = 'full';
          session.methods = null;
          session.pendingUntil = null;
          log(`login: ${user}: enrolled at login; two-factor authentication turned on`);
          return { activated: true, reason: null, backup_codes: result.backupCodes ?? [] };
        });
      }
      if (path === '/api/enroll/cancel') {
        return api(async () => {
          await mfa.cancelEnrollment(user);
          return { cancelled: true };
        });
      }
    }
    if (path === '/logout' && method === 'POST') {
      // Also "Cancel and sign out" of a pending step: the pending login ends with the session.
      if (session.stage !== 'full' && session.user) log(`login: ${session.user}: pending login cancelled`);
      sessions.destroy(session);
      return redirect(res, '/login', { 'Set-Cookie': sessions.clearCookie() });
    }

    // --- Everything below needs both factors ---
    if (!full) {
      if (path.startsWith('/api/')) return json(res, { error: { code: 'unauthenticated', message: 'sign in first' } }, 401);
      const step = { second: '/login/2fa', enroll: '/login/enroll' }[session.stage] || '/login';
      return redirect(res, step, setCookie);
    }
    if (path === '/inbox' && method === 'GET') {
      return html(res, pages.inbox(session, await mfa.status(user), { flash: takeFlash() }), 200, setCookie);
    }
    if (path === '/security' && method === 'GET') {
      return html(res, pages.security(session, await mfa.status(user), {
          notice: url.searchParams.get('notice'),
          flash: takeFlash(),
          start: url.searchParams.get('start') === '1',
        }), 200, setCookie);
    }
    if (path === '/security/disable' && method === 'POST') {
      // A current app code, or (phone lost) an unused backup code: the core checks either.
      const factor = body.method === 'backup_code' ? 'backup_code' : 'totp';
      const result = await mfa.disable(user, String(body.code || ''), { method: factor });
      if (!result.ok) {
        const error = result.reason === 'locked'
          ? 'Too many wrong codes. Wait a few minutes; two-factor authentication is still on.'
          : 'That code was not accepted; two-factor authentication is still on.';
        log(`security: ${user}: turning off refused (${factor}: ${result.reason})`);
        return html(res, pages.security(session, await mfa.status(user), { error, method: factor }), 400, setCookie);
      }
      // The core dropped the trusted devices and app passwords with the factor: this browser's token is void.
      session.deviceId = null;
      forgetDevice();
      log(`security: ${user}: two-factor authentication turned off (${result.revokedAppPasswords} app passwords revoked)`);
      return redirect(res, '/security?notice=disabled', setCookie);
    }
    if (path === '/security/password' && method === 'POST') {
      const current = String(body.current || '');
      const next = String(body.password || '');
      const problem = !(await state.checkPassword(user, current))
        ? ['current', 'Your current password is not correct.']
        : next.length < MIN_PASSWORD
          ? ['password', `The new password needs at least ${MIN_PASSWORD} characters.`]
          : next !== String(body.confirm || '')
            ? ['confirm', 'The two new passwords differ.']
            : null;
      if (problem) {
        return html(res, pages.security(session, await mfa.status(user), { passwordError: problem }), 400, setCookie);
      }
      await state.setPassword(user, next);
      // The core revokes every app password and trusted device of the user.
      const revoked = await mfa.passwordChanged(user);
      // Every other session of the user ends; this one continues under a new id.
      sessions.destroyUser(user, { except: session });
      rotate();
      session.deviceId = null;
      forgetDevice();
      session.flash =
        `Password changed. Revoked ${revoked.revokedAppPasswords} app password(s) and ${revoked.revokedDevices} trusted device(s); ` +
        'other sessions were signed out.';
      log(`security: ${user}: password changed (${revoked.revokedAppPasswords} app passwords, ${revoked.revokedDevices} devices revoked)`);
      return redirect(res, '/security', setCookie);
    }

    // The JSON endpoints of <mail2fa-backup-codes>, <mail2fa-app-passwords>, <mail2fa-devices>.
    if (path === '/api/backup/status' && method === 'POST') {
      return api(async () => {
        const { remaining, issued } = await mfa.backupCodesStatus(user);
        return { remaining, issued };
      });
    }
    // Changes that add a way into the account carry a current code (proof), checked by the core.
    if (path === '/api/backup/regenerate' && method === 'POST') {
      return api(async () => {
        const made = await mfa.generateBackupCodes(user, { proof: proofOf(body) });
        if (!made.ok) refusedProof('new backup codes', made);
        log(`security: ${user}: new backup codes (proof ${made.fresh?.method})`);
        return { codes: made.codes, remaining: made.remaining };
      });
    }
    // Stored hashes (phc) stay on the server.
    const appPasswords = async () =>
      (await mfa.listAppPasswords(user)).map(({ id, label, created_at, last_used_at }) => ({ id, label, created_at, last_used_at }));
    if (path === '/api/app-passwords/list' && method === 'POST') {
      return api(async () => ({ app_passwords: await appPasswords() }));
    }
    if (path === '/api/app-passwords/create' && method === 'POST') {
      return api(async () => {
        const label = typeof body.label === 'string' ? body.label.trim() : '';
        const created = await mfa.createAppPassword(user, label, { proof: proofOf(body) });
        if (!created.ok) refusedProof('app password', created);
        log(`security: ${user}: app password ${created.id} created (proof ${created.fresh?.method})`);
        return { id: created.id, label, password: created.password };
      });
    }
    if (path === '/api/app-passwords/revoke' && method === 'POST') {
      return api(async () => {
        const revoked = await mfa.revokeAppPassword(user, String(body.id || ''));
        if (revoked) log(`security: ${user}: app password ${String(body.id)} revoked`);
        return { revoked };
      });
    }
    if (path === '/api/devices/list' && method === 'POST') {
      return api(async () => ({
        devices: (await mfa.listDevices(user)).map((d) => ({ ...d, current: d.id === session.deviceId })),
      }));
    }
    if (path === '/api/devices/revoke' && method === 'POST') {
      return api(async () => {
        const id = String(body.id || '');
        const revoked = await mfa.revokeDevice(user, id);
        if (revoked) log(`security: ${user}: trusted device ${id} revoked`);
        if (id === session.deviceId) {
          session.deviceId = null;
          forgetDevice();
        }
        return { revoked };
      });
    }
    if (path === '/api/devices/revoke-all' && method === 'POST') {
      return api(async () => {
        const revoked = await mfa.revokeAllDevices(user);
        log(`security: ${user}: ${revoked} trusted devices revoked`);
        session.deviceId = null;
        forgetDevice();
        return { revoked };
      });
    }

    // The JSON endpoints <mail2fa-enroll> talks to (endpoint-start/confirm/cancel). With 2FA
    // on, starting one replaces the authenticator: the core wants a current code (proof).
    if (path === '/api/enroll/start' && method === 'POST') {
      return api(async () => {
        const started = await mfa.enroll(user, { account: user, proof: proofOf(body) });
        if (!started.ok) refusedProof('enrollment', started);
        const { uri, secret, qr, params } = started;
        return { uri, secret, qr, params };
      });
    }
    if (path === '/api/enroll/confirm' && method === 'POST') {
      return api(async () => {
        // A confirmed enrollment comes with the first set of backup codes (the core issues
        // them in the same step), shown once; app passwords or browsers trusted before 2FA
        // was on were removed by the core.
        const replacing = (await mfa.status(user)).state === 'enabled';
        const result = await mfa.confirm(user, String(body.code || ''));
        if (result.ok && replacing) log(`security: ${user}: authenticator moved to a new phone`);
        else if (result.ok) {
          log(`security: ${user}: two-factor authentication turned on` +
            (result.revokedAppPasswords || result.revokedDevices
              ? ` (${result.revokedAppPasswords} app passwords and ${result.revokedDevices} devices made before it revoked)` : ''));
        }
        return { activated: result.ok, reason: result.reason ?? null, ...(result.ok ? { backup_codes: result.backupCodes ?? [] } : {}) };
      });
    }
    if (path === '/api/enroll/cancel' && method === 'POST') {
      return api(async () => {
        await mfa.cancelEnrollment(user);
        return { cancelled: true };
      });
    }

    return html(res, pages.message('Not found', 'There is no such page.'), 404, setCookie);
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((error) => {
      const status = error.status || 500;
      // Never echo the error: it may name a field of a request that held a code.
      log(`error: ${req.method} ${new URL(req.url, 'http://x').pathname}: ${error.code || error.name}`);
      if (!res.headersSent) {
        const wantsJson = (req.headers.accept || '').includes('application/json');
        if (wantsJson) json(res, { error: { code: error.code || 'server_error', message: 'the request failed' } }, status);
        else html(res, pages.message('Something went wrong', 'The request failed. Try again.'), status);
      } else {
        res.destroy();
      }
    });
  });

  return {
    server,
    mfa,
    state,
    sessions,
    close: () =>
      new Promise((done) => {
        server.close(() => {
          state.close();
          done();
        });
        server.closeAllConnections?.();
      }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.MAIL2FA_DEMO_PORT || 8025);
  const dir = resolve(process.env.MAIL2FA_DEMO_DIR || resolve(repo, 'build/demo'));
  const password = process.env.MAIL2FA_DEMO_PASSWORD || DEFAULT_PASSWORD;
  const quiet = process.env.MAIL2FA_DEMO_QUIET === '1';
  const policy = process.env.MAIL2FA_DEMO_MODE === 'required' ? { mode: 'required' } : {};
  const demo = await createDemo({ dir, password, policy, log: quiet ? () => {} : (line) => console.log(line) });
  demo.server.listen(port, '127.0.0.1', () => {
    const { port: actual } = demo.server.address();
    console.log(`mail2fa demo: http://127.0.0.1:${actual}/`);
    console.log(`  user:     ${DEMO_USER}`);
    console.log(`  password: ${password}`);
    const env = process.env.MAIL2FA_DEMO_DIR ? `MAIL2FA_DEMO_DIR=${dir} ` : '';
    console.log(`  state:    ${dir}`);
    console.log(`  admin:    ${env}node www/demo/admin.mjs list | status ${DEMO_USER} | reset ${DEMO_USER}`);
  });
  const stop = () => demo.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
