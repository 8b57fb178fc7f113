// The package's way into the module (internal): requests and responses cross as JSON text
// through the module's host-neutral C ABI (`mail2fa_alloc`, `mail2fa_call`, `mail2fa_free`;
// docs/abi.md), the same path PHP's host takes. V8's JSON and one copy of the bytes cost a
// fraction of walking every field of a request and its record across the boundary one call
// at a time (wasm-bindgen's typed functions, which the module still has).

/** Every error this package throws: a core error (its stable `code`, see docs/ops.md) or a host-side one. */
export class Mail2faError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'Mail2faError';
    this.code = code;
  }
}

/** The loaded module's exports (set once by init/initSync). */
let abi = null;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Loads the module when it is not yet (api.js: init from the runtime's default source, or throw). */
let ensureLoaded = () => {};

export function setModule(exports) {
  abi = exports;
}

export function setEnsureLoaded(fn) {
  ensureLoaded = fn;
}

export const NOT_JSON = 'the request must be a plain object of JSON values';

/** A core-shaped error response, as JSON text. */
export function errorText(code, message) {
  return JSON.stringify({ ok: false, error: { code, message } });
}

/** Largest buffer mail2fa_alloc gives (16 MiB); past it the text's exact length is measured first. */
const MAX_ALLOC = 16 * 1024 * 1024;
/** A byte view of the module's memory, made again when the memory grows (its buffer changes). */
let bytes = null;
function memoryBytes() {
  const buffer = abi.memory.buffer;
  if (bytes === null || bytes.buffer !== buffer) bytes = new Uint8Array(buffer);
  return bytes;
}

/**
 * Runs one request given as JSON text through the module's C ABI; the response as JSON
 * text (errors included, never thrown). The module is loaded. The text is encoded straight
 * into a module buffer of its longest UTF-8 length (3 bytes per UTF-16 unit), with no
 * intermediate byte array; the call gets the length written, the buffer is freed with the
 * length allocated.
 */
export function callText(text) {
  let capacity = text.length * 3;
  let exact = null;
  if (capacity > MAX_ALLOC) {
    exact = encoder.encode(text);
    capacity = exact.length;
  }
  const ptr = capacity === 0 ? 0 : abi.mail2fa_alloc(capacity);
  // mail2fa_alloc refuses over 16 MiB; the core refuses anything over 1 MiB anyway.
  if (capacity !== 0 && ptr === 0) return errorText('request_too_large', 'requests are limited to 1048576 bytes');
  let packed;
  try {
    let length = capacity;
    if (exact !== null) memoryBytes().set(exact, ptr);
    else if (capacity !== 0) length = encoder.encodeInto(text, memoryBytes().subarray(ptr, ptr + capacity)).written;
    packed = abi.mail2fa_call(ptr, length);
  } finally {
    if (ptr !== 0) abi.mail2fa_free(ptr, capacity);
  }
  // The response is `ptr << 32 | len` as an i64 (a BigInt here).
  const outPtr = Number(BigInt.asUintN(64, packed) >> 32n);
  const outLength = Number(BigInt.asUintN(32, packed));
  try {
    // The memory may have grown during the call: take the buffer afresh.
    return decoder.decode(memoryBytes().subarray(outPtr, outPtr + outLength));
  } finally {
    abi.mail2fa_free(outPtr, outLength);
  }
}

/** `value` as JSON text, or null when it is no JSON value (a BigInt, a cycle). */
export function toJson(value) {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return null;
  }
}

/** The fields of `request` (an object; null or undefined: none) as JSON object text. */
function fieldsText(request) {
  if (request === undefined || request === null) return '{}';
  if (typeof request !== 'object' || Array.isArray(request)) {
    throw new Mail2faError('invalid_request', 'the request must be an object');
  }
  const fields = toJson(request);
  if (fields === null) throw new Mail2faError('invalid_request', NOT_JSON);
  if (fields.charCodeAt(0) !== 123 /* { */) throw new Mail2faError('invalid_request', 'the request must be an object');
  return fields;
}

const OK = '"ok":true';

/**
 * A successful response's text with its top-level `"ok":true` member cut out, or null when
 * that cannot be told from the text alone. Parsing the cut text gives the response without
 * `ok` directly: deleting a property afterwards would turn the object into a slower
 * dictionary-mode one, at a cost per call. No string of a response holds an unescaped
 * quote, so `"ok":true` is a member wherever it is; it is the top-level one when no `{`
 * comes before it but the opening one (nothing before it is a nested object).
 */
function cutOk(text) {
  const at = text.indexOf(OK);
  if (at < 1 || text.lastIndexOf('{', at) !== 0) return null;
  const end = at + OK.length;
  const next = text.charCodeAt(end);
  if (next === 44 /* , */) return `${text.slice(0, at)}${text.slice(end + 1)}`;
  if (next !== 125 /* } */) return null;
  const before = text.charCodeAt(at - 1);
  if (before === 44 /* , */) return `${text.slice(0, at - 1)}${text.slice(end)}`;
  return before === 123 /* { */ ? `${text.slice(0, at)}${text.slice(end)}` : null;
}

