// Runs one host-level scenario (tests/scenarios/*.json, format in README.md) against the npm
// package's Mail2fa class and returns its transcript: every result and every compare-and-set
// with the record as stored. The PHP runner (plugins-php/host-tests/ScenarioRunner.php) does
// the same against Mail2fa\Service; both compare with expected/<name>.json, which
// record.mjs wrote from this runner. Used by record.mjs and plugins-js/test/scenarios.test.mjs.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCENARIO_DIR = dirname(fileURLToPath(import.meta.url));
export const EXPECTED_DIR = join(SCENARIO_DIR, 'expected');
/** Where the runners leave the transcript they got (build/scenarios/js|php/<name>.json, same layout: cmp them). */
export const ACTUAL_DIR = join(SCENARIO_DIR, '..', '..', 'build', 'scenarios');

/** The public methods a step may call (the same list as the PHP runner's). */
export const CALLS = [
  'canonicalUser', 'status', 'beginLogin', 'verifyLogin', 'enroll', 'confirm', 'cancelEnrollment', 'disable',
  'importUri', 'importLegacy', 'exportUri', 'rotateKey', 'generateBackupCodes', 'verifyBackupCode',
  'backupCodesStatus', 'createAppPassword', 'listAppPasswords', 'verifyAppPassword', 'projection',
  'revokeAppPassword', 'revokeAllAppPasswords', 'passwordChanged', 'trustDevice', 'listDevices', 'revokeDevice',
  'revokeAllDevices', 'adminReset',
];

/** Every scenario file, sorted by name. */
export function scenarioFiles() {
  return readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.json')).sort().map((f) => join(SCENARIO_DIR, f));
}

export function loadScenario(file) {
  return { name: basename(file, '.json'), ...JSON.parse(readFileSync(file, 'utf8')) };
}

/**
 * The entropy both runners feed their host: SHA-256("mail2fa-scenario/<name>/<k>") for
 * k = 0, 1, 2, … concatenated, handed out in order. Same bytes, same records.
 */
function entropyStream(name) {
  let buffer = Buffer.alloc(0);
  let block = 0;
  return {
    getRandomValues(array) {
      while (buffer.length < array.length) {
        const next = createHash('sha256').update(`mail2fa-scenario/${name}/${block++}`).digest();
        buffer = Buffer.concat([buffer, next]);
      }
      array.set(buffer.subarray(0, array.length));
      buffer = buffer.subarray(array.length);
      return array;
    },
  };
}

/**
 * The storage every host of a scenario shares: a MemoryStorage that logs each
 * compare-and-set (the record as JSON text, as stored) and can be told to fail.
 */
class ScenarioStorage {
  constructor(inner) {
    this.inner = inner;
    this.log = [];
    this.fault = null;
    this.beforeCas = null;
  }

  async get(user) {
    if (this.fault === 'get_throws') throw new Error('scenario storage: unavailable');
    return this.inner.get(user);
  }

  async compareAndSet(user, expected, record) {
    return this.compareAndSetText(user, expected, JSON.stringify(record));
  }

  // The text interface (getText/compareAndSetText) that MemoryStorage and SqliteStorage offer
  // and Mail2fa's login check uses when a storage has it; only TextScenarioStorage exposes it.
  async readText(user) {
    if (this.fault === 'get_throws') throw new Error('scenario storage: unavailable');
    return this.inner.getText(user);
  }

  async compareAndSetText(user, expected, text) {
    if (this.beforeCas) {
      // A concurrent request that wins the race: it runs (and writes) between this request's
      // read and its compare-and-set.
      const race = this.beforeCas;
      this.beforeCas = null;
      await race();
    }
    const wrote = this.fault === 'cas_fails' ? false : await this.inner.compareAndSetText(user, expected, text);
    this.log.push({ user, expected, wrote, record: text });
    return wrote;
  }
}

/**
 * The same storage offering records as JSON text (getText/compareAndSetText), as
 * MemoryStorage and SqliteStorage do: Mail2fa's login check then passes the stored text to
 * the core as is. Its transcript must equal the object storage's, byte for byte.
 */
class TextScenarioStorage extends ScenarioStorage {
  async getText(user) {
    return this.readText(user);
  }
}

/** Whether a host's `policy` is `{"$per_user": {...}}` (README). */
function isPerUser(policy) {
  return policy !== null && typeof policy === 'object' && '$per_user' in policy;
}

