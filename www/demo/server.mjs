// The reference JS webmail demo: a small node:http server on the npm package's Mail2fa
// class and its SQLite storage. Password login → second factor → an "inbox"; the security
// page enrolls with <mail2fa-enroll>. Run it with `make demo` (or `node www/demo/server.mjs`).
//
// Environment: MAIL2FA_DEMO_PORT (default 8025), MAIL2FA_DEMO_DIR (state: default build/demo),
// MAIL2FA_DEMO_PASSWORD (the seeded user's password; default printed at start),
// MAIL2FA_DEMO_QUIET=1 (no request log).
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { Mail2fa } from 'mail2fa';
import { SqliteStorage } from 'mail2fa/sqlite';
import { openDemoState } from './state.mjs';
import { Sessions, parseCookies, sameToken } from './sessions.mjs';
import { Assets } from './assets.mjs';
import * as pages from './pages.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

export const DEMO_USER = 'demo@example.com';
export const DEFAULT_PASSWORD = 'demo-password';

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

/** Builds the demo app; returns {server, mfa, state, close}. */
export async function createDemo({ dir, password = DEFAULT_PASSWORD, log = console.log } = {}) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const state = openDemoState(resolve(dir, 'demo.sqlite'));
  const storage = new SqliteStorage(state.db);
  const mfa = new Mail2fa({ keys: state.siteKeys(), storage, issuer: 'mail2fa demo' });
  await state.seedUser(DEMO_USER, password);
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
    const setCookie = {};
    if (!session) {
      session = sessions.create();
      setCookie['Set-Cookie'] = sessions.cookie(session);
    }
    /** Replaces the session id (login, second factor): an id seen before a login is dropped. */
    const rotate = () => {
      session = sessions.rotate(session);
      setCookie['Set-Cookie'] = sessions.cookie(session);
    };

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

    // --- Before any login ---
    if (path === '/' && method === 'GET') return redirect(res, full ? '/inbox' : '/login', setCookie);
    if (path === '/login' && method === 'GET') {
      if (full) return redirect(res, '/inbox', setCookie);
      return html(res, pages.login(session, { user: DEMO_USER }), 200, setCookie);
    }
    if (path === '/login' && method === 'POST') {
      const name = String(body.user || '').trim();
      if (!(await state.checkPassword(name, String(body.password || '')))) {
        return html(res, pages.login(session, { user: name, error: 'Wrong user name or password.' }), 401, setCookie);
      }
      const login = await mfa.beginLogin(name);
      rotate();
      session.user = name;
      if (login.required) {
        session.stage = 'second';
        log(`login: ${name}: password ok, second factor required`);
        return redirect(res, '/login/2fa', setCookie);
      }
      session.stage = 'full';
      log(`login: ${name}: password ok, no second factor enrolled`);
      return redirect(res, '/inbox', setCookie);
    }
    if (path === '/login/2fa') {
      if (session.stage !== 'second') return redirect(res, full ? '/inbox' : '/login', setCookie);
      if (method === 'GET') return html(res, pages.secondFactor(session), 200, setCookie);
      const result = await mfa.verifyLogin(user, String(body.code || ''));
      if (!result.ok) {
        log(`login: ${user}: second factor refused (${result.reason})`);
        return html(res, pages.secondFactor(session, { error: 'That code was not accepted. Try the next code from your app.' }), 401, setCookie);
      }
      rotate();
      session.stage = 'full';
      log(`login: ${user}: second factor accepted`);
      return redirect(res, '/inbox', setCookie);
    }
    if (path === '/logout' && method === 'POST') {
      sessions.destroy(session);
      return redirect(res, '/login', { 'Set-Cookie': sessions.clearCookie() });
    }

    // --- Everything below needs both factors ---
    if (!full) {
      if (path.startsWith('/api/')) return json(res, { error: { code: 'unauthenticated', message: 'sign in first' } }, 401);
      return redirect(res, session.stage === 'second' ? '/login/2fa' : '/login', setCookie);
    }

    if (path === '/inbox' && method === 'GET') {
      return html(res, pages.inbox(session, await mfa.status(user)), 200, setCookie);
    }
    if (path === '/security' && method === 'GET') {
      return html(res, pages.security(session, await mfa.status(user), {
          notice: url.searchParams.get('notice'),
          start: url.searchParams.get('start') === '1',
        }), 200, setCookie);
    }
    if (path === '/security/disable' && method === 'POST') {
      const result = await mfa.disable(user, String(body.code || ''));
      if (!result.ok) {
        return html(res, pages.security(session, await mfa.status(user), { error: 'That code was not accepted; two-factor authentication is still on.' }), 400, setCookie);
      }
      log(`security: ${user}: two-factor authentication turned off`);
      return redirect(res, '/security?notice=disabled', setCookie);
    }

    // The JSON endpoints <mail2fa-enroll> talks to (endpoint-start/confirm/cancel).
    if (path === '/api/enroll/start' && method === 'POST') {
      const { uri, secret, qr, params } = await mfa.enroll(user, { account: user });
      return json(res, { uri, secret, qr, params });
    }
    if (path === '/api/enroll/confirm' && method === 'POST') {
      const result = await mfa.confirm(user, String(body.code || ''));
      if (result.ok) log(`security: ${user}: two-factor authentication turned on`);
      return json(res, { activated: result.ok, reason: result.reason ?? null });
    }
    if (path === '/api/enroll/cancel' && method === 'POST') {
      await mfa.cancelEnrollment(user);
      return json(res, { cancelled: true });
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
  const demo = await createDemo({ dir, password, log: quiet ? () => {} : (line) => console.log(line) });
  demo.server.listen(port, '127.0.0.1', () => {
    const { port: actual } = demo.server.address();
    console.log(`mail2fa demo: http://127.0.0.1:${actual}/`);
    console.log(`  user:     ${DEMO_USER}`);
    console.log(`  password: ${password}`);
    console.log(`  state:    ${dir} (admin: node www/demo/admin.mjs status|reset ${DEMO_USER})`);
  });
  const stop = () => demo.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
