// Type declarations for `mail2fa` (both the Node and the browser entry export exactly this).
// Request and response shapes follow docs/ops.md; each typed function takes the op's fields
// without `op` and returns its response without `ok`, or throws a Mail2faError.

/** Every error this package throws: `code` is stable (docs/ops.md#error-codes); `message` is for people. */
export class Mail2faError extends Error {
  constructor(code: string, message: string, options?: { cause?: unknown });
  readonly name: 'Mail2faError';
  readonly code: string;
}

/** What `init` accepts: module bytes, a compiled module, a fetch Response, a URL (streaming compile), or a promise of one. */
export type InitInput = BufferSource | WebAssembly.Module | Response | URL | string | Promise<BufferSource | WebAssembly.Module | Response>;

/**
 * Loads the WebAssembly module once (later calls return at once). Without `input`, Node
 * reads the package's `mail2fa.wasm`; browsers fetch it next to the package (bundlers copy
 * it) and compile it while it streams. Under Node calling it is optional.
 */
export function init(input?: InitInput): Promise<void>;
/** Loads the module synchronously from bytes or a compiled module (under Node: from the package file when omitted). */
export function initSync(input?: BufferSource | WebAssembly.Module): void;
/** Whether the module is loaded. */
export function isReady(): boolean;

// ---- shapes -------------------------------------------------------------------------------

/** A site key: `key` is 32 random bytes, base64. The first key of a keyring seals. */
export interface SiteKey { id: string; key: string }
export type Algorithm = 'SHA1' | 'SHA256' | 'SHA512';
export type State = 'disabled' | 'pending' | 'enabled';
/** A stored user record (docs/record-format.md). Store it whole; never edit it. */
export interface UserRecord { format: 1; rev: number; created_at: number; updated_at: number; [field: string]: unknown }
export interface TotpParams { algorithm?: Algorithm; digits?: number; period?: number }
export interface UserContext { user: string; keys: SiteKey[] }
export type RejectReason = 'wrong_code' | 'replayed' | 'malformed';

export interface TotpCodeRequest extends TotpParams { secret: string; time: number }
export interface TotpCodeResponse { code: string }
export interface TotpEnrollRequest extends UserContext, TotpParams { time: number; entropy: string; account?: string; issuer?: string; record?: UserRecord }
export interface TotpEnrollResponse { uri: string; secret: string; state: State; record: UserRecord }
export interface TotpCheckRequest extends UserContext { record: UserRecord; code: string; time: number; window?: number }
export interface TotpActivateResponse { activated: boolean; step: number | null; reason: RejectReason | null; state: State; record: UserRecord }
export interface TotpVerifyResponse { accepted: boolean; step: number | null; reason: RejectReason | null; state: State; record: UserRecord }
export interface TotpDisableResponse { disabled: boolean; reason: RejectReason | null; state: State; record: UserRecord }
export interface TotpCancelRequest { record: UserRecord; time: number }
export interface TotpImportRequest extends UserContext { uri: string; time: number; entropy: string; record?: UserRecord; replace?: boolean }
export interface RecordResponse { state: State; record: UserRecord }
export interface TotpExportRequest extends UserContext { record: UserRecord }
export interface UriResponse { uri: string }
export interface OtpauthParseRequest { uri: string }
export interface OtpauthParseResponse { issuer: string | null; account: string; secret: string; algorithm: Algorithm; digits: number; period: number }
export interface OtpauthBuildRequest extends TotpParams { issuer?: string; account: string; secret: string }
export interface RecordNewRequest { time: number }
export interface RecordNewResponse { record: UserRecord }
export interface RecordStatusRequest extends UserContext { record: UserRecord }
export interface TotpStatus { algorithm: Algorithm; digits: number; period: number; issuer: string | null; account: string; last_step: number | null; created_at: number; enabled_at: number | null }
export interface RecordStatusResponse { state: State; rev: number; totp: TotpStatus | null; pending: boolean; key_ids: string[]; needs_rotation: boolean }
export interface RecordOpenResponse { state: State; plain: Record<string, unknown> }
export interface RecordSealRequest extends UserContext { plain: Record<string, unknown>; entropy: string }
export interface RecordRotateKeyRequest extends UserContext { record: UserRecord; time: number; entropy: string }
export interface RecordRotateKeyResponse { resealed: number; record: UserRecord }
export interface QrSvgRequest { text: string; ecc?: 'L' | 'M' | 'Q' | 'H' }
export interface QrSvgResponse { svg: string; version: number; modules: number; ecc: 'L' | 'M' | 'Q' | 'H' }
export interface OpsResponse { ops: string[] }
export interface VersionResponse { version: string; record_format: number }
export type CallResponse = ({ ok: true } & Record<string, unknown>) | { ok: false; error: { code: string; message: string } };

// ---- one function per core op -------------------------------------------------------------

