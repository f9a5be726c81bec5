import type { DatabaseSync, Session, StatementSync } from 'node:sqlite';
import type { Clock } from '../core/clock.ts';
import { errorMessage, HastackError, isHastackError } from '../core/errors.ts';
import type { BinlogWriter } from './binlog-writer.ts';
import { type BinlogEvent, QUERY_FLAG_DDL } from './event-bodies.ts';
import { EventType } from './event-types.ts';
import type { GtidSet } from './gtid-set.ts';
import { StateWriter } from './replication-state.ts';
import { singleStatement, tokenize } from './sql-lexer.ts';
import type { SqlParams, SqlValue } from './sql-value.ts';
import {
  type AuthorizerAction,
  analyzeStatement,
  type BinlogFormat,
  decideLogging,
  isUnsafeDefault,
  type LoggingDecision,
  type StatementAnalysis,
  type TableFacts,
} from './statement-analysis.ts';
import { wallMicros } from './wall-clock.ts';

/*
 * The source's write path. A request's statements run in one SQLite transaction;
 * each is logged as text or as row images (session changesets) by the binlog
 * format; then the transaction gets the next GTID, the executed set is updated in
 * the same transaction, the events are appended to the binary log, and SQLite
 * commits. The log is written before the commit: a crash in between leaves a
 * logged transaction that recovery applies at the next start, so the binary log
 * is never behind the database.
 */

export interface StatementRequest {
  sql: string;
  params?: SqlParams;
}

export interface StatementResult {
  changes?: number;
  lastInsertRowid?: number;
  columns?: string[];
  rows?: unknown[][];
}

export interface CommitInfo {
  gtid: string;
  uuid: string;
  seq: number;
  file: string;
  start: number;
  end: number;
}

export interface ExecuteOutcome {
  results: StatementResult[];
  commit: CommitInfo | undefined;
  /** Statements logged as text although unsafe (STATEMENT format), with why. */
  warnings: string[];
}

interface Prepared {
  stmt: StatementSync;
  analysis: StatementAnalysis;
  columns: string[];
  /** Logging decisions that do not depend on the parameters, per format (cleared with the schema). */
  decisions: Map<BinlogFormat, LoggingDecision> | undefined;
}

export interface WriteEngineCounters {
  transactions: number;
  statements: number;
  queryEvents: number;
  rowsEvents: number;
  unsafeStatements: number;
  rolledBack: number;
}

export interface WriteEngineOptions {
  db: DatabaseSync;
  binlog: BinlogWriter;
  serverUuid: string;
  executed: GtidSet;
  format: BinlogFormat;
  clock: Clock;
}

const MAX_CACHED_STATEMENTS = 500;

export class WriteEngine {
  readonly #db: DatabaseSync;
  readonly #binlog: BinlogWriter;
  readonly #uuid: string;
  readonly #executed: GtidSet;
  readonly #clock: Clock;
  readonly #state: StateWriter;
  #format: BinlogFormat;
  readonly #cache = new Map<string, Prepared>();
  readonly #facts = new Map<string, TableFacts | undefined>();
  #cascadeParents: Set<string> | undefined;
  #collect: AuthorizerAction[] | undefined;
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  readonly counters: WriteEngineCounters = {
    transactions: 0,
    statements: 0,
    queryEvents: 0,
    rowsEvents: 0,
    unsafeStatements: 0,
    rolledBack: 0,
  };

  constructor(o: WriteEngineOptions) {
    this.#db = o.db;
    this.#binlog = o.binlog;
    this.#uuid = o.serverUuid;
    this.#executed = o.executed;
    this.#clock = o.clock;
    this.#format = o.format;
    this.#state = new StateWriter(o.db);
    this.#begin = o.db.prepare('BEGIN IMMEDIATE');
    this.#commit = o.db.prepare('COMMIT');
    this.#rollback = o.db.prepare('ROLLBACK');
    o.db.setAuthorizer((code, arg1, arg2, db, triggerOrView) => {
      this.#collect?.push({ code, arg1, arg2, db, triggerOrView });
      return 0;
    });
  }

