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
  otpauthParse,
  loginDecide,
  backupGenerate,
  backupVerify,
  backupStatus,
  deviceTrust,
  deviceList,
  deviceRevoke,
  deviceRevokeAll,
  appPasswordCreate,
  appPasswordList,
  appPasswordVerify,
  appPasswordRevoke,
  appPasswordRevokeAll,
  passwordChanged,
  importGauthenticator,
  importKolab,
} from './api.js';

/** Core errors about a stored record that keep 2FA required at login (fail closed). */
const FAIL_CLOSED = new Set(['decrypt_failed', 'unknown_key_id', 'invalid_record', 'unsupported_format']);

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
  #policy;

  /**
   * @param {object} options
   * @param {{id: string, key: string}[]} options.keys site keyring, current key first
   * @param {object} options.storage `{get, compareAndSet}` (MemoryStorage, SqliteStorage, yours)
   * @param {string} [options.issuer] shown in authenticator apps
   * @param {number} [options.window] TOTP steps accepted either side of now (core default 1)
   * @param {() => number} [options.now] milliseconds since the epoch (default Date.now)
   * @param {{getRandomValues(a: Uint8Array): Uint8Array}} [options.random] default crypto
   * @param {object} [options.policy] the site policy (docs/ops.md#site-policy-policy), passed to the core
   */
  constructor({ keys, storage, issuer, window, now = Date.now, random, policy } = {}) {
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
    this.#policy = policy;
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

  #policyField() {
    return this.#policy === undefined ? {} : { policy: this.#policy };
  }

  /**
   * Runs `step(record, stored)` (a core call) and stores the record it returns with
   * compare-and-set; when another request won the race, reads again and lets the core
   * decide again on the newer record. A user without a row gets a new empty record from the
   * core (`record.new`), written only once the core changed it (`rev` > 0), so users without
   * 2FA cost no writes. `replace` writes even when `rev` did not move (admin reset).
   */
  async #update(user, step, { replace = false } = {}) {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const row = await this.#storage.get(user);
      const current = row ? row.record : recordNew({ time: this.#time() }).record;
      const result = step(current, row !== null);
      const next = result.record;
      const changed = next != null && (row ? replace || next.rev !== row.record.rev : next.rev > 0);
      if (!changed) return result;
      if (await this.#storage.compareAndSet(user, row ? row.version : null, next)) return result;
    }
    throw new Mail2faError('conflict', 'mail2fa: the record kept changing during the update; try again');
  }

  /** The stored record, or a new empty one from the core. */
  async #current(user) {
    const row = await this.#storage.get(user);
    return row ? row.record : recordNew({ time: this.#time() }).record;
  }

  /**
   * The user's 2FA state: `{state: 'disabled'|'pending'|'enabled', ...}` (record.status).
   * A record that does not open (wrong keys, copied from another user) throws; never "off".
   */
  async status(user) {
    return recordStatus({ ...this.#context(user), record: await this.#current(user) });
  }

  #loginResult(d) {
    return {
      ok: d.verdict === 'ok',
      verdict: d.verdict,
      reason: d.reason,
      retryAfter: d.retry_after,
      method: d.method,
      methods: d.methods,
      state: d.state,
      enrollBy: d.enroll_by,
      backupCodesRemaining: d.backup_codes_remaining,
      deviceId: d.device_id,
      deviceToken: d.device_token,
      deviceExpiresAt: d.device_expires_at,
      forgetDevice: d.forget_device,
    };
  }

  /** One `login.decide` step under compare-and-set (the limiter's count is in the record). */
  async #decide(user, factor, { trustDevice = false, userAgent } = {}) {
    const context = this.#context(user);
    const trust = trustDevice
      ? { trust_device: true, entropy: this.#entropy(), ...(userAgent === undefined ? {} : { user_agent: String(userAgent) }) }
      : {};
    const decision = await this.#update(user, (record) =>
      loginDecide({ ...context, record, time: this.#time(), factor, ...this.#windowField(), ...this.#policyField(), ...trust }),
    );
    return this.#loginResult(decision);
  }

  /**
   * Call once the password is correct, with the device cookie if there is one. The core
   * decides (login.decide): `required: false` lets the login through (`verdict`
   * `not_required`, or `ok` for a trusted device); otherwise serve nothing of the mailbox
   * until `verifyLogin` says ok — or, with `enroll_required`, only the enrollment pages.
   * `forgetDevice`: delete the device cookie. A record that does not open or does not parse
   * fails closed: `required: true` with `error` naming why (an admin reset is the way back).
   */
  async beginLogin(user, { deviceToken } = {}) {
    const factor = deviceToken ? { type: 'trusted_device', value: String(deviceToken) } : null;
    try {
      const result = await this.#decide(user, factor);
      return { required: !(result.verdict === 'ok' || result.verdict === 'not_required'), ...result };
    } catch (error) {
      if (error instanceof Mail2faError && FAIL_CLOSED.has(error.code)) {
        return { required: true, ok: false, verdict: 'factor_required', state: 'enabled', error: error.code };
      }
      throw error;
    }
  }

  /**
   * Decides a submitted second factor (login.decide): a TOTP code, or with
   * `{method: 'backup_code'}` a backup code. `ok: true` lets the login through; `verdict`
   * `wrong` asks again, `locked` means wait `retryAfter` seconds. `reason` is for logs
   * only (show users one message). With `trustDevice: true` an accepted factor also returns
   * a `deviceToken` to set as an HttpOnly, Secure, SameSite cookie (never log it).
   */
  async verifyLogin(user, code, { method = 'totp', trustDevice = false, userAgent } = {}) {
    if (method !== 'totp' && method !== 'backup_code') {
      throw new Mail2faError('invalid_field', "method must be 'totp' or 'backup_code'");
    }
    return this.#decide(user, { type: method, value: String(code) }, { trustDevice, userAgent });
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
      totpEnroll({ ...context, ...options, record, time: this.#time(), entropy: this.#entropy() }),
    );
    // The QR code and the display parameters are made here, on the server, by the same core,
    // so an enrollment page needs no WebAssembly of its own.
    const { secret: _secret, ...params } = otpauthParse({ uri: result.uri });
    return { uri: result.uri, secret: result.secret, qr: qrSvg({ text: result.uri }).svg, params, state: result.state };
  }

  /**
   * Confirms the pending enrollment with the first code from the app: `{ok, reason}`. With
   * `{backupCodes: true}` a confirmed enrollment also gets a fresh set of backup codes
   * (`backupCodes`, shown once).
   */
  async confirm(user, code, { backupCodes = false } = {}) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      totpActivate({ ...context, record, code: String(code), time: this.#time(), ...this.#windowField() }),
    );
    const confirmed = { ok: result.activated, reason: result.reason, state: result.state };
    if (result.activated && backupCodes) confirmed.backupCodes = (await this.generateBackupCodes(user)).codes;
    return confirmed;
  }

  /** Drops an unfinished enrollment; an enabled factor stays. */
  async cancelEnrollment(user) {
    const result = await this.#update(user, (record) => totpCancel({ record, time: this.#time() }));
    return { state: result.state };
  }

  /**
   * Turns TOTP off (with its backup codes and trusted devices), only with a current code
   * or, with `{method: 'backup_code'}`, an unused backup code (the phone is lost), counted
   * by the attempt limiter: `{ok, reason, retryAfter, state}`.
   */
  async disable(user, code, { method = 'totp' } = {}) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      totpDisable({ ...context, record, code: String(code), method, time: this.#time(), ...this.#windowField(), ...this.#policyField() }),
    );
    return { ok: result.disabled, reason: result.reason, retryAfter: result.retry_after ?? null, state: result.state };
  }

  /** Takes over an existing key (otpauth URI, e.g. from another plugin) as the enabled factor. */
  async importUri(user, uri, { replace = false } = {}) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      totpImport({ ...context, uri, replace, record, time: this.#time(), entropy: this.#entropy() }),
    );
    return { state: result.state };
  }

  /**
   * Imports a user's settings from Roundcube's twofactor_gauthenticator (`{from:
   * 'gauthenticator', prefs}`) or kolab_2fa (`{from: 'kolab', blob}`): `{totp, backupCodes,
   * notImported, state}`; nothing is dropped silently.
   */
  async importLegacy(user, { from, prefs, blob, replace = false }) {
    const context = this.#context(user);
    const run = { gauthenticator: (r) => importGauthenticator({ ...r, prefs }), kolab: (r) => importKolab({ ...r, blob }) }[from];
    if (!run) throw new Mail2faError('invalid_field', "from must be 'gauthenticator' or 'kolab'");
    const result = await this.#update(user, (record) =>
      run({ ...context, record, replace, time: this.#time(), entropy: this.#entropy() }),
    );
    return { totp: result.totp, backupCodes: result.backup_codes, notImported: result.not_imported, state: result.state };
  }

  /** The enabled factor as an otpauth URI (moving it to another app). Treat it as a password. */
  async exportUri(user) {
    return totpExport({ ...this.#context(user), record: await this.#current(user) }).uri;
  }

  /** Re-seals the user's record under the current (first) key: `{resealed}`. */
  async rotateKey(user) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      recordRotateKey({ ...context, record, time: this.#time(), entropy: this.#entropy() }),
    );
    return { resealed: result.resealed };
  }

  // ---- backup codes ----------------------------------------------------------------------

  /** A new set of backup codes (every old one stops working): `{codes, remaining}`. Show once. */
  async generateBackupCodes(user, { count } = {}) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      backupGenerate({
        ...context, record, time: this.#time(), entropy: this.#entropy(), ...this.#policyField(),
        ...(count === undefined ? {} : { count }),
      }),
    );
    return { codes: result.codes, remaining: result.remaining };
  }

  /** Checks and consumes a backup code outside a login (re-authentication), under the limiter. */
  async verifyBackupCode(user, code) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      backupVerify({ ...context, record, code: String(code), time: this.#time(), ...this.#policyField() }),
    );
    return { ok: result.accepted, reason: result.reason, retryAfter: result.retry_after, remaining: result.remaining };
  }

  /** `{remaining, issued, created_at, last_used_at}` of the user's backup codes. */
  async backupCodesStatus(user) {
    this.#context(user);
    return backupStatus({ record: await this.#current(user) });
  }

  // ---- app passwords ---------------------------------------------------------------------

  /** A new app password for a mail client (`{password, id}`): show it once. */
  async createAppPassword(user, label) {
    const result = await this.#update(user, (record) =>
      appPasswordCreate({ ...this.#context(user), record, label, time: this.#time(), entropy: this.#entropy(), ...this.#policyField() }),
    );
    return { password: result.password, id: result.id };
  }

  /** `[{id, label, created_at, last_used_at, phc}]` (`"{ARGON2ID}" + phc` for a Dovecot passdb). */
  async listAppPasswords(user) {
    this.#context(user);
    return appPasswordList({ record: await this.#current(user) }).app_passwords;
  }

  /** Whether `password` is one of the user's app passwords (IMAP/SMTP login): `{ok, id}`. */
  async verifyAppPassword(user, password) {
    this.#context(user);
    const result = await this.#update(user, (record) =>
      appPasswordVerify({ record, password: String(password), time: this.#time() }),
    );
    return { ok: result.valid, id: result.id };
  }

  /** Revokes one app password; false when there was none with that id. */
  async revokeAppPassword(user, id) {
    this.#context(user);
    return (await this.#update(user, (record) => appPasswordRevoke({ record, id, time: this.#time() }))).revoked;
  }

  /** Revokes every app password; resolves the count. */
  async revokeAllAppPasswords(user) {
    this.#context(user);
    return (await this.#update(user, (record) => appPasswordRevokeAll({ record, time: this.#time() }))).revoked;
  }

  /** The main password changed: every app password and trusted device is revoked. */
  async passwordChanged(user) {
    this.#context(user);
    const result = await this.#update(user, (record) => passwordChanged({ record, time: this.#time() }));
    return { revokedAppPasswords: result.revoked_app_passwords, revokedDevices: result.revoked_devices };
  }

  // ---- trusted devices -------------------------------------------------------------------

  /**
   * Trusts the current device from an authenticated session (settings page): `{token, id,
   * expiresAt}`. Set `token` as an HttpOnly, Secure, SameSite cookie; pass it to beginLogin.
   */
  async trustDevice(user, { userAgent } = {}) {
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      deviceTrust({
        ...context, record, time: this.#time(), entropy: this.#entropy(), ...this.#policyField(),
        ...(userAgent === undefined ? {} : { user_agent: String(userAgent) }),
      }),
    );
    return { token: result.token, id: result.id, expiresAt: result.expires_at };
  }

  /** `[{id, label, created_at, last_seen_at, expires_at, expired}]`. */
  async listDevices(user) {
    this.#context(user);
    return deviceList({ record: await this.#current(user), time: this.#time() }).devices;
  }

  /** Forgets one trusted device; false when there was none with that id. */
  async revokeDevice(user, id) {
    this.#context(user);
    return (await this.#update(user, (record) => deviceRevoke({ record, id, time: this.#time() }))).revoked;
  }

  /** Forgets every trusted device (but `except`, e.g. the current one); resolves the count. */
  async revokeAllDevices(user, { except } = {}) {
    this.#context(user);
    return (
      await this.#update(user, (record) =>
        deviceRevokeAll({ record, time: this.#time(), ...(except === undefined ? {} : { except }) }),
      )
    ).revoked;
  }

  // ---- admin -----------------------------------------------------------------------------

  /**
   * Admin reset (the user lost their phone and codes): replaces the record with a new empty
   * one from the core (`record.new`), so the next login has no second step until the user
   * enrolls again (unless the policy requires 2FA). Resolves false when the user had no record.
   */
  async adminReset(user) {
    this.#context(user);
    let had = false;
    await this.#update(
      user,
      (_record, stored) => {
        had = stored;
        return stored ? recordNew({ time: this.#time() }) : { record: null };
      },
      { replace: true },
    );
    return had;
  }
}