/** Runs any request `{op, ...}`; returns the response object and never throws (once loaded). */
export function call(request: { op: string; [field: string]: unknown }): CallResponse;
export function ops(request?: {}): OpsResponse;
export function version(request?: {}): VersionResponse;
export function totpCode(request: TotpCodeRequest): TotpCodeResponse;
export function totpEnroll(request: TotpEnrollRequest): TotpEnrollResponse;
export function totpActivate(request: TotpCheckRequest): TotpActivateResponse;
export function totpCancel(request: TotpCancelRequest): RecordResponse;
export function totpVerify(request: TotpCheckRequest): TotpVerifyResponse;
export function totpDisable(request: TotpCheckRequest): TotpDisableResponse;
export function totpImport(request: TotpImportRequest): RecordResponse;
export function totpExport(request: TotpExportRequest): UriResponse;
export function otpauthParse(request: OtpauthParseRequest): OtpauthParseResponse;
export function otpauthBuild(request: OtpauthBuildRequest): UriResponse;
export function recordNew(request: RecordNewRequest): RecordNewResponse;
export function recordStatus(request: RecordStatusRequest): RecordStatusResponse;
export function recordOpen(request: RecordStatusRequest): RecordOpenResponse;
export function recordSeal(request: RecordSealRequest): RecordResponse;
export function recordRotateKey(request: RecordRotateKeyRequest): RecordRotateKeyResponse;
export function qrSvg(request: QrSvgRequest): QrSvgResponse;
/** The typed function's name for an op name: `totp.verify` -> `totpVerify`. */
export function functionName(op: string): string;

// ---- conveniences -------------------------------------------------------------------------

export interface TotpOptions extends TotpParams { secret: string; issuer?: string | null; account?: string }

/** A TOTP key in the spirit of the `otpauth` package; every computation runs in the core. */
export class TOTP {
  constructor(options: TotpOptions);
  secret: string;
  issuer: string | null;
  account: string;
  algorithm: Algorithm;
  digits: number;
  period: number;
  /** Parses an otpauth://totp/ URI. */
  static parse(uri: string): TOTP;
  /** The code at `timestamp` (milliseconds since the epoch, default now). */
  generate(options?: { timestamp?: number }): string;
  /** The otpauth:// URI (Google Key Uri Format). */
  toString(): string;
}

/** Anything with Web Crypto's getRandomValues. */
export interface RandomSource { getRandomValues(array: Uint8Array): unknown }
/** `length` fresh random bytes (default 32) as standard base64. */
export function randomBase64(length?: number, random?: RandomSource): string;
/** A new site key: 32 random bytes; generate once and keep it in your configuration. */
export function generateKey(id?: string): SiteKey;

// ---- server API ---------------------------------------------------------------------------

/** A stored row: the record and the storage's version of it. */
export interface StoredRecord { record: UserRecord; version: number }

/**
 * Where records live. `compareAndSet` must be atomic: store `record` only when the stored
 * version is still `expectedVersion` (null: only when the user has no row yet), bump the
 * version, and resolve true; resolve false when someone else wrote first.
 */
export interface Mail2faStorage {
  get(user: string): Promise<StoredRecord | null> | StoredRecord | null;
  compareAndSet(user: string, expectedVersion: number | null, record: UserRecord): Promise<boolean> | boolean;
}

/** A storage in this process's memory (tests, demos, one-process servers). */
export class MemoryStorage implements Mail2faStorage {
  get(user: string): Promise<StoredRecord | null>;
  compareAndSet(user: string, expectedVersion: number | null, record: UserRecord): Promise<boolean>;
}

export interface Mail2faOptions {
  /** Site keyring, current key first. */
  keys: SiteKey[];
  storage: Mail2faStorage;
  /** Shown in authenticator apps. */
  issuer?: string;
  /** TOTP steps accepted either side of now (0–10; the core's default is 1). */
  window?: number;
  /** Now, in milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
  /** Entropy source (default Web Crypto). */
  random?: RandomSource;
}

export interface BeginLoginResult {
  /** true: serve nothing of the mailbox until `verifyLogin` says ok. */
  required: boolean;
  state: State;
  /** Set when the record does not open (fails closed: required stays true). */
  error?: string;
}
export interface VerifyLoginResult { ok: boolean; reason: RejectReason | null; step: number | null }
export interface EnrollResult { uri: string; secret: string; qr: string; state: State }
export interface ConfirmResult { ok: boolean; reason: RejectReason | null; state: State }
export interface Mail2faStatus { state: State; totp?: TotpStatus | null; pending: boolean; rev?: number; key_ids?: string[]; needs_rotation?: boolean }

/** Two-factor authentication for one site over a storage; every decision is the core's. */
export class Mail2fa {
  constructor(options: Mail2faOptions);
  status(user: string): Promise<Mail2faStatus>;
  beginLogin(user: string): Promise<BeginLoginResult>;
  verifyLogin(user: string, code: string): Promise<VerifyLoginResult>;
  enroll(user: string, options?: TotpParams & { account?: string; issuer?: string }): Promise<EnrollResult>;
  confirm(user: string, code: string): Promise<ConfirmResult>;
  cancelEnrollment(user: string): Promise<{ state: State }>;
  disable(user: string, code: string): Promise<ConfirmResult>;
  importUri(user: string, uri: string, options?: { replace?: boolean }): Promise<{ state: State }>;
  exportUri(user: string): Promise<string>;
  rotateKey(user: string): Promise<{ resealed: number }>;
  /** Admin reset: a new empty record (2FA off until the user enrolls again); false when there was none. */
  adminReset(user: string): Promise<boolean>;
}
