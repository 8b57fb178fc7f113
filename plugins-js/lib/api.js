// The runtime-neutral part of the package: loading the module once, one function per core
// op, the TOTP convenience class. `node.js` and `browser.js` add how the module's bytes are
// found by default and re-export everything here.
import initGlue, * as glue from '../glue/mail2fa.js';
import { loader } from './loader.js';
import { Mail2faError, setModule, setEnsureLoaded, callText, runOp, toJson, errorText, NOT_JSON } from './core.js';

export { Mail2faError };

let ready = false;
/**
 * Loads the module. `input` is optional: bytes, a `WebAssembly.Module`, a `Response`, a URL
 * (fetched and compiled while streaming) or a promise of one of these. Without it, Node reads
 * the package's own `mail2fa.wasm` and browsers fetch it next to this package. Idempotent.
 */
export async function init(input) {
  if (ready) return;
  const source = input ?? (typeof loader.input === 'function' ? loader.input() : loader.input);
  let exports;
  try {
    exports = await initGlue({ module_or_path: source });
  } catch (cause) {
    throw new Mail2faError('init_failed', `mail2fa: could not load the WebAssembly module: ${cause.message}`, { cause });
  }
  setModule(exports);
  ready = true;
}

/** Loads the module synchronously from bytes or a compiled `WebAssembly.Module`. */
export function initSync(input) {
  if (ready) return;
  const source = input ?? loader.sync?.();
  if (source === undefined) {
    throw new Mail2faError('not_initialized', 'mail2fa: initSync needs the module bytes or a WebAssembly.Module here');
  }
  setModule(glue.initSync({ module: source }));
  ready = true;
}

/** Whether the module is loaded. */
export function isReady() {
  return ready;
}

function ensureReady() {
  if (ready) return;
  if (loader.sync) {
    initSync();
    return;
  }
  throw new Mail2faError('not_initialized', 'mail2fa: call `await init()` before using the module');
}
setEnsureLoaded(ensureReady);

/** Runs any request `{op, ...}`; returns `{ok: true, ...}` or `{ok: false, error}`; never throws once loaded. */
export function call(request) {
  ensureReady();
  const text = toJson(request);
  return JSON.parse(text === null ? errorText('invalid_request', NOT_JSON) : callText(text));
}

/**
 * The typed function for `op`: the response without `ok`, or a thrown Mail2faError. Every
 * op of the module has one; the module's own wasm-bindgen functions (`glue[name]`, which
 * walk the request and the response field by field) give the same results, slower.
 */
function typed(name, op) {
  return (request = {}) => {
    ensureReady();
    return runOp(op, request);
  };
}

export const ops = typed('ops', 'ops');
export const version = typed('version', 'version');
export const totpCode = typed('totpCode', 'totp.code');
export const totpEnroll = typed('totpEnroll', 'totp.enroll');
export const totpActivate = typed('totpActivate', 'totp.activate');
export const totpCancel = typed('totpCancel', 'totp.cancel');
export const totpVerify = typed('totpVerify', 'totp.verify');
export const totpDisable = typed('totpDisable', 'totp.disable');
export const totpImport = typed('totpImport', 'totp.import');
export const totpExport = typed('totpExport', 'totp.export');
export const otpauthParse = typed('otpauthParse', 'otpauth.parse');
export const otpauthBuild = typed('otpauthBuild', 'otpauth.build');
export const recordNew = typed('recordNew', 'record.new');
export const recordStatus = typed('recordStatus', 'record.status');
export const recordOpen = typed('recordOpen', 'record.open');
export const recordSeal = typed('recordSeal', 'record.seal');
export const recordRotateKey = typed('recordRotateKey', 'record.rotate_key');
export const recordReset = typed('recordReset', 'record.reset');
export const recordProjection = typed('recordProjection', 'record.projection');
export const userCanonical = typed('userCanonical', 'user.canonical');
export const webmailProof = typed('webmailProof', 'webmail.proof');
export const webmailVerify = typed('webmailVerify', 'webmail.verify');
export const qrSvg = typed('qrSvg', 'qr.svg');
export const loginDecide = typed('loginDecide', 'login.decide');
export const backupGenerate = typed('backupGenerate', 'backup.generate');
export const backupVerify = typed('backupVerify', 'backup.verify');
export const backupStatus = typed('backupStatus', 'backup.status');
export const deviceTrust = typed('deviceTrust', 'device.trust');
export const deviceList = typed('deviceList', 'device.list');
export const deviceRevoke = typed('deviceRevoke', 'device.revoke');
export const deviceRevokeAll = typed('deviceRevokeAll', 'device.revoke_all');
export const appPasswordCreate = typed('appPasswordCreate', 'app_password.create');
export const appPasswordList = typed('appPasswordList', 'app_password.list');
export const appPasswordVerify = typed('appPasswordVerify', 'app_password.verify');
export const appPasswordRevoke = typed('appPasswordRevoke', 'app_password.revoke');
export const appPasswordRevokeAll = typed('appPasswordRevokeAll', 'app_password.revoke_all');
export const passwordChanged = typed('passwordChanged', 'password.changed');
export const phcHash = typed('phcHash', 'phc.hash');
export const phcVerify = typed('phcVerify', 'phc.verify');
export const importGauthenticator = typed('importGauthenticator', 'import.gauthenticator');
export const importKolab = typed('importKolab', 'import.kolab');

/** camelCase name of the typed function for an op name (`totp.verify` -> `totpVerify`). */
export function functionName(op) {
  return op.replace(/[._]([a-z])/g, (_, c) => c.toUpperCase());
}

/**
 * A TOTP key, in the spirit of the `otpauth` package: generate codes, read and write
 * otpauth:// URIs. Every computation runs in the core. Verifying a login code is not done
 * here: it needs the user's stored record (replay protection), see `Mail2fa`.
 */
export class TOTP {
  constructor({ secret, issuer = null, account = '', algorithm = 'SHA1', digits = 6, period = 30 } = {}) {
    if (typeof secret !== 'string') throw new Mail2faError('missing_secret', 'TOTP needs a base32 secret');
    this.secret = secret;
    this.issuer = issuer;
    this.account = account;
    this.algorithm = algorithm;
    this.digits = digits;
    this.period = period;
  }

  /** Parses an otpauth://totp/ URI. */
  static parse(uri) {
    return new TOTP(otpauthParse({ uri }));
  }

  /** The code at `timestamp` (milliseconds, default now). */
  generate({ timestamp = Date.now() } = {}) {
    const { secret, algorithm, digits, period } = this;
    return totpCode({ secret, algorithm, digits, period, time: Math.floor(timestamp / 1000) }).code;
  }

  /** The otpauth:// URI (Google Key Uri Format), for a QR code. */
  toString() {
    const { secret, issuer, account, algorithm, digits, period } = this;
    return otpauthBuild({ secret, account, algorithm, digits, period, ...(issuer == null ? {} : { issuer }) }).uri;
  }
}

/** Fresh random bytes, base64, from the Web Crypto API (32 bytes unless told). */
export function randomBase64(length = 32, random = loader.random) {
  if (!random || typeof random.getRandomValues !== 'function') {
    throw new Mail2faError('no_entropy', 'mail2fa: no crypto.getRandomValues in this runtime');
  }
  const bytes = new Uint8Array(length);
  random.getRandomValues(bytes);
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

/** A new site key `{id, key}` (32 random bytes, base64). Generate once; keep it in your configuration. */
export function generateKey(id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`) {
  return { id, key: randomBase64(32) };
}
