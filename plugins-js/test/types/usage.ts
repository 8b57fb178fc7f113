// Compiled (never run) by types.test.mjs with `tsc --strict`: every export of the package
// used as a TypeScript webmail would, against the hand-written declarations.
import {
  init, initSync, isReady, call, ops, version, functionName,
  totpCode, totpEnroll, totpActivate, totpCancel, totpVerify, totpDisable, totpImport, totpExport,
  otpauthParse, otpauthBuild, recordNew, recordStatus, recordOpen, recordSeal, recordRotateKey, qrSvg,
  TOTP, Mail2fa, MemoryStorage, Mail2faError, generateKey, randomBase64,
  type Mail2faStorage, type SiteKey, type UserRecord, type VerifyLoginResult, type State,
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
const imported: UserRecord = totpImport({ user, keys, time, entropy, uri: enrolled.uri, replace: true }).record;
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
const custom = new Mail2fa({ keys, storage: new RedisLikeStorage() });

async function flow(): Promise<void> {
  const begin = await mfa.beginLogin(user);
  if (begin.required && begin.error) console.log(begin.error);
  const result: VerifyLoginResult = await mfa.verifyLogin(user, '123456');
  if (!result.ok) console.log(result.reason);
  const e = await mfa.enroll(user, { account: 'alice@example.com', digits: 6 });
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
// @ts-expect-error: keys are {id, key}
new Mail2fa({ keys: ['secret'], storage: new MemoryStorage() });

export { loaded, names, v, fn, activated, state, step, disabled, issuer, rotation, count, svg, now, then, again, flow };
