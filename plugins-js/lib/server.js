// The server API for JS webmail: the whole second-factor flow over a pluggable storage.
// The host supplies time, entropy, site keys and storage; every decision is the core's.
import {
  Mail2faError,
  randomBase64,
  recordNew,
  recordStatus,
  recordRotateKey,
  totpEnroll,
  totpActivate,
  totpCancel,
  totpVerify,
  totpDisable,
  totpImport,
  totpExport,
  qrSvg,
} from './api.js';

/** How often an update is retried when another request changed the record in between. */
const MAX_ATTEMPTS = 16;

/**
 * A storage kept in memory (one process; tests, demos). Same contract as any storage:
 * `get` returns `{record, version}` or null; `compareAndSet` stores `record` only when the
 * stored version is still `expectedVersion` (null: only when there is no row) and says if it did.
 */
export class MemoryStorage {
  #rows = new Map();

  async get(user) {
    const row = this.#rows.get(user);
    return row ? { record: structuredClone(row.record), version: row.version } : null;
  }

  async compareAndSet(user, expectedVersion, record) {
    const row = this.#rows.get(user);
    const current = row ? row.version : null;
    if (current !== expectedVersion) return false;
    this.#rows.set(user, { record: structuredClone(record), version: (current ?? 0) + 1 });
    return true;
  }
}

/**
 * Two-factor authentication for one site. Call after the password check succeeded:
 * `beginLogin(user)` says whether a second factor is needed; `verifyLogin(user, code)`
 * decides it. Enrollment: `enroll` → show the QR code → `confirm` with the first code.
 */
export class Mail2fa {
  #keys;
  #storage;
  #now;
  #random;
  #issuer;
  #window;