/**
 * The policy function of `{"$per_user": {user: policy, "*": policy}}`: the user's entry, else
 * "*", else null (which the host must refuse: invalid_field); each call is noted.
 */
function perUserPolicy(table, note) {
  return (user) => {
    note(user);
    return Object.hasOwn(table, user) ? table[user] : Object.hasOwn(table, '*') ? table['*'] : null;
  };
}

/**
 * `copy_record: {from, to}`: the stored record of `from` written as `to`'s row, as an
 * attacker with write access to the table (or a restore gone wrong) would; not logged.
 */
async function copyRecord(inner, { from, to }) {
  const source = await inner.get(from);
  if (!source) throw new Error(`copy_record: ${from} has no record`);
  const target = await inner.get(to);
  if (!(await inner.compareAndSet(to, target ? target.version : null, source.record))) throw new Error('copy_record: not written');
}

/** A result as both runners write it: JSON values only, `undefined` as null. */
function normalise(value) {
  const text = JSON.stringify(value, (_key, v) => (v === undefined ? null : v));
  return text === undefined ? null : JSON.parse(text);
}

/** Whether `actual` has everything `expected` lists (README: $type, $gt, $len). */
export function matches(actual, expected) {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if ('$type' in expected) return (actual === null ? 'null' : Array.isArray(actual) ? 'array' : typeof actual) === expected.$type;
    if ('$gt' in expected) return typeof actual === 'number' && actual > expected.$gt;
    if ('$len' in expected) return Array.isArray(actual) && actual.length === expected.$len;
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([k, v]) => k in actual && matches(actual[k], v));
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => matches(actual[i], v));
  }
  return actual === expected;
}

/**
 * Runs a scenario with the package `lib` (exports Mail2fa, MemoryStorage, totpCode); with
 * `text: true` over a storage that offers records as JSON text (the login check's text path).
 * Returns `{transcript, failures}`: failures are the steps whose outcome differs from what
 * the scenario expects (its `expect`, `expect_error`, `writes`).
 */
