// Compiled (never run) by types.test.mjs with `tsc --strict`: every export of the package
// used as a TypeScript webmail would, against the hand-written declarations.
import {
  init, initSync, isReady, call, ops, version, functionName,
  totpCode, totpEnroll, totpActivate, totpCancel, totpVerify, totpDisable, totpImport, totpExport,
  otpauthParse, otpauthBuild, recordNew, recordStatus, recordOpen, recordSeal, recordRotateKey, qrSvg,
  loginDecide, backupGenerate, backupVerify, backupStatus, deviceTrust, deviceList, deviceRevoke, deviceRevokeAll,
  appPasswordCreate, appPasswordList, appPasswordVerify, appPasswordRevoke, appPasswordRevokeAll, passwordChanged,
  phcHash, phcVerify, importGauthenticator, importKolab,
  TOTP, Mail2fa, MemoryStorage, Mail2faError, generateKey, randomBase64,
  type Mail2faStorage, type SiteKey, type UserRecord, type VerifyLoginResult, type HeldLogin, type State, type Policy, type Verdict,
} from 'mail2fa';
import { SqliteStorage } from 'mail2fa/sqlite';

await init();
await init(new URL('https://example.com/mail2fa.wasm'));
await init(new Uint8Array([0, 97, 115, 109]));
initSync(new Uint8Array(8));
const loaded: boolean = isReady();

const keys: SiteKey[] = [generateKey('k1'), { id: 'k0', key: randomBase64() }];
const time = 1_800_000_000;
const entropy = randomBase64(32);
const user = 'alice';

const any = call({ op: 'totp.code', secret: 'JBSWY3DPEHPK3PXP', time });
if (any.ok) console.log(any.code);
else console.log(any.error.code.toUpperCase());

const names: string[] = ops().ops;
const v: string = version().version;
const fn: string = functionName('totp.verify');
const code: string = totpCode({ secret: 'JBSWY3DPEHPK3PXP', time, digits: 8, algorithm: 'SHA256' }).code;
const enrolled = totpEnroll({ user, keys, time, entropy, issuer: 'Example' });
const record: UserRecord = enrolled.record;
const activated: boolean = totpActivate({ user, keys, record, code, time, window: 1 }).activated;
const state: State = totpCancel({ record, time }).state;
const verified = totpVerify({ user, keys, record, code, time });
const step: number | null = verified.step;
const disabled: boolean = totpDisable({ user, keys, record, code, time }).disabled;
const imported: UserRecord = totpImport({ user, keys, time, entropy, uri: enrolled.uri ?? '', replace: true }).record;
const exported: string = totpExport({ user, keys, record: imported }).uri;
const parsed = otpauthParse({ uri: exported });
const issuer: string | null = parsed.issuer;
const built: string = otpauthBuild({ account: parsed.account, secret: parsed.secret, period: 60 }).uri;
const fresh: UserRecord = recordNew({ time }).record;
const rotation: boolean = recordStatus({ user, keys, record: fresh }).needs_rotation;
const plain = recordOpen({ user, keys, record }).plain;
const resealed: UserRecord = recordSeal({ user, keys, entropy, plain }).record;
const count: number = recordRotateKey({ user, keys, record: resealed, time, entropy }).resealed;
const svg: string = qrSvg({ text: built, ecc: 'M' }).svg;

