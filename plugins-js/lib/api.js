// The runtime-neutral part of the package: loading the module once, one function per core
// op, the TOTP convenience class. `node.js` and `browser.js` add how the module's bytes are
// found by default and re-export everything here.
import initGlue, * as glue from '../glue/mail2fa.js';
import { loader } from './loader.js';

/** Every error this package throws: a core error (its stable `code`, see docs/ops.md) or a host-side one. */
export class Mail2faError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'Mail2faError';
    this.code = code;
  }
}

let ready = false;
/**
 * Loads the module. `input` is optional: bytes, a `WebAssembly.Module`, a `Response`, a URL
 * (fetched and compiled while streaming) or a promise of one of these. Without it, Node reads
 * the package's own `mail2fa.wasm` and browsers fetch it next to this package. Idempotent.
 */
export async function init(input) {
  if (ready) return;
  const source = input ?? (typeof loader.input === 'function' ? loader.input() : loader.input);
  try {
    await initGlue({ module_or_path: source });
  } catch (cause) {
    throw new Mail2faError('init_failed', `mail2fa: could not load the WebAssembly module: ${cause.message}`, { cause });
  }
  ready = true;
}

/** Loads the module synchronously from bytes or a compiled `WebAssembly.Module`. */
export function initSync(input) {
  if (ready) return;
  const source = input ?? loader.sync?.();
  if (source === undefined) {
    throw new Mail2faError('not_initialized', 'mail2fa: initSync needs the module bytes or a WebAssembly.Module here');
  }
  glue.initSync({ module: source });
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

/** Runs any request `{op, ...}`; returns `{ok: true, ...}` or `{ok: false, error}`; never throws once loaded. */
export function call(request) {
  ensureReady();
  return glue.call(request);
}

function typed(name) {
  const fn = glue[name];
  if (typeof fn !== 'function') {
    // An op the loaded glue does not have (older build): fail with a clear code, not a TypeError.
    return () => {
      throw new Mail2faError('unknown_op', `mail2fa: this build of the module has no ${name}`);
    };
  }
  return (request = {}) => {
    ensureReady();
    try {
      return fn(request);
    } catch (error) {
      if (error && error.name === 'Mail2faError' && typeof error.code === 'string') {
        throw new Mail2faError(error.code, error.message);
      }
      throw error;
    }
  };
}

export const ops = typed('ops');
export const version = typed('version');
export const totpCode = typed('totpCode');
export const totpEnroll = typed('totpEnroll');
export const totpActivate = typed('totpActivate');
export const totpCancel = typed('totpCancel');
export const totpVerify = typed('totpVerify');
export const totpDisable = typed('totpDisable');
export const totpImport = typed('totpImport');
export const totpExport = typed('totpExport');
export const otpauthParse = typed('otpauthParse');
export const otpauthBuild = typed('otpauthBuild');
export const recordNew = typed('recordNew');
export const recordStatus = typed('recordStatus');
export const recordOpen = typed('recordOpen');
export const recordSeal = typed('recordSeal');
export const recordRotateKey = typed('recordRotateKey');
export const qrSvg = typed('qrSvg');

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