export async function runScenario(scenario, lib, { text = false } = {}) {
  const storage = text ? new TextScenarioStorage(new lib.MemoryStorage()) : new ScenarioStorage(new lib.MemoryStorage());
  const random = entropyStream(scenario.name);
  let clock = scenario.start;
  const hosts = {};
  // The users a per-user policy function was called with during a step (README: $per_user).
  let policyCalls = [];
  const perUser = Object.values(scenario.hosts).some((config) => isPerUser(config.policy));
  for (const [name, config] of Object.entries(scenario.hosts)) {
    const options = { ...config, storage, random, now: () => clock * 1000 };
    if (isPerUser(config.policy)) options.policy = perUserPolicy(config.policy.$per_user, (user) => policyCalls.push(user));
    hosts[name] = new lib.Mail2fa(options);
  }
  const defaultHost = Object.keys(scenario.hosts)[0];
  const results = {};
  const failures = [];
  const steps = [];

  const resolve = (value, where) => {
    if (Array.isArray(value)) return value.map((v) => resolve(v, where));
    if (value === null || typeof value !== 'object') return value;
    if ('$totp' in value) {
      // The secret of an earlier step's result (enroll), or one given here (an imported key).
      const enrolled = typeof value.$totp === 'object' ? value.$totp : labelled(value.$totp, where);
      const params = enrolled.params ?? {};
      const period = params.period ?? 30;
      return lib.totpCode({
        secret: enrolled.secret, time: clock + (value.steps ?? 0) * period,
        algorithm: params.algorithm ?? 'SHA1', digits: params.digits ?? 6, period,
      }).code;
    }
    if ('$backup_code' in value) {
      const issued = labelled(value.$backup_code, where);
      const codes = issued.backupCodes ?? issued.codes;
      if (!Array.isArray(codes) || typeof codes[value.index ?? 0] !== 'string') {
        throw new Error(`${where}: step "${value.$backup_code}" issued no backup code ${value.index ?? 0}`);
      }
      return codes[value.index ?? 0];
    }
    if ('$ref' in value) {
      const [label, ...path] = value.$ref.split('.');
      let v = labelled(label, where);
      for (const key of path) v = v?.[key];
      if (v === undefined || v === null) throw new Error(`${where}: ${value.$ref} has no value`);
      return v;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, where)]));
  };
  const labelled = (label, where) => {
    if (!(label in results)) throw new Error(`${where}: no earlier step is labelled "${label}" with a result`);
    return results[label];
  };

  const invoke = async (step, where) => {
    if (!CALLS.includes(step.call)) throw new Error(`${where}: unknown call ${step.call}`);
    const hostName = step.host ?? defaultHost;
    const host = hosts[hostName];
    if (!host) throw new Error(`${where}: unknown host ${hostName}`);
    const args = resolve(step.args ?? [], where);
    try {
      return { result: normalise(await host[step.call](step.user, ...args)) };
    } catch (error) {
      return { error: typeof error?.code === 'string' ? error.code : 'exception' };
    }
  };

  for (const [index, step] of scenario.steps.entries()) {
    const where = `${scenario.name} step ${index}${step.as ? ` (${step.as})` : ''}`;
    if (step.at !== undefined) clock = scenario.start + step.at;
    if (step.copy_record) await copyRecord(storage.inner, step.copy_record);
    storage.log = [];
    policyCalls = [];
    storage.fault = step.fault ?? null;
    let race;
    if (step.race) storage.beforeCas = async () => {
      race = await invoke(step.race, `${where} race`);
    };
    let outcome;
    try {
      outcome = await invoke(step, where);
    } catch (error) {
      // A mistake in the scenario itself (unknown call, a reference to nothing): stop here.
      failures.push(error.message);
      break;
    }
    storage.fault = null;
    if (step.race && race === undefined) failures.push(`${where}: the race never ran (the step wrote nothing)`);
    storage.beforeCas = null;

    const entry = {
      step: index, call: step.call, user: step.user, ...(step.race ? { race: race ?? null } : {}), ...outcome, cas: storage.log,
      ...(perUser ? { policy_for: policyCalls } : {}),
    };
    steps.push(entry);
    if (step.as && outcome.result !== undefined) results[step.as] = outcome.result;
    if (step.race?.as && race?.result !== undefined) results[step.race.as] = race.result;

    const show = JSON.stringify(outcome);
    if (step.expect_error !== undefined && outcome.error !== step.expect_error) {
      failures.push(`${where}: expected error ${step.expect_error}, got ${show}`);
    }
    if (step.expect !== undefined && !(outcome.error === undefined && matches(outcome.result, step.expect))) {
      failures.push(`${where}: expected ${JSON.stringify(step.expect)}, got ${show}`);
    }
    if (step.expect === undefined && step.expect_error === undefined && outcome.error !== undefined) {
      failures.push(`${where}: unexpected error ${outcome.error}`);
    }
    if (step.race?.expect !== undefined && !(race?.result !== undefined && matches(race.result, step.race.expect))) {
      failures.push(`${where}: race expected ${JSON.stringify(step.race.expect)}, got ${JSON.stringify(race)}`);
    }
    const writes = storage.log.filter((c) => c.wrote).length;
    if (step.writes !== undefined && writes !== step.writes) {
      failures.push(`${where}: expected ${step.writes} write(s), got ${writes}`);
    }
  }
  return { transcript: { scenario: scenario.name, steps }, failures };
}

/** The committed transcript of a scenario (expected/<name>.json). */
export function loadExpected(name) {
  return JSON.parse(readFileSync(join(EXPECTED_DIR, `${name}.json`), 'utf8'));
}

/** A transcript as text: one step per line (small diffs; the PHP runner writes the same bytes). */
export function formatTranscript(name, steps) {
  const lines = steps.map((s) => `    ${JSON.stringify(s)}`).join(',\n');
  return `{\n  "scenario": ${JSON.stringify(name)},\n  "steps": [\n${lines}\n  ]\n}\n`;
}

/** The sha256 of the module the package runs (make test-js copies dist/ there). */
export function moduleSha256() {
  return createHash('sha256').update(readFileSync(join(SCENARIO_DIR, '..', '..', 'plugins-js', 'mail2fa.wasm'))).digest('hex');
}

/** Leaves this host's transcript in build/scenarios/<host>/<name>.json (for a diff when they differ). */
export function writeActual(host, name, steps) {
  const dir = join(ACTUAL_DIR, host);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), formatTranscript(name, steps));
}
