import { DatabaseSync } from 'node:sqlite';

/*
 * Opens the server's SQLite file the same way everywhere: WAL so readers never
 * block the writer, synchronous=NORMAL because the binary log (fsynced per
 * commit group) is the durable record a restart recovers from, foreign keys on.
 */
export function openDatabase(file: string, readOnly = false): DatabaseSync {
  const db = new DatabaseSync(file, {
    readOnly,
    enableForeignKeyConstraints: true,
    timeout: 10_000,
  });
  if (!readOnly) {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
  }
  return db;
}
