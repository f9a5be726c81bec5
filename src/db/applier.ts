import { constants, type DatabaseSync, type StatementSync } from 'node:sqlite';
import { HastackError } from '../core/errors.ts';
import { QUERY_FLAG_DDL } from './event-bodies.ts';
import { EventType } from './event-types.ts';
import { formatGtid, type GtidSet } from './gtid-set.ts';
import type { TransactionGroup } from './log-scan.ts';
import { type AppliedState, StateWriter } from './replication-state.ts';
import type { SqlParams, SqlValue } from './sql-value.ts';

/*
 * Applies one logged transaction to a database: Query events run their SQL with
 * the logged parameters, Rows events apply their changeset, and the executed GTID
 * set and positions are updated in the same SQLite transaction. A transaction
 * whose GTID is already executed is skipped, which makes re-delivery harmless.
 * Used by the SQL thread and by binary log recovery at startup.
 */

export interface ApplyPosition {
  relayLogFile: string;
  relayLogPos: number;
  sourceLogFile: string;
  execSourceLogPos: number;
}

/** SQLITE_CHANGESET_DATA .. _FOREIGN_KEY (sqlite3.h). */
const CONFLICT_NAMES: Record<number, string> = {
  1: "the row's current values differ from the logged before image",
  2: "can't find the row to change",
  3: 'a row with the same primary key already exists',
  4: 'a constraint fails',
  5: 'a foreign key constraint fails',
};

export class Applier {
  readonly #db: DatabaseSync;
  readonly #state: StateWriter;
  readonly #executed: GtidSet;
  readonly #statements = new Map<string, StatementSync>();
  #tables: Set<string> | undefined;
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  #position: ApplyPosition;
  #lastOriginalCommitUs: number;

  constructor(db: DatabaseSync, executed: GtidSet, initial: AppliedState) {
    this.#db = db;
    this.#state = new StateWriter(db);
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    this.#executed = executed;
    this.#position = {
      relayLogFile: initial.relayLogFile,
      relayLogPos: initial.relayLogPos,
      sourceLogFile: initial.sourceLogFile,
      execSourceLogPos: initial.execSourceLogPos,
    };
    this.#lastOriginalCommitUs = initial.lastOriginalCommitUs;
  }

  get executed(): GtidSet {
    return this.#executed;
  }

  get position(): ApplyPosition {
    return this.#position;
  }

  get lastOriginalCommitUs(): number {
    return this.#lastOriginalCommitUs;
  }

  /**
   * Applies `group` in one SQLite transaction. `beforeCommit` runs after the
   * changes and before COMMIT (re-logging into this server's binary log).
   * Returns false when the GTID was already executed (nothing applied).
   */
  apply(group: TransactionGroup, position: ApplyPosition | undefined, beforeCommit?: () => void): boolean {
    const { uuid, seq } = group.gtid;
    if (this.#executed.has(uuid, seq)) {
      if (position !== undefined) this.#position = position;
      return false;
    }
    const db = this.#db;
    this.#begin.run();
    try {
      for (const e of group.events) {
        const ev = e.event;
        if (ev.type === EventType.QUERY) {
          this.#runQuery(ev.sql, ev.params, group, e.pos);
          if ((ev.flags & QUERY_FLAG_DDL) !== 0) {
            this.#statements.clear();
            this.#tables = undefined;
          }
        } else if (ev.type === EventType.ROWS) {
          this.#applyRows(ev.changeset, group, e.pos);
        }
      }
      const pos = position ?? this.#position;
      this.#state.write({
        gtidExecuted: this.#executed.textWith(uuid, seq),
        ...pos,
        lastOriginalCommitUs: group.gtid.originalCommitUs,
      });
      beforeCommit?.();
      this.#commit.run();
      this.#executed.add(uuid, seq);
      this.#position = pos;
      this.#lastOriginalCommitUs = group.gtid.originalCommitUs;
      return true;
    } catch (err) {
      if (db.isTransaction) this.#rollback.run();
      throw err;
    }
  }

  #runQuery(sql: string, params: SqlParams | undefined, group: TransactionGroup, at: number): void {
    let stmt = this.#statements.get(sql);
    try {
      if (stmt === undefined) {
        stmt = this.#db.prepare(sql);
        if (this.#statements.size > 500) this.#statements.clear();
        this.#statements.set(sql, stmt);
      }
      if (params === undefined) stmt.run();
      else if (Array.isArray(params)) stmt.run(...(params as SqlValue[]));
      else stmt.run(params as Record<string, SqlValue>);
    } catch (err) {
      throw new HastackError(
        'HASTACK_DB_APPLY_QUERY',
        `error applying transaction ${formatGtid(group.gtid)}: Query event at ${at} failed: ${(err as Error).message}; statement: ${sql.slice(0, 200)}`,
        { cause: err },
      );
    }
  }

  #applyRows(changeset: Uint8Array, group: TransactionGroup, at: number): void {
    let table = '';
    let conflict: number | undefined;
    let missing: string | undefined;
    const tables = this.#knownTables();
    const ok = this.#db.applyChangeset(changeset, {
      filter: (name: string) => {
        table = name;
        if (!tables.has(name.toLowerCase())) missing ??= name;
        return true;
      },
      onConflict: (type: number) => {
        conflict ??= type;
        return constants.SQLITE_CHANGESET_ABORT;
      },
    });
    if (missing !== undefined)
      throw new HastackError(
        'HASTACK_DB_APPLY_ROWS',
        `error applying transaction ${formatGtid(group.gtid)}: Rows event at ${at} changes table ${missing}, which does not exist on this server`,
      );
    if (!ok || conflict !== undefined)
      throw new HastackError(
        'HASTACK_DB_APPLY_ROWS',
        `error applying transaction ${formatGtid(group.gtid)}: Rows event at ${at} on table ${table}: ${CONFLICT_NAMES[conflict ?? 0] ?? 'the changeset was not applied'} (the replica has diverged from the source)`,
      );
  }

  #knownTables(): Set<string> {
    if (this.#tables === undefined) {
      const rows = this.#db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as {
        name: string;
      }[];
      this.#tables = new Set(rows.map((r) => r.name.toLowerCase()));
    }
    return this.#tables;
  }
}
