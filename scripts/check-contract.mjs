// The op contract is written once: the TypeScript request/response types in
// crates/mail2fa-wasm/src/typed.rs, which wasm-bindgen emits into dist/mail2fa.d.ts.
// Everything else that restates it is checked against those types here, so drift fails
// `make test`:
//   * the module's op list (`{"op":"ops"}`)  <-> one typed function per op;
//   * docs/ops.md                            names every op and every request/response field;
//   * tests/vectors/*.json                   send and get back only declared fields
//                                             (a response field no type lists is drift);
//   * plugins-php/mail2fa/lib/Core.php       one helper per op, passing every required
//                                             field and only declared ones.
// (plugins-js/index.d.ts is copied from the same types by plugins-js/scripts/sync-types.mjs.)
// The core's own request/response structs are held to the same types from the Rust side:
// crates/mail2fa-core/tests/contract.rs (`make test-rust`) compares each op's struct fields
// (mail2fa_core::api::contract()) with these interfaces, so the chain struct -> typed.rs ->
// docs, vectors, Core.php has no unchecked link.
//
//   node scripts/check-contract.mjs      exit 1 and list every difference
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadRawAbi } from '../tests/node/raw-abi.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path) => readFileSync(root + path, 'utf8');

/** Functions of the typed API that are not ops. */
const NOT_OPS = new Set(['call', 'initSync', 'default']);

/** `record.rotate_key` -> `recordRotateKey`. */
export const functionName = (op) => op.replace(/[._]([a-z])/g, (_, c) => c.toUpperCase());

/**
 * The interfaces of a .d.ts text: name -> {fields: Map(name -> optional), open, parents}.
 * typed.rs writes one interface per line, which keeps this a line parser.
 */
