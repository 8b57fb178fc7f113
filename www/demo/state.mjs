// The demo's own state: its users' password hashes (scrypt) in the same SQLite file the
// Mail2fa storage uses, and the site key in a file beside it (mode 0600). A real webmail
// keeps the site key out of the database, as here.
import Database from 'better-sqlite3';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt);
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

async function hashPassword(password, salt = randomBytes(16)) {
  const hash = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function openDemoState(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS demo_users (
    user TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL
  ) WITHOUT ROWID`);
  const keyFile = join(dirname(file), 'site-key.json');
  // A hash to compare against when the user is unknown, so both paths cost the same.
  const dummy = hashPassword('not a password');

  return {
    db,
    /** The site keyring, made on first start: [{id, key}] with 32 random bytes. */
    siteKeys() {
      if (!existsSync(keyFile)) {
        const keys = [{ id: `demo${Date.now().toString(36)}`, key: randomBytes(32).toString('base64') }];
        writeFileSync(keyFile, JSON.stringify(keys) + '\n', { mode: 0o600, flag: 'wx' });
      }
      return JSON.parse(readFileSync(keyFile, 'utf8'));
    },
    /** Creates the user or sets their password (the demo's seed runs at every start). */
    async seedUser(user, password) {
      db.prepare(
        `INSERT INTO demo_users (user, password_hash) VALUES (?, ?)
         ON CONFLICT (user) DO UPDATE SET password_hash = excluded.password_hash`,
      ).run(user, await hashPassword(password));
    },
    /** Sets an existing user's password (the password-change form). */
    async setPassword(user, password) {
      const changed = db.prepare('UPDATE demo_users SET password_hash = ? WHERE user = ?').run(await hashPassword(password), user);
      if (changed.changes !== 1) throw new Error('no such user');
    },
    async checkPassword(user, password) {
      const row = db.prepare('SELECT password_hash FROM demo_users WHERE user = ?').get(user);
      const stored = row ? row.password_hash : await dummy;
      const [, salt, hash] = stored.split('$');
      const given = await scryptAsync(password, Buffer.from(salt, 'base64'), 32, SCRYPT);
      return timingSafeEqual(given, Buffer.from(hash, 'base64')) && Boolean(row);
    },
    users() {
      return db.prepare('SELECT user FROM demo_users ORDER BY user').all().map((r) => r.user);
    },
    close() {
      db.close();
    },
  };
}