  get format(): BinlogFormat {
    return this.#format;
  }

  set format(f: BinlogFormat) {
    this.#format = f;
  }

  get executed(): GtidSet {
    return this.#executed;
  }

  /** Runs the statements as one transaction and logs it. Synchronous; durability is the caller's flush. */
  execute(requests: readonly StatementRequest[], format: BinlogFormat = this.#format): ExecuteOutcome {
    if (requests.length === 0) throw new HastackError('HASTACK_DB_BAD_REQUEST', 'no statements to execute');
    const db = this.#db;
    const results: StatementResult[] = [];
    const events: BinlogEvent[] = [];
    const warnings: string[] = [];
    let session: Session | undefined;
    let index = 0;
    this.#begin.run();
    try {
      for (; index < requests.length; index++) {
        const req = requests[index]!;
        const p = this.#prepare(req.sql);
        const decision = this.#decide(p, format, req.params);
        if (decision.mode === 'statement' && decision.unsafe.length > 0) {
          this.counters.unsafeStatements++;
          warnings.push(
            `statement ${index + 1} is unsafe for STATEMENT logging: ${decision.unsafe.join('; ')}`,
          );
        }
        if (decision.mode === 'row') session ??= db.createSession();
        else if (decision.mode === 'statement' && session !== undefined) {
          this.#flushSession(session, events);
          session = undefined;
        }
        results.push(this.#run(p, req.params));
        this.counters.statements++;
        if (decision.mode === 'statement') {
          const ddl = p.analysis.kind === 'ddl';
          events.push({
            type: EventType.QUERY,
            flags: ddl ? QUERY_FLAG_DDL : 0,
            sql: req.sql,
            params: req.params,
          });
          this.counters.queryEvents++;
          if (ddl) this.#schemaChanged();
        }
      }
      if (session !== undefined) {
        this.#flushSession(session, events);
        session = undefined;
      }
      if (events.length === 0) {
        this.#commit.run();
        return { results, commit: undefined, warnings };
      }
      const seq = this.#executed.last(this.#uuid) + 1;
      const commitUs = wallMicros();
      this.#state.writeExecuted(this.#executed.textWith(this.#uuid, seq), commitUs);
      const appended = this.#binlog.appendTransaction(
        [
          { type: EventType.GTID, uuid: this.#uuid, seq, originalCommitUs: commitUs },
          ...events,
          { type: EventType.XID, xid: seq },
        ],
        Math.floor(this.#clock.wallNow() / 1000),
      );
      try {
        this.#commit.run();
      } catch (err) {
        this.#binlog.truncateTo(appended);
        throw err;
      }
      this.#executed.add(this.#uuid, seq);
      this.#binlog.noteLogged(this.#uuid, seq);
      this.counters.transactions++;
      return {
        results,
        commit: { gtid: `${this.#uuid}:${seq}`, uuid: this.#uuid, seq, ...appended },
        warnings,
      };
    } catch (err) {
      session?.close();
      if (db.isTransaction) this.#rollback.run();
      this.counters.rolledBack++;
      throw statementError(err, index, requests.length);
    }
  }

  #decide(p: Prepared, format: BinlogFormat, params: StatementRequest['params']): LoggingDecision {
    const a = p.analysis;
    // Parameters matter only for date/time arguments; DEFAULTs only for INSERT (facts are cached).
    if (a.timeParams) return decideLogging(format, a, (t) => this.#tableFacts(t), params);
    p.decisions ??= new Map();
    let d = p.decisions.get(format);
    if (d === undefined) {
      d = decideLogging(format, a, (t) => this.#tableFacts(t), params);
      p.decisions.set(format, d);
    }
    return d;
  }

  #flushSession(session: Session, events: BinlogEvent[]): void {
    const changeset = session.changeset();
    session.close();
    if (changeset.length > 0) {
      events.push({ type: EventType.ROWS, flags: 0, changeset });
      this.counters.rowsEvents++;
    }
  }

  #run(p: Prepared, params: SqlParams | undefined): StatementResult {
    if (p.columns.length > 0) {
      p.stmt.setReturnArrays(true);
      p.stmt.setReadBigInts(true);
      const rows = (params === undefined
        ? p.stmt.all()
        : Array.isArray(params)
          ? p.stmt.all(...(params as SqlValue[]))
          : p.stmt.all(params as Record<string, SqlValue>)) as unknown as unknown[][];
      return { columns: p.columns, rows };
    }
    const r =
      params === undefined
        ? p.stmt.run()
        : Array.isArray(params)
          ? p.stmt.run(...(params as SqlValue[]))
          : p.stmt.run(params as Record<string, SqlValue>);
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }

  #prepare(sql: string): Prepared {
    const cached = this.#cache.get(sql);
    if (cached !== undefined) return cached;
    const tokens = singleStatement(sql);
    if (tokens.length === 0) throw new HastackError('HASTACK_DB_BAD_REQUEST', 'empty SQL statement');
    const actions: AuthorizerAction[] = [];
    this.#collect = actions;
    let stmt: StatementSync;
    try {
      stmt = this.#db.prepare(sql);
    } catch (err) {
      throw new HastackError('HASTACK_DB_SQL', errorMessage(err), { cause: err });
    } finally {
      this.#collect = undefined;
    }
    const analysis = analyzeStatement(tokens, actions);
    if (analysis.forbidden !== undefined)
      throw new HastackError('HASTACK_DB_FORBIDDEN_STATEMENT', analysis.forbidden);
    const prepared: Prepared = {
      stmt,
      analysis,
      columns: stmt.columns().map((c) => c.name),
      decisions: undefined,
    };
    if (this.#cache.size >= MAX_CACHED_STATEMENTS) this.#cache.clear();
    this.#cache.set(sql, prepared);
    return prepared;
  }

  #schemaChanged(): void {
    this.#cache.clear();
    this.#facts.clear();
    this.#cascadeParents = undefined;
  }

  #tableFacts(table: string): TableFacts | undefined {
    if (this.#facts.has(table)) return this.#facts.get(table);
    const db = this.#db;
    const cols = db.prepare('SELECT pk, dflt_value FROM pragma_table_xinfo(?)').all(table) as {
      pk: number;
      dflt_value: string | null;
    }[];
    let facts: TableFacts | undefined;
    if (cols.length > 0) {
      const schema = db
        .prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE")
        .get(table) as { sql: string | null } | undefined;
      facts = {
        hasPrimaryKey: cols.some((c) => c.pk > 0),
        virtual: /^\s*CREATE\s+VIRTUAL/i.test(schema?.sql ?? ''),
        cascadeParent: this.#cascades().has(table.toLowerCase()),
        unsafeDefault: cols.some(
          (c) => c.dflt_value !== null && isUnsafeDefault(String(c.dflt_value), tokenize),
        ),
      };
    }
    this.#facts.set(table, facts);
    return facts;
  }

  #cascades(): Set<string> {
    if (this.#cascadeParents !== undefined) return this.#cascadeParents;
    const parents = new Set<string>();
    const tables = this.#db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as {
      name: string;
    }[];
    const fk = this.#db.prepare(
      'SELECT "table" AS parent, on_update, on_delete FROM pragma_foreign_key_list(?)',
    );
    for (const t of tables) {
      for (const row of fk.all(t.name) as { parent: string; on_update: string; on_delete: string }[]) {
        const quiet = (a: string) => a === 'NO ACTION' || a === 'RESTRICT';
        if (!quiet(row.on_update) || !quiet(row.on_delete)) parents.add(row.parent.toLowerCase());
      }
    }
    this.#cascadeParents = parents;
    return parents;
  }
}

function statementError(err: unknown, index: number, count: number): HastackError {
  const where = count > 1 ? `statement ${index + 1} of ${count}: ` : '';
  if (isHastackError(err)) {
    if (where === '') return err;
    return new HastackError(err.code, `${where}${err.message}`, { cause: err });
  }
  return new HastackError('HASTACK_DB_SQL', `${where}${errorMessage(err)}`, { cause: err });
}
