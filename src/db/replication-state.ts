import type { DatabaseSync, StatementSync } from 'node:sqlite';

/*
 * The applier's position and the executed GTID set live in a table of the same
 * database (MySQL's relay_log_info_repository=TABLE): they commit in the same
 * SQLite transaction as the changes they describe, so a crash can neither lose
 * nor repeat a transaction.
 */

export const STATE_TABLE = '_hastack_replication';

export interface AppliedState {
  gtidExecuted: string;
  /** Relay log segment and offset after the last applied transaction. */
  relayLogFile: string;
  relayLogPos: number;
  /** The same point in the source's binary log coordinates (Relay_Source_Log_File / Exec_Source_Log_Pos). */
  sourceLogFile: string;
  execSourceLogPos: number;
  /** Original commit time of the last applied transaction, µs since the epoch. */
  lastOriginalCommitUs: number;
}

export function ensureStateTable(db: DatabaseSync): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    gtid_executed TEXT NOT NULL DEFAULT '',
    relay_log_file TEXT NOT NULL DEFAULT '',
    relay_log_pos INTEGER NOT NULL DEFAULT 0,
    source_log_file TEXT NOT NULL DEFAULT '',
    exec_source_log_pos INTEGER NOT NULL DEFAULT 0,
    last_original_commit_us INTEGER NOT NULL DEFAULT 0
  )`);
  db.exec(`INSERT OR IGNORE INTO ${STATE_TABLE} (id) VALUES (1)`);
}

export function readState(db: DatabaseSync): AppliedState {
  const row = db
    .prepare(
      `SELECT gtid_executed, relay_log_file, relay_log_pos, source_log_file, exec_source_log_pos, last_original_commit_us FROM ${STATE_TABLE} WHERE id = 1`,
    )
    .get() as Record<string, unknown> | undefined;
  return {
    gtidExecuted: String(row?.gtid_executed ?? ''),
    relayLogFile: String(row?.relay_log_file ?? ''),
    relayLogPos: Number(row?.relay_log_pos ?? 0),
    sourceLogFile: String(row?.source_log_file ?? ''),
    execSourceLogPos: Number(row?.exec_source_log_pos ?? 0),
    lastOriginalCommitUs: Number(row?.last_original_commit_us ?? 0),
  };
}

/** Prepared updates of the state row, run inside the caller's transaction. */
export class StateWriter {
  readonly #all: StatementSync;
  readonly #executed: StatementSync;

  constructor(db: DatabaseSync) {
    this.#all = db.prepare(
      `UPDATE ${STATE_TABLE} SET gtid_executed = ?, relay_log_file = ?, relay_log_pos = ?, source_log_file = ?, exec_source_log_pos = ?, last_original_commit_us = ? WHERE id = 1`,
    );
    this.#executed = db.prepare(
      `UPDATE ${STATE_TABLE} SET gtid_executed = ?, last_original_commit_us = ? WHERE id = 1`,
    );
  }

  write(s: AppliedState): void {
    this.#all.run(
      s.gtidExecuted,
      s.relayLogFile,
      s.relayLogPos,
      s.sourceLogFile,
      s.execSourceLogPos,
      s.lastOriginalCommitUs,
    );
  }

  writeExecuted(gtidExecuted: string, lastOriginalCommitUs: number): void {
    this.#executed.run(gtidExecuted, lastOriginalCommitUs);
  }
}