  /**
   * @param {object} options
   * @param {{id: string, key: string}[]} options.keys site keyring, current key first
   * @param {object} options.storage `{get, compareAndSet}` (MemoryStorage, SqliteStorage, yours)
   * @param {string} [options.issuer] shown in authenticator apps
   * @param {number} [options.window] TOTP steps accepted either side of now (core default 1)
   * @param {() => number} [options.now] milliseconds since the epoch (default Date.now)
   * @param {{getRandomValues(a: Uint8Array): Uint8Array}} [options.random] default crypto
   */
  constructor({ keys, storage, issuer, window, now = Date.now, random } = {}) {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new Mail2faError('missing_field', 'Mail2fa needs keys: [{id, key}] (current key first)');
    }
    if (!storage || typeof storage.get !== 'function' || typeof storage.compareAndSet !== 'function') {
      throw new Mail2faError('missing_field', 'Mail2fa needs a storage with get(user) and compareAndSet(user, version, record)');
    }
    this.#keys = keys.map(({ id, key }) => ({ id, key }));
    this.#storage = storage;
    this.#issuer = issuer;
    this.#window = window;
    this.#now = now;
    this.#random = random;
  }

  #time() {
    return Math.floor(this.#now() / 1000);
  }

  #entropy() {
    return randomBase64(32, this.#random);
  }

  #context(user) {
    if (typeof user !== 'string') throw new Mail2faError('invalid_field', 'user must be a string');
    return { user, keys: this.#keys };
  }

  #windowField() {
    return this.#window === undefined ? {} : { window: this.#window };
  }

  /**
   * Runs `step(record)` (a core call; record is null when the user has none) and stores the
   * record it returns with compare-and-set; when another request won the race, reads again
   * and lets the core decide again on the newer record.
   */
  async #update(user, step, { replace = false } = {}) {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const row = await this.#storage.get(user);
      const result = step(row ? row.record : null);
      const next = result.record;
      const changed = next && (!row || replace || next.rev !== row.record.rev);
      if (!changed) return result;
      if (await this.#storage.compareAndSet(user, row ? row.version : null, next)) return result;
    }
    throw new Mail2faError('conflict', 'mail2fa: the record kept changing during the update; try again');
  }

  async #read(user) {
    const row = await this.#storage.get(user);
    return row ? row.record : null;
  }

  /**
   * The user's 2FA state: `{state: 'disabled'|'pending'|'enabled', ...}` (record.status).
   * A record that does not open (wrong keys, copied from another user) throws; never "off".
   */
  async status(user) {
    const record = await this.#read(user);
    const context = this.#context(user);
    if (!record) return { state: 'disabled', totp: null, pending: false };
    return recordStatus({ ...context, record });
  }

  /**
   * Call once the password is correct. `{required: true}` means: serve nothing of the
   * mailbox until `verifyLogin` accepts. Fails closed: a record that does not open counts
   * as required (and `error` names why; verifyLogin will refuse until an admin resets it).
   */
  async beginLogin(user) {
    try {
      const status = await this.status(user);
      return { required: status.state === 'enabled', state: status.state };
    } catch (error) {
      if (error instanceof Mail2faError && error.code !== 'invalid_field' && error.code !== 'missing_field') {
        return { required: true, state: 'enabled', error: error.code };
      }
      throw error;
    }
  }

  /**
   * Decides a submitted second factor. `{ok: true}` lets the login through; otherwise
   * `reason` is for logs only (show users one message for every reason).
   */
  async verifyLogin(user, code) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) => {
      if (!record) throw new Mail2faError('not_enabled', 'the user has no enabled second factor');
      return totpVerify({ ...context, record, code: String(code), time: this.#time(), ...this.#windowField() });
    });
    return { ok: result.accepted, reason: result.reason, step: result.step };
  }

  /**
   * Starts (or restarts) an enrollment. Returns the otpauth `uri`, its `qr` code as SVG and
   * the base32 `secret` for typing: show them to the user once; never log them or put them
   * in a URL or cookie. An enabled factor stays in force until `confirm`.
   */
  async enroll(user, { account, issuer = this.#issuer, algorithm, digits, period } = {}) {
    const context = this.#context(user);
    const options = Object.fromEntries(
      Object.entries({ account, issuer, algorithm, digits, period }).filter(([, v]) => v !== undefined),
    );
    const result = await this.#update(user, (record) =>
      totpEnroll({ ...context, ...options, ...(record ? { record } : {}), time: this.#time(), entropy: this.#entropy() }),
    );
    return { uri: result.uri, secret: result.secret, qr: qrSvg({ text: result.uri }).svg, state: result.state };
  }

  /** Confirms the pending enrollment with the first code from the app: `{ok, reason}`. */
  async confirm(user, code) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) => {
      if (!record) throw new Mail2faError('no_pending_enrollment', 'there is no enrollment to confirm');
      return totpActivate({ ...context, record, code: String(code), time: this.#time(), ...this.#windowField() });
    });
    return { ok: result.activated, reason: result.reason, state: result.state };
  }

  /** Drops an unfinished enrollment; an enabled factor stays. */
  async cancelEnrollment(user) {
    const result = await this.#update(user, (record) =>
      record ? totpCancel({ record, time: this.#time() }) : { state: 'disabled', record: null },
    );
    return { state: result.state };
  }

  /** Turns TOTP off, only with a current code: `{ok, reason}`. */
  async disable(user, code) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) => {
      if (!record) throw new Mail2faError('not_enabled', 'the user has no enabled second factor');
      return totpDisable({ ...context, record, code: String(code), time: this.#time(), ...this.#windowField() });
    });
    return { ok: result.disabled, reason: result.reason, state: result.state };
  }

  /** Takes over an existing key (otpauth URI, e.g. from another plugin) as the enabled factor. */
  async importUri(user, uri, { replace = false } = {}) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      totpImport({ ...context, uri, replace, ...(record ? { record } : {}), time: this.#time(), entropy: this.#entropy() }),
    );
    return { state: result.state };
  }

  /** The enabled factor as an otpauth URI (moving it to another app). Treat it as a password. */
  async exportUri(user) {
    const record = await this.#read(user);
    if (!record) throw new Mail2faError('not_enabled', 'the user has no enabled TOTP factor');
    return totpExport({ ...this.#context(user), record }).uri;
  }

  /** Re-seals the user's record under the current (first) key: `{resealed}`. */
  async rotateKey(user) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      record
        ? recordRotateKey({ ...context, record, time: this.#time(), entropy: this.#entropy() })
        : { resealed: 0, record: null },
    );
    return { resealed: result.resealed };
  }

  /**
   * Admin reset (the user lost their phone and codes): replaces the record with a new empty
   * one from the core (`record.new`), so the next login has no second step until the user
   * enrolls again. Resolves false when the user had no record.
   */
  async adminReset(user) {
    this.#context(user);
    let had = false;
    await this.#update(
      user,
      (record) => {
        had = record !== null;
        return had ? recordNew({ time: this.#time() }) : { record: null };
      },
      { replace: true },
    );
    return had;
  }
}