const policy: Policy = { mode: 'required', grace_until: time + 86400, methods: ['totp', 'backup_code'], max_failures: 5, argon2: { m: 19456 } };
const decided = loginDecide({ user, keys, time, record, policy, factor: { type: 'totp', value: code }, trust_device: true, entropy, user_agent: 'UA' });
const verdict: Verdict = decided.verdict;
const retry: number | null = decided.retry_after;
const proof = { method: 'totp' as const, code };
const backup: string[] = backupGenerate({ user, keys, entropy, time, record, count: 5, policy, proof }).codes ?? [];
const backupOk: boolean = backupVerify({ user, keys, time, record, code: backup[0] }).accepted;
const left: number = backupStatus({ record }).remaining;
const device = deviceTrust({ user, keys, entropy, time, record, user_agent: 'UA', proof });
const label: string = deviceList({ record, time }).devices[0].label;
const one: boolean = deviceRevoke({ record, time, id: device.id ?? '' }).revoked;
const all: number = deviceRevokeAll({ record, time, except: device.id ?? '' }).revoked;
const app = appPasswordCreate({ user, keys, entropy, time, label: 'Mail client', record, proof: { method: 'backup_code', code: backup[0] } });
const phc: string = appPasswordList({ record: app.record }).app_passwords[0].phc;
const valid: boolean = appPasswordVerify({ record: app.record, password: app.password ?? '', time }).valid;
const gone: boolean = appPasswordRevoke({ record: app.record, time, id: app.id ?? '' }).revoked;
const none: number = appPasswordRevokeAll({ record: app.record, time }).revoked;
const changed: number = passwordChanged({ record, time }).revoked_devices;
const hash: string = phcHash({ password: 'pw', salt: randomBase64(16), variant: 'argon2id' }).phc;
const matches: boolean = phcVerify({ phc: hash, password: 'pw' }).valid;
const gauth = importGauthenticator({ user, keys, entropy, time, prefs: { secret: 'JBSWY3DPEHPK3PXP', activate: true } });
const kolab = importKolab({ user, keys, entropy, time, blob: '{}', replace: true });
console.log(verdict, retry, backupOk, left, label, one, all, phc, valid, gone, none, changed, matches, gauth.totp, kolab.not_imported);

const totp = new TOTP({ secret: parsed.secret, issuer: 'Example', account: 'alice', digits: 6 });
const now: string = totp.generate();
const then: string = totp.generate({ timestamp: Date.now() });
const again: TOTP = TOTP.parse(totp.toString());

class RedisLikeStorage implements Mail2faStorage {
  async get(_user: string) { return null; }
  async compareAndSet(_user: string, _version: number | null, _record: UserRecord) { return true; }
}
const mfa = new Mail2fa({ keys, storage: new MemoryStorage(), issuer: 'Example', window: 1, now: Date.now, random: crypto });
const onSqlite = new Mail2fa({ keys, storage: new SqliteStorage(':memory:') });
const custom = new Mail2fa({ keys, storage: new RedisLikeStorage(), username: { case: 'lower', domain: 'strip', default_domain: 'example.com' } });

