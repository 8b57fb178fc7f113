// The server API for JS webmail: the whole second-factor flow over a pluggable storage.
// The host supplies time, entropy, site keys and storage; every decision is the core's.
import {
  Mail2faError,
  randomBase64,
  recordNew,
  recordStatus,
  recordRotateKey,
  recordReset,
  recordProjection,
  userCanonical,
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
import { runOpOnStoredRecordText, storedRecordRev, toJson, NOT_JSON } from './core.js';

/**
 * The compare-and-set retry rule of the host contract (docs/hosts.md; the PHP plugin uses the
 * same numbers): at most 8 tries; after a lost race, wait a random 1–20 ms, read again and let
 * the core decide again on the newer record.
 */
const MAX_ATTEMPTS = 8;
const BACKOFF_MS = [1, 20];

/** A request field's JSON text; what is no JSON value is refused as the core's typed functions do. */
function jsonField(value) {
  const text = toJson(value);
  if (text === null) throw new Mail2faError('invalid_request', NOT_JSON);
  return text;
}

/** The error for a policy that is no object (or a policy function that returned none); PHP's Service says the same. */
const POLICY_NOT_OBJECT = 'policy must be an object, or a function of the canonical user name that returns one';

/**
 * Whether `value` is a policy object: a plain object (`{...}`, JSON.parse's, Object.create(null)).
 * Not null, not an array, and not an instance of something else — a Promise (an async policy
 * function's result not awaited) or a Map would serialize to `{}`, the default policy, and
 * silently drop a required 2FA.
 */
function isPolicyObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** The constructor options (PHP's Service also takes `core`). */
const OPTIONS = ['keys', 'storage', 'issuer', 'window', 'policy', 'username', 'now', 'random'];

/**
 * A string argument (a user name, a code, a password); anything else is `invalid_field`
 * "<name> must be a string" — never coerced (String(123456) would pass a number, and an
 * object would become "[object Object]"). PHP's Service refuses the same with the same words.
 */
function stringArg(value, name) {
  if (typeof value !== 'string') throw new Mail2faError('invalid_field', `${name} must be a string`);
  return value;
}

/**
 * A method's options argument: undefined or null is none; otherwise an object (else
 * `invalid_field`). Within it an option set to null counts as not given, as in PHP.
 */
function optionsArg(value) {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Mail2faError('invalid_field', 'options must be an object');
  return value;
}

/** An optional string option (userAgent): null/undefined is not given; anything else but a string is invalid_field. */
function optionalString(value, name) {
  if (value === undefined || value === null) return undefined;
  return stringArg(value, name);
}

/** Login names whose canonical form (user.canonical) a Mail2fa keeps, at most. */
const CANONICAL_CACHE = 1024;

const backoff = () =>
  new Promise((done) => setTimeout(done, BACKOFF_MS[0] + Math.floor(Math.random() * (BACKOFF_MS[1] - BACKOFF_MS[0] + 1))));

/**
 * A storage kept in memory (one process; tests, demos). Same contract as any storage:
 * `get` returns `{record, version}` or null; `compareAndSet` stores `record` only when the
 * stored version is still `expectedVersion` (null: only when there is no row) and says if it did.
 * Like a database it keeps each record as JSON text, and offers it as such (`getText`,
 * `compareAndSetText`), which a login check uses as is.
 */
export class MemoryStorage {
  #rows = new Map();

  async get(user) {
    const row = this.#rows.get(user);
    return row ? { record: JSON.parse(row.text), version: row.version } : null;
  }

  async compareAndSet(user, expectedVersion, record) {
    return this.compareAndSetText(user, expectedVersion, JSON.stringify(record));
  }

  /** The row with the record as the JSON text stored: `{text, version}` or null. */
  async getText(user) {
    const row = this.#rows.get(user);
    return row ? { text: row.text, version: row.version } : null;
  }

  /** `compareAndSet` of a record given as JSON text. */
  async compareAndSetText(user, expectedVersion, text) {
    const row = this.#rows.get(user);
    const current = row ? row.version : null;
    if (current !== expectedVersion) return false;
    this.#rows.set(user, { text: String(text), version: (current ?? 0) + 1 });
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
  #username;
  #canonical = new Map();
  #keysText;

  /**
   * @param {object} options
   * @param {{id: string, key: string}[]} options.keys site keyring, current key first
   * @param {object} options.storage `{get, compareAndSet}` (MemoryStorage, SqliteStorage, yours)
   * @param {string} [options.issuer] shown in authenticator apps
   * @param {number} [options.window] TOTP steps accepted either side of now (core default 1)
   * @param {() => number} [options.now] milliseconds since the epoch (default Date.now)
   * @param {{getRandomValues(a: Uint8Array): Uint8Array}} [options.random] default crypto
   * @param {object | ((user: string) => object)} [options.policy] the site policy
   *   (docs/ops.md#site-policy-policy), passed to the core on every call that takes one; or a
   *   function of the canonical user name returning the policy for that user, or a promise of
   *   it (called once per method call that needs it; anything but a plain object is refused:
   *   `invalid_field`)
   * @param {{case?: 'lower'|'keep', domain?: 'keep'|'strip', default_domain?: string}} [options.username]
   *   how the core makes the one canonical user name (user.canonical) every method keys on;
   *   configure it as your IMAP server resolves names (default: ASCII lower case, domain kept)
   */
  constructor(options = {}) {
    const unknown = Object.keys(optionsArg(options)).filter((name) => !OPTIONS.includes(name));
    if (unknown.length) throw new Mail2faError('invalid_field', `unknown option(s): ${unknown.join(', ')}`);
    const { keys, storage, issuer, window, random, policy, username } = options;
    const now = options.now ?? Date.now;
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new Mail2faError('missing_field', 'Mail2fa needs keys: [{id, key}] (current key first)');
    }
    if (!keys.every((k) => k !== null && typeof k === 'object' && !Array.isArray(k))) {
      throw new Mail2faError('invalid_field', 'keys must be a list of {id, key} (current key first)');
    }
    if (!storage || typeof storage.get !== 'function' || typeof storage.compareAndSet !== 'function') {
      throw new Mail2faError('missing_field', 'Mail2fa needs a storage with get(user) and compareAndSet(user, version, record)');
    }
    if (policy != null && typeof policy !== 'function' && !isPolicyObject(policy)) {
      throw new Mail2faError('invalid_field', POLICY_NOT_OBJECT);
    }
    if (username != null && (typeof username !== 'object' || Array.isArray(username))) {
      throw new Mail2faError('invalid_field', 'username must be an object: {case, domain, default_domain}');
    }
    this.#keys = keys.map(({ id, key }) => ({ id, key }));
    this.#storage = storage;
    // An option set to null counts as not given, as in PHP.
    this.#issuer = issuer ?? undefined;
    this.#window = window ?? undefined;
    this.#now = now;
    this.#random = random ?? undefined;
    this.#policy = policy ?? undefined;
    this.#username = username ?? undefined;
  }

  #time() {
    return Math.floor(this.#now() / 1000);
  }

  #entropy() {
    return randomBase64(32, this.#random);
  }

  /**
   * The canonical user name (core op user.canonical): 'ALICE' and 'alice' are one record.
   * Every public method keys its storage row and every core call on this name only.
   */
  canonicalUser(user) {
    if (typeof user !== 'string') throw new Mail2faError('invalid_field', 'user must be a string');
    // The core's answer depends on the name and this instance's rule only: kept for the
    // names seen last (refusals are not kept: they throw every time).
    const known = this.#canonical.get(user);
    if (known !== undefined) return known;
    const canonical = userCanonical({ user, ...(this.#username === undefined ? {} : { username: this.#username }) }).user;
    if (this.#canonical.size >= CANONICAL_CACHE) this.#canonical.clear();
    this.#canonical.set(user, canonical);
    return canonical;
  }

  #context(user) {
    return { user, keys: this.#keys };
  }

  /** A proof (a current factor) for a security change: `{method: 'totp'|'backup_code', code}`. */
  #proofField(proof) {
    if (proof === undefined || proof === null) return {};
    if (typeof proof !== 'object' || Array.isArray(proof)) {
      throw new Mail2faError('invalid_field', "proof must be {method: 'totp'|'backup_code', code}");
    }
    const code = proof.code ?? '';
    if (typeof code !== 'string') {
      throw new Mail2faError('invalid_field', "proof must be {method: 'totp'|'backup_code', code}");
    }
    return { proof: { method: proof.method === undefined ? 'totp' : proof.method, code } };
  }

  /** The core's `fresh` outcome in camelCase (null when the op needed no proof). */
  #fresh(fresh) {
    if (!fresh) return null;
    return { accepted: fresh.accepted === true, method: fresh.method ?? null, reason: fresh.reason ?? null, retryAfter: fresh.retry_after ?? null };
  }

  #windowField() {
    return this.#window === undefined ? {} : { window: this.#window };
  }

  /**
   * The policy for `user` (canonical): the one site policy, or what the policy function
   * returns for this user — or resolves to: an async function (a database lookup) is awaited —
   * which must be a plain object (anything else is `invalid_field`).
   */
  async #policyFor(user) {
    const policy = await this.#policy(user);
    if (!isPolicyObject(policy)) throw new Mail2faError('invalid_field', POLICY_NOT_OBJECT);
    return policy;
  }

  /**
   * The request's `policy` field for `user` (canonical), or nothing when there is no policy.
   * A promise only with a policy function: the login check awaits nothing it need not.
   */
  #policyField(user) {
    if (typeof this.#policy === 'function') return this.#policyFor(user).then((policy) => ({ policy }));
    return this.#policy === undefined ? {} : { policy: this.#policy };
  }

  /**
   * Runs `step(record, stored)` (a core call) and stores the record it returns with
   * compare-and-set; when another request won the race, waits a random 1–20 ms, reads again
   * and lets the core decide again on the newer record (8 tries). A user without a row gets
   * a new empty record from the core (`record.new`), written only once the core changed it
   * (`rev` > 0), so users without 2FA cost no writes. `user` is already canonical.
   */
  async #update(user, step) {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff();
      const row = await this.#storage.get(user);
      const current = row ? row.record : recordNew({ time: this.#time() }).record;
      const result = step(current, row !== null);
      const next = result.record;
      const changed = next != null && (row ? next.rev !== row.record.rev : next.rev > 0);
      if (!changed) return result;
      if (await this.#storage.compareAndSet(user, row ? row.version : null, next)) return result;
    }
    throw new Mail2faError('conflict', 'mail2fa: the record kept changing during the update; try again');
  }

  /**
   * `#update` over a storage that offers records as the JSON text it keeps (`getText`,
   * `compareAndSetText`): `step(text)` gets that text (null: no row) to pass to the core as
   * is and returns `{response, recordText}` (runOpOnStoredRecord), so a login check neither
   * parses the stored record nor stringifies the new one; the stored text must be one JSON
   * object (else `invalid_record`: nothing of it reaches the core). Same compare-and-set
   * rule, and the same writes, as `#update` (a write when `rev` moved; none for a user
   * without a row whose record the core left at rev 0).
   */
  async #updateText(user, step) {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff();
      const row = await this.#storage.getText(user);
      const storedRev = row ? storedRecordRev(row.text) : null;
      const { response, recordText } = step(row ? row.text : null);
      // A write when the record's rev moved (docs/hosts.md §2.3). The core writes a record it
      // left alone exactly as it read it, so equal text is no change; other text is a change
      // unless both top-level revs are found and equal: a stored text that is valid but not the
      // core's bytes (pretty-printed by a tool) is not rewritten under the same rev, which a
      // storage may refuse (PHP's Service follows the same rule). Without a row: a record the
      // core moved past rev 0.
      const changed = recordText !== null && (row
        ? recordText !== row.text && !(storedRev !== null && storedRecordRev(recordText) === storedRev)
        : storedRecordRev(recordText) !== '0');
      if (!changed) return response;
      if (await this.#storage.compareAndSetText(user, row ? row.version : null, recordText)) return response;
    }
    throw new Mail2faError('conflict', 'mail2fa: the record kept changing during the update; try again');
  }

  #storesText() {
    return typeof this.#storage.getText === 'function' && typeof this.#storage.compareAndSetText === 'function';
  }

  /** The stored record, or a new empty one from the core. */
  async #current(user) {
    const row = await this.#storage.get(user);
    return row ? row.record : recordNew({ time: this.#time() }).record;
  }

  /**
   * The user's 2FA state: `{state: 'disabled'|'pending'|'enabled', retry_after, ...}` (record.status).
   * A record that does not open (wrong keys, copied from another user) throws; never "off".
   */
  async status(user) {
    user = this.canonicalUser(user);
    // With the time, the core also says how long a lock still lasts (`retry_after`).
    return recordStatus({ ...this.#context(user), record: await this.#current(user), time: this.#time() });
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
      trustDays: d.trust_days ?? 0,
      pendingExpiresAt: d.pending_expires_at ?? null,
    };
  }

  /**
   * A login held because no decision could be made (docs/hosts.md §5): every key of a login
   * result, `ok: false`, `verdict: 'factor_required'`, `reason: 'error'`, `state: 'enabled'` —
   * never "2FA off" — and `error` (the Mail2faError's code, else `host_error`) with its
   * `message`, for the admin log. PHP's Service returns the same keys and values.
   */
  #held(error) {
    const code = error instanceof Mail2faError ? error.code : 'host_error';
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false, verdict: 'factor_required', reason: 'error', retryAfter: null, method: null, methods: null,
      state: 'enabled', enrollBy: null, backupCodesRemaining: null, deviceId: null, deviceToken: null,
      deviceExpiresAt: null, forgetDevice: false, trustDays: 0, pendingExpiresAt: null, error: code, message,
    };
  }

  /** One `login.decide` step under compare-and-set (the limiter's count is in the record). */
  async #decide(user, factor, { trustDevice = false, userAgent } = {}) {
    const context = this.#context(user);
    let policy = this.#policyField(user);
    if (policy instanceof Promise) policy = await policy;
    const trust = trustDevice
      ? { trust_device: true, entropy: this.#entropy(), ...(userAgent === undefined ? {} : { user_agent: userAgent }) }
      : {};
    const fields = () => ({ ...context, time: this.#time(), factor, ...this.#windowField(), ...policy, ...trust });
    let decision;
    if (this.#storesText()) {
      // The request as text around the stored record's text; without a row the core
      // decides on a new empty record (what record.new gives at the same time).
      this.#keysText ??= JSON.stringify(this.#keys);
      const fixed = `"user":${JSON.stringify(user)},"keys":${this.#keysText},"factor":${JSON.stringify(factor)}`
        + (this.#window === undefined ? '' : `,"window":${JSON.stringify(this.#window)}`)
        + (policy.policy === undefined ? '' : `,"policy":${jsonField(policy.policy)}`)
        + (trustDevice ? `,"trust_device":true,"entropy":${JSON.stringify(trust.entropy)}` : '')
        + (trust.user_agent === undefined ? '' : `,"user_agent":${JSON.stringify(trust.user_agent)}`);
      decision = await this.#updateText(user, (text) =>
        runOpOnStoredRecordText('login.decide', `${fixed},"time":${this.#time()}`, text));
    } else {
      decision = await this.#update(user, (record) => loginDecide({ ...fields(), record }));
    }
    return this.#loginResult(decision);
  }

  /**
   * Call once the password is correct, with the device cookie if there is one. The core
   * decides (login.decide): `required: false` lets the login through (`verdict`
   * `not_required`, or `ok` for a trusted device); otherwise serve nothing of the mailbox
   * until `verifyLogin` says ok — or, with `enroll_required`, only the enrollment pages.
   * `forgetDevice`: delete the device cookie. `pendingExpiresAt` (Unix seconds): the second
   * step ends then (sign the pending session out); `trustDays`: offer "trust this browser for
   * N days" only when > 0. ANY error (a record that does not open or parse, a name the
   * core refuses, a bad policy, a lost race, a storage that throws: `host_error`) fails
   * closed: the held login (`required: true`, `ok: false`, `verdict: 'factor_required'`,
   * `reason: 'error'`, `state: 'enabled'`, with `error` naming why and its `message`, for logs;
   * an admin reset is the way back from a broken record). It never throws.
   */
  async beginLogin(user, options) {
    try {
      user = this.canonicalUser(user);
      // The device cookie's value; none (undefined, null, '') is no factor.
      const deviceToken = optionsArg(options).deviceToken ?? '';
      if (typeof deviceToken !== 'string') throw new Mail2faError('invalid_field', 'deviceToken must be a string');
      const factor = deviceToken !== '' ? { type: 'trusted_device', value: deviceToken } : null;
      const result = await this.#decide(user, factor);
      return { required: !(result.verdict === 'ok' || result.verdict === 'not_required'), ...result };
    } catch (error) {
      // Fail closed on everything, a storage that throws included (docs/hosts.md §5): there is
      // no error for which a 2FA user gets in.
      return { required: true, ...this.#held(error) };
    }
  }

  /**
   * Decides a submitted second factor (login.decide): a TOTP code, or with
   * `{method: 'backup_code'}` a backup code. `ok: true` lets the login through; `verdict`
   * `wrong` asks again, `locked` means wait `retryAfter` seconds. `reason` is for logs
   * only (show users one message). With `trustDevice: true` an accepted factor also returns
   * a `deviceToken` to set as an HttpOnly, Secure, SameSite cookie (never log it).
   * Like beginLogin it never throws: a record that does not open (wrong keys, another user's
   * record), a refused name, a bad argument, a storage error or a lost race resolves the held
   * login (`ok: false`, `verdict: 'factor_required'`, `reason: 'error'`, `error`, `message`):
   * keep the session pending.
   */
  async verifyLogin(user, code, options) {
    try {
      user = this.canonicalUser(user);
      stringArg(code, 'code');
      const { method = 'totp', trustDevice, userAgent } = optionsArg(options);
      if (method !== 'totp' && method !== 'backup_code' && method !== null) {
        throw new Mail2faError('invalid_field', "method must be 'totp' or 'backup_code'");
      }
      const agent = optionalString(userAgent, 'userAgent');
      return await this.#decide(user, { type: method ?? 'totp', value: code }, { trustDevice: trustDevice === true, userAgent: agent });
    } catch (error) {
      return this.#held(error);
    }
  }

  /**
   * Starts (or restarts) an enrollment. Returns the otpauth `uri`, its `qr` code as SVG and
   * the base32 `secret` for typing: show them to the user once; never log them or put them
   * in a URL or cookie. An enabled factor stays in force until `confirm`.
   *
   * Replacing an enabled authenticator needs `proof`, a current factor (`{method: 'totp' |
   * 'backup_code', code}`), checked by the core under the attempt limiter; without one the
   * core refuses (`fresh_factor_required`). `ok: false` with `fresh.reason` (`wrong_code`,
   * `replayed`, `malformed`, `locked` with `fresh.retryAfter`): nothing started.
   */
  async enroll(user, options) {
    user = this.canonicalUser(user);
    const { account, issuer = this.#issuer, algorithm, digits, period, proof } = optionsArg(options);
    const proofField = this.#proofField(proof);
    const policy = await this.#policyField(user);
    const context = this.#context(user);
    const fields = Object.fromEntries(
      Object.entries({ account, issuer: issuer === null ? this.#issuer : issuer, algorithm, digits, period })
        .filter(([, v]) => v !== undefined && v !== null),
    );
    const result = await this.#update(user, (record) =>
      totpEnroll({ ...context, ...fields, ...proofField, ...policy, record, time: this.#time(), entropy: this.#entropy() }),
    );
    const fresh = this.#fresh(result.fresh);
    if (fresh && !fresh.accepted) return { ok: false, fresh, state: result.state ?? null };
    // The QR code and the display parameters are made here, on the server, by the same core,
    // so an enrollment page needs no WebAssembly of its own.
    const { secret: _secret, ...params } = otpauthParse({ uri: result.uri });
    return { ok: true, uri: result.uri, secret: result.secret, qr: qrSvg({ text: result.uri }).svg, params, state: result.state, fresh };
  }

  /**
   * Confirms the pending enrollment with the first code from the app: `{ok, reason, state}`.
   * A confirmed enrollment comes with the first set of backup codes when the policy allows
   * them (`backupCodes`, issued by the core in the same step; show them once). When this is
   * the user's first factor, the core removes every app password and trusted device made
   * before it (`revokedAppPasswords`, `revokedDevices`): nothing planted with the password
   * alone survives turning 2FA on.
   */
  async confirm(user, code) {
    user = this.canonicalUser(user);
    stringArg(code, 'code');
    const policy = await this.#policyField(user);
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      totpActivate({
        ...context, record, code, time: this.#time(), entropy: this.#entropy(),
        ...this.#windowField(), ...policy,
      }),
    );
    const confirmed = { ok: result.activated, reason: result.reason, state: result.state };
    if (result.activated) {
      if (Array.isArray(result.backup_codes)) confirmed.backupCodes = result.backup_codes;
      confirmed.revokedAppPasswords = result.revoked_app_passwords ?? 0;
      confirmed.revokedDevices = result.revoked_devices ?? 0;
    }
    return confirmed;
  }

  /** Drops an unfinished enrollment; an enabled factor stays. */
  async cancelEnrollment(user) {
    user = this.canonicalUser(user);
    const result = await this.#update(user, (record) => totpCancel({ record, time: this.#time() }));
    return { state: result.state };
  }

  /**
   * Turns TOTP off (with its backup codes, trusted devices and app passwords), only with a
   * current code or, with `{method: 'backup_code'}`, an unused backup code (the phone is
   * lost), counted by the attempt limiter: `{ok, reason, retryAfter, state, revokedAppPasswords}`.
   */
  async disable(user, code, options) {
    user = this.canonicalUser(user);
    stringArg(code, 'code');
    const method = optionsArg(options).method ?? 'totp';
    const policy = await this.#policyField(user);
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      totpDisable({ ...context, record, code, method, time: this.#time(), ...this.#windowField(), ...policy }),
    );
    return {
      ok: result.disabled, reason: result.reason, retryAfter: result.retry_after ?? null, state: result.state,
      revokedAppPasswords: result.disabled ? result.revoked_app_passwords ?? 0 : 0,
    };
  }

  /** Takes over an existing key (otpauth URI, e.g. from another plugin) as the enabled factor. */
  async importUri(user, uri, options) {
    user = this.canonicalUser(user);
    stringArg(uri, 'uri');
    const replace = optionsArg(options).replace ?? false;
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
  async importLegacy(user, options) {
    user = this.canonicalUser(user);
    const { from, prefs, blob, replace: replaceOption } = optionsArg(options);
    const replace = replaceOption ?? false;
    const context = this.#context(user);
    const importers = { gauthenticator: (r) => importGauthenticator({ ...r, prefs }), kolab: (r) => importKolab({ ...r, blob }) };
    // Own keys only: 'constructor' or 'toString' name no importer.
    const run = typeof from === 'string' && Object.hasOwn(importers, from) ? importers[from] : null;
    if (!run) throw new Mail2faError('invalid_field', "from must be 'gauthenticator' or 'kolab'");
    const result = await this.#update(user, (record) =>
      run({ ...context, record, replace, time: this.#time(), entropy: this.#entropy() }),
    );
    return { totp: result.totp, backupCodes: result.backup_codes, notImported: result.not_imported, state: result.state };
  }

  /** The enabled factor as an otpauth URI (moving it to another app). Treat it as a password. */
  async exportUri(user) {
    user = this.canonicalUser(user);
    return totpExport({ ...this.#context(user), record: await this.#current(user) }).uri;
  }

  /** Re-seals the user's record under the current (first) key: `{resealed}`. */
  async rotateKey(user) {
    user = this.canonicalUser(user);
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      recordRotateKey({ ...context, record, time: this.#time(), entropy: this.#entropy() }),
    );
    return { resealed: result.resealed };
  }

  // ---- backup codes ----------------------------------------------------------------------

  /**
   * A new set of backup codes (every old one stops working), only with `proof`, a current
   * factor (`{method: 'totp'|'backup_code', code}`) checked by the core under the limiter:
   * `{ok, codes, remaining, fresh}`. Show the codes once. `ok: false`: `fresh.reason` says
   * why (`wrong_code`, `replayed`, `malformed`, `locked` + `fresh.retryAfter`); nothing changed
   * but the limiter. Without proof the core refuses (`fresh_factor_required`); without an
   * enabled factor, `not_enabled` (the first set comes with `confirm`).
   */
  async generateBackupCodes(user, options) {
    user = this.canonicalUser(user);
    const { count, proof } = optionsArg(options);
    const proofField = this.#proofField(proof);
    const policy = await this.#policyField(user);
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      backupGenerate({
        ...context, record, time: this.#time(), entropy: this.#entropy(), ...policy, ...this.#windowField(),
        ...proofField, ...(count == null ? {} : { count }),
      }),
    );
    const fresh = this.#fresh(result.fresh);
    if (fresh && !fresh.accepted) return { ok: false, codes: null, remaining: result.remaining ?? null, fresh };
    return { ok: true, codes: result.codes, remaining: result.remaining, fresh };
  }

  /** Checks and consumes a backup code outside a login (re-authentication), under the limiter. */
  async verifyBackupCode(user, code) {
    user = this.canonicalUser(user);
    stringArg(code, 'code');
    const policy = await this.#policyField(user);
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      backupVerify({ ...context, record, code, time: this.#time(), ...policy }),
    );
    return { ok: result.accepted, reason: result.reason, retryAfter: result.retry_after, remaining: result.remaining };
  }

  /** `{remaining, issued, created_at, last_used_at}` of the user's backup codes. */
  async backupCodesStatus(user) {
    user = this.canonicalUser(user);
    return backupStatus({ record: await this.#current(user) });
  }

  // ---- app passwords ---------------------------------------------------------------------

  /**
   * A new app password for a mail client: `{ok, password, id, fresh}`; show it once. Only for
   * a user with 2FA on (else `not_enabled`), and only with `proof`, a current factor
   * (`{method: 'totp'|'backup_code', code}`) checked by the core under the limiter; `ok:
   * false` with `fresh.reason` when it was refused (no password made).
   */
  async createAppPassword(user, label, options) {
    user = this.canonicalUser(user);
    stringArg(label, 'label');
    const proofField = this.#proofField(optionsArg(options).proof);
    const policy = await this.#policyField(user);
    const result = await this.#update(user, (record) =>
      appPasswordCreate({
        ...this.#context(user), record, label, time: this.#time(), entropy: this.#entropy(),
        ...policy, ...this.#windowField(), ...proofField,
      }),
    );
    const fresh = this.#fresh(result.fresh);
    if (fresh && !fresh.accepted) return { ok: false, password: null, id: null, fresh };
    return { ok: true, password: result.password, id: result.id, fresh };
  }

  /** `[{id, label, created_at, last_used_at, phc}]` (`"{ARGON2ID}" + phc` for a Dovecot passdb). */
  async listAppPasswords(user) {
    user = this.canonicalUser(user);
    return appPasswordList({ record: await this.#current(user) }).app_passwords;
  }

  /** Whether `password` is one of the user's app passwords (IMAP/SMTP login): `{ok, id}`. */
  async verifyAppPassword(user, password) {
    user = this.canonicalUser(user);
    stringArg(password, 'password');
    const policy = await this.#policyField(user);
    const result = await this.#update(user, (record) =>
      appPasswordVerify({ record, password, time: this.#time(), ...policy }),
    );
    return { ok: result.valid, id: result.id };
  }

  /**
   * What a Dovecot passdb may see of the user (record.projection): `{state, appPasswords:
   * [{id, phc, label, created_at, tag}]}` — empty unless 2FA is on and the policy allows app
   * passwords. Write exactly this to the projection table, keyed on `canonicalUser(user)`.
   */
  async projection(user) {
    user = this.canonicalUser(user);
    const policy = await this.#policyField(user);
    const result = recordProjection({ record: await this.#current(user), ...policy });
    return { state: result.state, appPasswords: result.app_passwords };
  }

  /** Revokes one app password; false when there was none with that id. */
  async revokeAppPassword(user, id) {
    user = this.canonicalUser(user);
    stringArg(id, 'id');
    return (await this.#update(user, (record) => appPasswordRevoke({ record, id, time: this.#time() }))).revoked;
  }

  /** Revokes every app password; resolves the count. */
  async revokeAllAppPasswords(user) {
    user = this.canonicalUser(user);
    return (await this.#update(user, (record) => appPasswordRevokeAll({ record, time: this.#time() }))).revoked;
  }

  /** The main password changed: every app password and trusted device is revoked. */
  async passwordChanged(user) {
    user = this.canonicalUser(user);
    const result = await this.#update(user, (record) => passwordChanged({ record, time: this.#time() }));
    return { revokedAppPasswords: result.revoked_app_passwords, revokedDevices: result.revoked_devices };
  }

  // ---- trusted devices -------------------------------------------------------------------

  /**
   * Trusts the current device from an authenticated session (settings page), only with
   * `proof`, a current factor (a device token is a factor): `{ok, token, id, expiresAt,
   * fresh}`. Set `token` as an HttpOnly, Secure, SameSite cookie; pass it to beginLogin.
   */
  async trustDevice(user, options) {
    user = this.canonicalUser(user);
    const { userAgent: agentOption, proof } = optionsArg(options);
    const userAgent = optionalString(agentOption, 'userAgent');
    const proofField = this.#proofField(proof);
    const policy = await this.#policyField(user);
    const context = this.#context(user);
    const result = await this.#update(user, (record) =>
      deviceTrust({
        ...context, record, time: this.#time(), entropy: this.#entropy(), ...policy, ...this.#windowField(),
        ...proofField, ...(userAgent === undefined ? {} : { user_agent: userAgent }),
      }),
    );
    const fresh = this.#fresh(result.fresh);
    if (fresh && !fresh.accepted) return { ok: false, token: null, id: null, expiresAt: null, fresh };
    return { ok: true, token: result.token, id: result.id, expiresAt: result.expires_at, fresh };
  }

  /** `[{id, label, created_at, last_seen_at, expires_at, expired}]`. */
  async listDevices(user) {
    user = this.canonicalUser(user);
    return deviceList({ record: await this.#current(user), time: this.#time() }).devices;
  }

  /** Forgets one trusted device; false when there was none with that id. */
  async revokeDevice(user, id) {
    user = this.canonicalUser(user);
    stringArg(id, 'id');
    return (await this.#update(user, (record) => deviceRevoke({ record, id, time: this.#time() }))).revoked;
  }

  /** Forgets every trusted device (but `except`, e.g. the current one); resolves the count. */
  async revokeAllDevices(user, options) {
    user = this.canonicalUser(user);
    const { except } = optionsArg(options);
    return (
      await this.#update(user, (record) =>
        deviceRevokeAll({ record, time: this.#time(), ...(except == null ? {} : { except }) }),
      )
    ).revoked;
  }

  // ---- admin -----------------------------------------------------------------------------

  /**
   * Admin reset (the user lost their phone and codes): the core's `record.reset` empties the
   * record (every factor, code, device, app password, pending enrollment and the limiter)
   * with a `rev` above every earlier one, written by compare-and-set — never a delete — so a
   * request that read the record before the reset cannot land its write afterwards. The next
   * login has no second step until the user enrolls again (unless the policy requires 2FA).
   * Resolves false when the user had no record (nothing written).
   */
  async adminReset(user) {
    user = this.canonicalUser(user);
    let had = false;
    await this.#update(user, (record, stored) => {
      had = stored;
      return stored ? recordReset({ record, time: this.#time() }) : { record: null };
    });
    return had;
  }
}