export function parseInterfaces(dts) {
  const interfaces = new Map();
  for (const m of dts.matchAll(/^export interface (\w+)(?: extends ([\w, <>"|]+))? \{(.*)\}\s*$/gm)) {
    const [, name, parents = '', body] = m;
    const fields = new Map();
    let open = false;
    // Split on ';' outside braces/brackets (field types may be inline objects).
    let depth = 0;
    let part = '';
    const parts = [];
    for (const ch of body) {
      if ('{[(<'.includes(ch)) depth++;
      if ('}])>'.includes(ch)) depth--;
      if (ch === ';' && depth === 0) {
        parts.push(part);
        part = '';
      } else part += ch;
    }
    parts.push(part);
    for (const p of parts.map((s) => s.trim()).filter(Boolean)) {
      if (p.startsWith('[')) {
        open = true;
        continue;
      }
      const f = p.match(/^(\w+)(\??):/);
      if (f) fields.set(f[1], f[2] === '?');
    }
    interfaces.set(name, {
      fields,
      open,
      parents: parents.split(',').map((s) => s.trim()).filter(Boolean),
    });
  }
  return interfaces;
}

/** Every field of an interface with its parents': name -> optional. */
export function fieldsOf(interfaces, name, seen = new Set()) {
  const out = { fields: new Map(), open: false };
  const it = interfaces.get(name);
  if (!it || seen.has(name)) return out;
  seen.add(name);
  for (const parent of it.parents) {
    const p = fieldsOf(interfaces, parent, seen);
    for (const [k, v] of p.fields) out.fields.set(k, v);
    out.open ||= p.open;
  }
  for (const [k, v] of it.fields) out.fields.set(k, v);
  out.open ||= it.open;
  return out;
}

/** The typed functions: name -> {request, response} interface names (null: none). */
export function parseFunctions(dts) {
  const out = new Map();
  for (const m of dts.matchAll(/^export function (\w+)\((?:request\??: (\w+|\{\}))?\): (\w+);/gm)) {
    out.set(m[1], { request: m[2] === '{}' ? null : m[2] ?? null, response: m[3] });
  }
  return out;
}

/**
 * docs/ops.md per op: the text of its `### \`op\`` section (a heading may name several ops,
 * which share it) after the intro of the `##` section it stands in (fields the intro gives
 * for every op below it, as the importers' do), or its table row.
 */
export function docSections(markdown, ops) {
  const sections = new Map();
  let intro = '';
  let current = [];
  const add = (op, text) => sections.set(op, (sections.get(op) ?? '') + text);
  for (const line of markdown.split('\n')) {
    if (/^## /.test(line)) {
      intro = '';
      current = [];
      continue;
    }
    if (/^#{3,4} /.test(line)) {
      current = [...line.matchAll(/`([a-z_.]+)`/g)].map((m) => m[1]).filter((op) => ops.includes(op));
      for (const op of current) add(op, intro);
      continue;
    }
    const row = line.match(/^\| `([a-z_.]+)` \|/);
    if (row && ops.includes(row[1])) add(row[1], line + '\n');
    else if (current.length) for (const op of current) add(op, line + '\n');
    else intro += line + '\n';
  }
  return sections;
}

/** The helpers of Core.php: op -> [{method, keys (literal request keys), options (merges $options)}]. */
export function phpHelpers(php) {
  const out = new Map();
  const methods = php.split(/\n    public function /).slice(1);
  for (const text of methods) {
    const method = text.match(/^(\w+)/)[1];
    const call = text.match(/->call\(\[(['"])op\1 => '([a-z_.]+)'([\s\S]*?)\]\s*(\+[^)]*)?\)/);
    if (!call) continue;
    const keys = [...call[3].matchAll(/'(\w+)' =>/g)].map((k) => k[1]);
    const conditional = [...text.matchAll(/\['(\w+)' => \$\w+\]/g)].map((k) => k[1]);
    const list = out.get(call[2]) ?? [];
    list.push({ method, keys: [...keys, ...conditional], options: Boolean(call[4]) });
    out.set(call[2], list);
  }
  return out;
}

export async function check() {
  const problems = [];
  const dts = read('dist/mail2fa.d.ts');
  const interfaces = parseInterfaces(dts);
  const functions = parseFunctions(dts);
  const abi = await loadRawAbi();
  const ops = abi.call({ op: 'ops' }).ops;

  // 1. One typed function per op, and no typed function without an op.
  const byOp = new Map();
  for (const op of ops) {
    const fn = functions.get(functionName(op));
    if (!fn) problems.push(`typed.rs: op ${op} has no typed function ${functionName(op)}`);
    else byOp.set(op, fn);
  }
  const fnOps = new Set(ops.map(functionName));
  for (const name of functions.keys()) {
    if (!NOT_OPS.has(name) && !fnOps.has(name)) problems.push(`typed.rs: function ${name} names no op`);
  }
  const request = (op) => (byOp.get(op)?.request ? fieldsOf(interfaces, byOp.get(op).request) : { fields: new Map(), open: false });
  const response = (op) => fieldsOf(interfaces, byOp.get(op)?.response);
  for (const [op, fn] of byOp) {
    for (const name of [fn.request, fn.response]) {
      if (name && !interfaces.has(name)) problems.push(`typed.rs: ${op} uses ${name}, which no interface declares`);
    }
  }

  // 2. docs/ops.md names every op and every field of its request and response.
  const docs = docSections(read('docs/ops.md'), ops);
  const documentedOps = read('docs/ops.md').split('\n').filter((l) => /^#{3,4} `/.test(l)).flatMap((l) => [...l.matchAll(/`([a-z_.]+)`/g)].map((m) => m[1]));
  for (const op of documentedOps) if (!ops.includes(op)) problems.push(`docs/ops.md documents ${op}, which the module does not have`);
  for (const op of ops) {
    const text = docs.get(op);
    if (text === undefined) {
      problems.push(`docs/ops.md: no section for ${op}`);
      continue;
    }
    for (const [label, shape] of [['request', request(op)], ['response', response(op)]]) {
      for (const field of shape.fields.keys()) {
        if (!new RegExp('`' + field + '[`:( ]').test(text)) problems.push(`docs/ops.md: ${op} does not name its ${label} field \`${field}\``);
      }
    }
  }

  // 3. Vectors send and receive declared fields only.
  const vectorDir = root + 'tests/vectors/';
  for (const file of readdirSync(vectorDir).filter((f) => f.endsWith('.json')).sort()) {
    for (const c of JSON.parse(readFileSync(vectorDir + file, 'utf8'))) {
      const op = c.request?.op;
      if (!byOp.has(op) || c.response?.ok !== true) continue;
      const req = request(op);
      for (const field of Object.keys(c.request)) {
        if (field !== 'op' && !req.fields.has(field) && !req.open) problems.push(`${file} "${c.name}": request field ${field} of ${op} is in no type`);
      }
      const res = response(op);
      for (const field of Object.keys(c.response)) {
        if (field !== 'ok' && !res.fields.has(field) && !res.open) problems.push(`${file} "${c.name}": response field ${field} of ${op} is in no type`);
      }
    }
  }
  // Responses the vectors do not cover still come from the module: ask each op with its
  // vector requests' fields (done above); a response field missing from the type shows there.

  // 4. The PHP adapter: one helper per op, required fields passed, nothing undeclared.
  const corePhp = read('plugins-php/mail2fa/lib/Core.php');
  const helpers = phpHelpers(corePhp);
  // Core::NO_HELPER: the ops nothing in PHP uses, deliberately without a helper (call() reaches them).
  const noHelper = new Set([...(corePhp.match(/const NO_HELPER = \[([^\]]*)\]/)?.[1] ?? '').matchAll(/'([a-z_.]+)'/g)].map((m) => m[1]));
  for (const op of noHelper) if (!ops.includes(op)) problems.push(`Core.php: NO_HELPER lists ${op}, which the module does not have`);
  for (const op of ops) {
    const list = helpers.get(op) ?? [];
    if (noHelper.has(op)) {
      if (list.length) problems.push(`Core.php: ${op} is in NO_HELPER but has a helper`);
      continue;
    }
    if (list.length !== 1) {
      problems.push(`Core.php: ${list.length} helpers for ${op} (want exactly one)`);
      continue;
    }
    const [{ method, keys, options }] = list;
    if (method !== functionName(op)) problems.push(`Core.php: the helper for ${op} is ${method}, want ${functionName(op)}`);
    const req = request(op);
    for (const key of keys) if (!req.fields.has(key)) problems.push(`Core.php ${method}: passes ${key}, which ${op} does not take`);
    for (const [field, optional] of req.fields) {
      if (!optional && !keys.includes(field)) problems.push(`Core.php ${method}: does not pass the required field ${field} of ${op}`);
    }
    const optionalFields = [...req.fields].filter(([f, optional]) => optional && !keys.includes(f));
    if (optionalFields.length && !options) problems.push(`Core.php ${method}: no \$options for ${optionalFields.map(([f]) => f).join(', ')}`);
  }
  for (const op of helpers.keys()) if (!ops.includes(op)) problems.push(`Core.php: a helper calls ${op}, which the module does not have`);
  return { ops, problems };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { ops, problems } = await check();
  if (problems.length) {
    console.error(`contract: ${problems.length} differences from the types in typed.rs:`);
    for (const p of problems) console.error(`  - ${p}`);
    process.exit(1);
  }
  console.log(`contract: ${ops.length} ops; typed API, docs/ops.md, vectors and Core.php agree with typed.rs`);
}