async function flow(): Promise<void> {
  const strict = new Mail2fa({ keys, storage: new MemoryStorage(), policy });
  const perUser = new Mail2fa({ keys, storage: new MemoryStorage(), policy: (name: string): Policy => (name === 'boss' ? policy : {}) });
  console.log(await perUser.status(user));
  const looked = new Mail2fa({ keys, storage: new MemoryStorage(), policy: async (name: string): Promise<Policy> => (name === 'boss' ? policy : {}) });
  console.log(await looked.projection(user));
  const begin = await strict.beginLogin(user, { deviceToken: 'cookie' });
  if (begin.required && begin.error) console.log(begin.error);
  if (begin.pendingExpiresAt) console.log(begin.pendingExpiresAt, begin.trustDays);
  if (begin.forgetDevice) console.log('clear cookie');
  const result: VerifyLoginResult = await mfa.verifyLogin(user, '123456', { trustDevice: true, userAgent: 'UA' });
  if (!result.ok) console.log(result.reason, result.verdict === 'locked' ? result.retryAfter : null);
  if (result.deviceToken) console.log(result.deviceExpiresAt);
  if (result.error !== undefined) {
    // A held login: keep the session pending; log why.
    const held: HeldLogin = result;
    console.log(held.reason === 'error', held.message);
  }
  if (begin.error !== undefined) console.log(begin.required === true, begin.message);
  const viaBackup = await mfa.verifyLogin(user, 'abcde-fghjk', { method: 'backup_code' });
  console.log(viaBackup.backupCodesRemaining);
  const made = await mfa.generateBackupCodes(user, { count: 10, proof: { method: 'totp', code: '123456' } });
  if (!made.ok) console.log(made.fresh.reason, made.fresh.retryAfter);
  const codes: string[] = made.ok ? made.codes : [];
  const reauth = await mfa.verifyBackupCode(user, codes[0]);
  console.log(reauth.ok, reauth.remaining, (await mfa.backupCodesStatus(user)).remaining);
  const appPw = await mfa.createAppPassword(user, 'Thunderbird', { proof: { method: 'backup_code', code: 'abcde-fghjk' } });
  if (!appPw.ok) throw new Error(appPw.fresh.reason ?? 'refused');
  const listed = await mfa.listAppPasswords(user);
  console.log(appPw.password, listed[0].phc, (await mfa.verifyAppPassword(user, appPw.password)).ok);
  console.log(await mfa.revokeAppPassword(user, appPw.id), await mfa.revokeAllAppPasswords(user));
  console.log((await mfa.projection(user)).appPasswords.map((p) => p.tag), mfa.canonicalUser('ALICE'));
  const trusted = await mfa.trustDevice(user, { userAgent: 'UA', proof: { code: '123456' } });
  if (trusted.ok) console.log(trusted.token, trusted.expiresAt, (await mfa.listDevices(user))[0].expired);
  if (trusted.ok) console.log(await mfa.revokeDevice(user, trusted.id), await mfa.revokeAllDevices(user, { except: trusted.id }));
  console.log((await mfa.passwordChanged(user)).revokedDevices);
  const confirmed = await mfa.confirm(user, '123456');
  console.log(confirmed.backupCodes?.length, confirmed.revokedAppPasswords);
  const legacy = await mfa.importLegacy(user, { from: 'kolab', blob: {}, replace: false });
  console.log(legacy.notImported.map((n) => n.reason));
  const e = await mfa.enroll(user, { account: 'alice@example.com', digits: 6, proof: { method: 'totp', code: '123456' } });
  if (!e.ok) throw new Error(e.fresh.reason ?? 'refused');
  console.log(e.qr, e.uri, e.secret, e.state);
  console.log((await mfa.confirm(user, '123456')).ok, (await mfa.disable(user, '123456')).reason);
  console.log((await mfa.cancelEnrollment(user)).state, (await mfa.importUri(user, e.uri, { replace: true })).state);
  console.log(await mfa.exportUri(user), (await mfa.rotateKey(user)).resealed, (await mfa.status(user)).state);
  const wasReset: boolean = await mfa.adminReset(user);
  console.log(wasReset);
  try {
    await onSqlite.verifyLogin(user, '1');
  } catch (error) {
    if (error instanceof Mail2faError) console.log(error.code, error.message);
  }
  await custom.status(user);
}

// @ts-expect-error: a code is a string, never a number
await mfa.verifyLogin(user, 123456);
// @ts-expect-error: only TOTP and backup codes are typed at the code prompt
await mfa.verifyLogin(user, '123456', { method: 'sms' });
// @ts-expect-error: a policy field that does not exist
new Mail2fa({ keys, storage: new MemoryStorage(), policy: { mdoe: 'required' } });
// @ts-expect-error: a policy function must return a policy
new Mail2fa({ keys, storage: new MemoryStorage(), policy: (name: string) => name.length });
// @ts-expect-error: a refused change has no codes to show
mfa.generateBackupCodes(user, { proof: { code: '1' } }).then((r) => (r.ok ? null : r.codes.length));
// @ts-expect-error: keys are {id, key}
new Mail2fa({ keys: ['secret'], storage: new MemoryStorage() });

export { loaded, names, v, fn, activated, state, step, disabled, issuer, rotation, count, svg, now, then, again, flow };
