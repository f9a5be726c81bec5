import { HastackError } from '../core/errors.ts';
import { functionCalls, hasWord, type Token } from './sql-lexer.ts';
import type { SqlParams } from './sql-value.ts';

/*
 * What a statement does and whether replaying its text on a replica is safe.
 * Facts come from SQLite's authorizer (which tables a statement writes, which
 * functions it calls, including inside triggers and views) and from the tokens
 * (LIMIT, the literal arguments of date/time functions). Pure: the engine
 * collects the facts and asks.
 */

/** SQLite authorizer action codes (sqlite3.h; stable across versions). */
export const Auth = {
  CREATE_INDEX: 1,
  CREATE_TABLE: 2,
  CREATE_TEMP_INDEX: 3,
  CREATE_TEMP_TABLE: 4,
  CREATE_TEMP_TRIGGER: 5,
  CREATE_TEMP_VIEW: 6,
  CREATE_TRIGGER: 7,
  CREATE_VIEW: 8,
  DELETE: 9,
  DROP_INDEX: 10,
  DROP_TABLE: 11,
  DROP_TEMP_INDEX: 12,
  DROP_TEMP_TABLE: 13,
  DROP_TEMP_TRIGGER: 14,
  DROP_TEMP_VIEW: 15,
  DROP_TRIGGER: 16,
  DROP_VIEW: 17,
  INSERT: 18,
  PRAGMA: 19,
  READ: 20,
  SELECT: 21,
  TRANSACTION: 22,
  UPDATE: 23,
  ATTACH: 24,
  DETACH: 25,
  ALTER_TABLE: 26,
  REINDEX: 27,
  ANALYZE: 28,
  CREATE_VTABLE: 29,
  DROP_VTABLE: 30,
  FUNCTION: 31,
  SAVEPOINT: 32,
  RECURSIVE: 33,
} as const;

export interface AuthorizerAction {
  code: number;
  arg1: string | null;
  arg2: string | null;
  db: string | null;
  /** The trigger or view whose body causes the action (null for the statement itself). */
  triggerOrView: string | null;
}

const DDL_CODES = new Set<number>([
  Auth.CREATE_INDEX,
  Auth.CREATE_TABLE,
  Auth.CREATE_TRIGGER,
  Auth.CREATE_VIEW,
  Auth.DROP_INDEX,
  Auth.DROP_TABLE,
  Auth.DROP_TRIGGER,
  Auth.DROP_VIEW,
  Auth.ALTER_TABLE,
  Auth.REINDEX,
  Auth.ANALYZE,
  Auth.CREATE_VTABLE,
  Auth.DROP_VTABLE,
]);
const TEMP_CODES = new Set<number>([
  Auth.CREATE_TEMP_INDEX,
  Auth.CREATE_TEMP_TABLE,
  Auth.CREATE_TEMP_TRIGGER,
  Auth.CREATE_TEMP_VIEW,
  Auth.DROP_TEMP_INDEX,
  Auth.DROP_TEMP_TABLE,
  Auth.DROP_TEMP_TRIGGER,
  Auth.DROP_TEMP_VIEW,
]);
const WRITE_CODES = new Set<number>([Auth.INSERT, Auth.UPDATE, Auth.DELETE]);

/**
 * Functions whose result on a replica may differ from the source's: the documented
 * list MIXED switches to row logging for (see docs/db.md).
 */
export const UNSAFE_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['random', 'random() returns a different value on every server'],
  ['randomblob', 'randomblob() returns different bytes on every server'],
  ['changes', 'changes() depends on the previous statement of the connection'],
  ['total_changes', 'total_changes() depends on the connection history'],
  ['last_insert_rowid', 'last_insert_rowid() depends on the connection history'],
  ['sqlite_version', 'sqlite_version() differs between SQLite builds'],
  ['sqlite_source_id', 'sqlite_source_id() differs between SQLite builds'],
  ['sqlite_compileoption_get', 'compile options differ between SQLite builds'],
  ['sqlite_compileoption_used', 'compile options differ between SQLite builds'],
  ['sqlite_offset', 'sqlite_offset() depends on the file layout'],
  ['load_extension', 'load_extension() depends on the host'],
  ['current_date', 'CURRENT_DATE reads the clock'],
  ['current_time', 'CURRENT_TIME reads the clock'],
  ['current_timestamp', 'CURRENT_TIMESTAMP reads the clock'],
]);

/** Date/time functions: unsafe when they read the clock ('now', no argument) or the time zone. */
export const TIME_FUNCTIONS: ReadonlySet<string> = new Set([
  'date',
  'time',
  'datetime',
  'julianday',
  'unixepoch',
  'strftime',
  'timediff',
]);
const CLOCK_WORDS = new Set(['now', 'localtime', 'utc']);

