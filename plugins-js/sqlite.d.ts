import type { Mail2faStorage, StoredRecord, StoredRecordText, UserRecord } from './index.js';

/** The part of a better-sqlite3 `Database` this storage uses. */
export interface SqliteDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): { get(...params: unknown[]): unknown; run(...params: unknown[]): { changes: number } };
  pragma(source: string): unknown;
  close(): unknown;
}

/**
 * The reference SQLite storage (Node, better-sqlite3): one row per user, compare-and-set
 * as one `UPDATE ... WHERE version = ?`, safe across processes sharing the file.
 */
export class SqliteStorage implements Mail2faStorage {
  /** A file path (opened in WAL mode with a 5 s busy timeout) or an open better-sqlite3 Database. */
  constructor(database: string | SqliteDatabase, options?: { table?: string });
  readonly database: SqliteDatabase;
  get(user: string): Promise<StoredRecord | null>;
  compareAndSet(user: string, expectedVersion: number | null, record: UserRecord): Promise<boolean>;
  getText(user: string): Promise<StoredRecordText | null>;
  compareAndSetText(user: string, expectedVersion: number | null, text: string): Promise<boolean>;
  close(): void;
}
