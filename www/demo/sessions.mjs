// Server-side sessions: the cookie holds only a random id (HttpOnly, SameSite=Strict);
// everything else, the CSRF token included, stays on the server.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

const IDLE_MS = 30 * 60 * 1000;
const COOKIE = 'm2f_sid';

export function parseCookies(header = '') {
  const out = {};
  for (const part of String(header).split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Constant-time comparison of two tokens (hashed first, so lengths never leak). */
export function sameToken(a, b) {
  if (typeof a !== 'string' || typeof b !== 'string' || !a || !b) return false;
  const h = (s) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

const token = () => randomBytes(32).toString('base64url');

export class Sessions {
  #byId = new Map();

  create() {
    const session = { id: token(), csrf: token(), stage: 'anonymous', user: null, seen: Date.now() };
    this.#byId.set(session.id, session);
    return session;
  }

  get(id) {
    if (typeof id !== 'string') return null;
    const session = this.#byId.get(id);
    if (!session) return null;
    if (Date.now() - session.seen > IDLE_MS) {
      this.#byId.delete(id);
      return null;
    }
    session.seen = Date.now();
    return session;
  }

  /** A new id and a new CSRF token for the same session (after each factor). */
  rotate(session) {
    this.#byId.delete(session.id);
    const next = { ...session, id: token(), csrf: token(), seen: Date.now() };
    this.#byId.set(next.id, next);
    return next;
  }

  destroy(session) {
    this.#byId.delete(session.id);
  }

  /** Drops every session of a user (admin reset, password change), but `except`. */
  destroyUser(user, { except } = {}) {
    for (const [id, s] of this.#byId) if (s.user === user && s !== except) this.#byId.delete(id);
  }

  cookie(session) {
    return `${COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Strict`;
  }

  clearCookie() {
    return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}