export interface StatementAnalysis {
  kind: 'read' | 'write' | 'ddl';
  /** Tables the statement itself inserts into, updates or deletes from (lower-cased). */
  writtenTables: string[];
  /** Tables the statement inserts into (their DEFAULTs run). */
  insertedTables: string[];
  /** A trigger body writes: applying row changes on a replica would fire it again. */
  firesTriggers: boolean;
  /** Why replaying the text may give another result (known at prepare time). */
  unsafeReasons: string[];
  /** A date/time function takes a bound parameter: unsafe when a parameter is 'now'/'localtime'/'utc'. */
  timeParams: boolean;
  /** Why the statement may not run through the client API (undefined when it may). */
  forbidden: string | undefined;
}

export function analyzeStatement(tokens: Token[], actions: readonly AuthorizerAction[]): StatementAnalysis {
  const written = new Set<string>();
  const inserted = new Set<string>();
  const reasons: string[] = [];
  let ddl = false;
  let firesTriggers = false;
  let forbidden: string | undefined;
  const authorizerTimeCalls: string[] = [];

  for (const a of actions) {
    const table = a.arg1?.toLowerCase() ?? '';
    if (a.code === Auth.TRANSACTION || a.code === Auth.SAVEPOINT) {
      forbidden ??=
        'transaction control statements are not allowed: send the statements as one transaction request';
    } else if (a.code === Auth.ATTACH || a.code === Auth.DETACH) {
      forbidden ??= 'ATTACH and DETACH are not replicated';
    } else if (a.code === Auth.PRAGMA && a.arg2 !== null) {
      forbidden ??= `PRAGMA ${a.arg1} = ... changes connection settings and is not replicated`;
    } else if (TEMP_CODES.has(a.code) || (WRITE_CODES.has(a.code) && a.db === 'temp')) {
      forbidden ??= 'temporary tables and triggers are not replicated';
    } else if (DDL_CODES.has(a.code)) {
      ddl = true;
      const target = (a.code === Auth.CREATE_INDEX || a.code === Auth.DROP_INDEX ? a.arg2 : a.arg1) ?? '';
      if (target.toLowerCase().startsWith('_hastack_')) forbidden ??= `${target} is internal to hastack`;
    } else if (WRITE_CODES.has(a.code)) {
      if (table.startsWith('sqlite_')) continue; // schema bookkeeping of DDL
      if (table.startsWith('_hastack_')) forbidden ??= `${a.arg1} is internal to hastack`;
      if (a.triggerOrView !== null) firesTriggers = true;
      else {
        written.add(table);
        if (a.code === Auth.INSERT) inserted.add(table);
      }
    } else if (a.code === Auth.FUNCTION) {
      const name = (a.arg2 ?? '').toLowerCase();
      const why = UNSAFE_FUNCTIONS.get(name);
      if (why !== undefined)
        reasons.push(a.triggerOrView === null ? why : `${why} (in trigger or view ${a.triggerOrView})`);
      else if (TIME_FUNCTIONS.has(name)) {
        if (a.triggerOrView !== null)
          reasons.push(`${name}() in trigger or view ${a.triggerOrView} may read the clock`);
        else authorizerTimeCalls.push(name);
      }
    }
  }

  let timeParams = false;
  if (authorizerTimeCalls.length > 0) {
    const calls = functionCalls(tokens).filter((c) => TIME_FUNCTIONS.has(c.name.toLowerCase()));
    if (calls.length === 0) reasons.push(`${authorizerTimeCalls[0]}() may read the clock`);
    for (const call of calls) {
      const name = call.name.toLowerCase();
      if (call.args.length === 0) reasons.push(`${name}() without arguments reads the clock`);
      else if (call.args.some((t) => t.kind === 'string' && CLOCK_WORDS.has(t.text.trim().toLowerCase())))
        reasons.push(`${name}() with 'now', 'localtime' or 'utc' reads the clock or the time zone`);
      else if (call.args.some((t) => t.kind === 'param')) timeParams = true;
    }
  }

  const kind = ddl ? 'ddl' : written.size > 0 || firesTriggers ? 'write' : 'read';
  if (kind === 'write' && hasWord(tokens, 'LIMIT'))
    reasons.push('LIMIT in a data-changing statement picks rows in an undefined order');
  return {
    kind,
    writtenTables: [...written],
    insertedTables: [...inserted],
    firesTriggers,
    unsafeReasons: reasons,
    timeParams,
    forbidden,
  };
}

