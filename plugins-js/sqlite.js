// Reference SQLite storage for Node (better-sqlite3, an optional peer dependency).
// One row per user: the record as JSON text and a version that every write bumps;
// compare-and-set is one UPDATE ... WHERE version = ?, atomic across processes and nodes
// sharing the database file.
import Database from 'better-sqlite3';

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export class SqliteStorage {
  #db;
  #select;
  #insert;
  #update;

  /**
   * @param {string | import('better-sqlite3').Database} database a file path (opened in WAL
   *   mode) or an open better-sqlite3 Database
   * @param {{table?: string}} [options] table name (default `mail2fa_users`), created if absent
   */
  constructor(database, { table = 'mail2fa_users' } = {}) {
    if (!TABLE_NAME.test(table)) throw new TypeError(`SqliteStorage: invalid table name ${JSON.stringify(table)}`);
    if (typeof database === 'string') {
      this.#db = new Database(database);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('busy_timeout = 5000');
    } else {
      this.#db = database;
    }
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (
         user TEXT PRIMARY KEY NOT NULL,
         record TEXT NOT NULL,
         version INTEGER NOT NULL
       ) WITHOUT ROWID`,
    );
    this.#select = this.#db.prepare(`SELECT record, version FROM ${table} WHERE user = ?`);
    this.#insert = this.#db.prepare(
      `INSERT INTO ${table} (user, record, version) VALUES (?, ?, 1) ON CONFLICT (user) DO NOTHING`,
    );
    this.#update = this.#db.prepare(
      `UPDATE ${table} SET record = ?, version = version + 1 WHERE user = ? AND version = ?`,
    );
  }

  /** The better-sqlite3 Database (to close it, or to share it with the rest of the app). */
  get database() {
    return this.#db;
  }

  async get(user) {
    const row = this.#select.get(user);
    return row ? { record: JSON.parse(row.record), version: row.version } : null;
  }

  async compareAndSet(user, expectedVersion, record) {
    return this.compareAndSetText(user, expectedVersion, JSON.stringify(record));
  }

  /** The row with the record as the JSON text stored (`{text, version}` or null): a login check uses it as is. */
  async getText(user) {
    const row = this.#select.get(user);
    return row ? { text: row.record, version: row.version } : null;
  }

  /** `compareAndSet` of a record given as JSON text (as the core wrote it). */
  async compareAndSetText(user, expectedVersion, text) {
    const { changes } =
      expectedVersion === null ? this.#insert.run(user, String(text)) : this.#update.run(String(text), user, expectedVersion);
    return changes === 1;
  }

  close() {
    this.#db.close();
  }
}