/** A response's text parsed, without `ok`; a core error is thrown. */
function parseResponse(text) {
  const cut = cutOk(text);
  if (cut !== null) return JSON.parse(cut);
  const response = JSON.parse(text);
  if (response.ok !== true) throw new Mail2faError(response.error.code, response.error.message);
  delete response.ok;
  return response;
}

/** The response of a request given as text, without `ok`; a core error is thrown. */
function run(text) {
  return parseResponse(callText(text));
}

/**
 * Runs `op` with the fields of `request` and returns the response without `ok`, or throws
 * a Mail2faError with the core's code. The module is loaded. `op` is written last so that
 * it wins over an `op` among the fields.
 */
export function runOp(op, request) {
  const fields = fieldsText(request);
  const opField = `"op":${JSON.stringify(op)}}`;
  return run(fields.length === 2 ? `{${opField}` : `${fields.slice(0, -1)},${opField}`);
}

/**
 * Where a stored record's JSON text may go into a request as is: one JSON object whose
 * closing brace is the last character (white space aside), so nothing after it can become
 * a field of the request; its syntax and shape are the core's to check. Returns the
 * record's top-level `rev` (its digits, or null when it has none), or throws
 * `invalid_record`. One pass over the text, no objects made.
 */
export function storedRecordRev(text) {
  const bad = () => new Mail2faError('invalid_record', 'the stored record is not one JSON object');
  if (typeof text !== 'string') throw bad();
  const n = text.length;
  let i = 0;
  while (i < n && text.charCodeAt(i) <= 32) i++;
  if (text.charCodeAt(i) !== 123 /* { */) throw bad();
  let depth = 0;
  let rev = null;
  let expectKey = false; // the next string is a key of the top-level object
  let revKey = false; // the key just read is "rev"
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // The closing quote: the next one not escaped (an odd run of backslashes before it).
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) throw bad();
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 92 /* \ */) slashes++;
        if (slashes % 2 === 0) break;
      }
      revKey = expectKey && end - i === 4 && text.startsWith('rev', i + 1);
      expectKey = false;
      i = end;
    } else if (c === 123 || c === 91 /* { [ */) {
      depth++;
      expectKey = depth === 1;
    } else if (c === 125 || c === 93 /* } ] */) {
      if (--depth === 0) break;
    } else if (depth === 1 && c === 44 /* , */) {
      expectKey = true;
    } else if (depth === 1 && c === 58 /* : */ && revKey) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) <= 32) j++;
      let k = j;
      while (k < n && text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) k++;
      rev = k > j ? text.slice(j, k) : null;
      revKey = false;
    }
  }
  if (depth !== 0 || text.charCodeAt(i) !== 125) throw bad();
  for (i++; i < n; i++) if (text.charCodeAt(i) > 32) throw bad();
  return rev;
}

const RECORD_LAST = ',"record":';

/**
 * `runOp` on a stored record given as the JSON text the storage keeps (checked by
 * `storedRecordRev` first): the text goes into the request as is, before the other fields,
 * with no parse of it and no stringify of it again. Returns `{response, recordText}`: the
 * response without `ok` and `record`, and the new record as the core wrote it, to store as
 * is (null: the response has none).
 */
export function runOpOnStoredRecord(op, request, recordText) {
  const fields = fieldsText(request);
  return runOpOnStoredRecordText(op, fields.slice(1, -1), recordText);
}

/**
 * `runOpOnStoredRecord` with the other fields already as JSON text: `inner` is the members
 * of the request object without its braces (`"user":"alice","time":5`, or '').
 */
export function runOpOnStoredRecordText(op, inner, recordText) {
  ensureLoaded();
  const members = inner === '' ? `"op":${JSON.stringify(op)}` : `${inner},"op":${JSON.stringify(op)}`;
  const text = callText(recordText === null ? `{${members}}` : `{"record":${recordText},${members}}`);
  // The login ops write the record last (`...,"record":{...}}`). No string of a response
  // holds an unescaped quote, so the first ,"record": is a key; when it is the top-level
  // one, what is before it closes into a JSON object and what is after it is the record
  // exactly as the core wrote it. Any other shape is parsed whole.
  const at = text.indexOf(RECORD_LAST);
  if (at > 0) {
    const head = cutOk(`${text.slice(0, at)}}`);
    let response = null;
    try {
      response = head === null ? null : JSON.parse(head);
    } catch {
      response = null;
    }
    if (response !== null) return { response, recordText: text.slice(at + RECORD_LAST.length, -1) };
  }
  const response = parseResponse(text);
  const { record = null } = response;
  delete response.record;
  return { response, recordText: record === null ? null : JSON.stringify(record) };
}