/** What the engine knows about a table, for the logging decision. */
export interface TableFacts {
  /** Declared PRIMARY KEY: the session extension ignores tables without one. */
  hasPrimaryKey: boolean;
  virtual: boolean;
  /** Parent of a foreign key with ON DELETE/UPDATE actions (cascades would run twice). */
  cascadeParent: boolean;
  /** A column DEFAULT reads the clock or calls an unsafe function. */
  unsafeDefault: boolean;
}

export type BinlogFormat = 'statement' | 'row' | 'mixed';
export type LoggingMode = 'statement' | 'row' | 'none';

export interface LoggingDecision {
  mode: LoggingMode;
  /** Why the statement is unsafe for statement-based logging (empty when safe). */
  unsafe: string[];
}

/** Reasons known only with the parameters and table facts at execution time. */
export function unsafeReasons(
  a: StatementAnalysis,
  facts: (table: string) => TableFacts | undefined,
  params: SqlParams | undefined,
): string[] {
  const out = a.unsafeReasons.slice();
  if (a.timeParams && params !== undefined) {
    const values = Array.isArray(params) ? params : Object.values(params);
    if (values.some((v) => typeof v === 'string' && CLOCK_WORDS.has(v.trim().toLowerCase())))
      out.push("a date/time function gets 'now', 'localtime' or 'utc' as a parameter");
  }
  for (const t of a.insertedTables)
    if (facts(t)?.unsafeDefault === true) out.push(`a column DEFAULT of ${t} reads the clock or is random`);
  return out;
}

/** Why row images cannot capture the statement (undefined when they can). */
export function rowCaptureProblem(
  a: StatementAnalysis,
  facts: (table: string) => TableFacts | undefined,
): string | undefined {
  if (a.firesTriggers) return 'it fires a trigger that writes (row apply would fire it again on the replica)';
  for (const t of a.writtenTables) {
    const f = facts(t);
    if (f === undefined) return `table ${t} is unknown`;
    if (f.virtual) return `${t} is a virtual table`;
    if (!f.hasPrimaryKey) return `${t} has no PRIMARY KEY (SQLite's session extension needs one)`;
    if (f.cascadeParent) return `${t} is the parent of a foreign key with ON DELETE/UPDATE actions`;
  }
  return undefined;
}

/**
 * How a statement goes into the binary log:
 * - STATEMENT: the text, always (unsafe ones may diverge, as in MySQL);
 * - ROW: row images, or the text when rows cannot capture it and it is safe;
 * - MIXED: the text when safe, row images when unsafe.
 * DDL is always logged as text. A statement that is unsafe and cannot be captured
 * as rows is refused under ROW and MIXED rather than logged wrongly.
 */
export function decideLogging(
  format: BinlogFormat,
  a: StatementAnalysis,
  facts: (table: string) => TableFacts | undefined,
  params: SqlParams | undefined,
): LoggingDecision {
  if (a.kind === 'read') return { mode: 'none', unsafe: [] };
  const unsafe = unsafeReasons(a, facts, params);
  if (format === 'statement') return { mode: 'statement', unsafe };
  if (a.kind === 'ddl') {
    if (unsafe.length > 0) throw refuse(format, unsafe[0]!, 'DDL is logged as a statement');
    return { mode: 'statement', unsafe };
  }
  if (format === 'mixed' && unsafe.length === 0) return { mode: 'statement', unsafe };
  const problem = rowCaptureProblem(a, facts);
  if (problem === undefined) return { mode: 'row', unsafe };
  if (unsafe.length === 0) return { mode: 'statement', unsafe };
  throw refuse(format, unsafe[0]!, `it cannot be logged as rows: ${problem}`);
}

function refuse(format: BinlogFormat, unsafe: string, why: string): HastackError {
  return new HastackError(
    'HASTACK_DB_UNSAFE_STATEMENT',
    `statement is unsafe to replicate as text (${unsafe}) and ${why}; binlog_format ${format.toUpperCase()} refuses it`,
  );
}

/** A column DEFAULT whose value differs between servers (CURRENT_TIMESTAMP, random(), date('now')). */
export function isUnsafeDefault(defaultSql: string, tokenizeSql: (sql: string) => Token[]): boolean {
  const tokens = tokenizeSql(defaultSql);
  if (tokens.some((t) => t.kind === 'word' && /^CURRENT_(TIME|DATE|TIMESTAMP)$/.test(t.text))) return true;
  for (const call of functionCalls(tokens)) {
    const name = call.name.toLowerCase();
    if (UNSAFE_FUNCTIONS.has(name)) return true;
    if (
      TIME_FUNCTIONS.has(name) &&
      (call.args.length === 0 ||
        call.args.some((t) => t.kind === 'string' && CLOCK_WORDS.has(t.text.trim().toLowerCase())))
    )
      return true;
  }
  return false;
}
