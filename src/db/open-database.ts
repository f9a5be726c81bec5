import { DatabaseSync } from 'node:sqlite';

/*
 * Opens the server's SQLite file the same way everywhere: WAL so readers never
 * block the writer, synchronous=NORMAL because the binary log (fsynced per
 * commit group) is the durable record a restart recovers from, foreign keys on.
 */

/**
 * WAL size (pages) at which a writing connection checkpoints by itself when the
 * background checkpointer (checkpointer.ts) falls behind: a backstop only, so
 * that a commit normally never pays for a checkpoint's two fsyncs.
 */
export const BACKSTOP_CHECKPOINT_PAGES = 16_384;

export interface OpenDatabaseOptions {
  readOnly?: boolean;
  /**
   * The writer of a server that runs a Checkpointer: checkpoint only past
   * BACKSTOP_CHECKPOINT_PAGES instead of SQLite's 1000 (each checkpoint fsyncs the
   * WAL and the database inside the COMMIT that triggers it).
   */
  backgroundCheckpoints?: boolean;
}

export function openDatabase(file: string, o: OpenDatabaseOptions | boolean = {}): DatabaseSync {
  const { readOnly = false, backgroundCheckpoints = false } = typeof o === 'boolean' ? { readOnly: o } : o;
  const db = new DatabaseSync(file, {
    readOnly,
    enableForeignKeyConstraints: true,
    timeout: 10_000,
  });
  if (!readOnly) {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    if (backgroundCheckpoints) db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  }
  return db;
}
