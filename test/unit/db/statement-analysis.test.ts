import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { functionCalls, singleStatement, tokenize } from '../../../src/db/sql-lexer.ts';
import {
  type AuthorizerAction,
  analyzeStatement,
  type BinlogFormat,
  decideLogging,
  isUnsafeDefault,
  type StatementAnalysis,
  type TableFacts,
} from '../../../src/db/statement-analysis.ts';

/** Facts from real SQLite: prepare the statement with an authorizer, as the engine does. */
function analyze(db: DatabaseSync, sql: string): StatementAnalysis {
  const actions: AuthorizerAction[] = [];
  db.setAuthorizer((code, arg1, arg2, dbName, triggerOrView) => {
    actions.push({ code, arg1, arg2, db: dbName, triggerOrView });
    return 0;
  });
  db.prepare(sql);
  db.setAuthorizer(null);
  return analyzeStatement(singleStatement(sql), actions);
}

const FACTS: Record<string, TableFacts> = {
  t: { hasPrimaryKey: true, virtual: false, cascadeParent: false, unsafeDefault: false },
  nokey: { hasPrimaryKey: false, virtual: false, cascadeParent: false, unsafeDefault: false },
  stamped: { hasPrimaryKey: true, virtual: false, cascadeParent: false, unsafeDefault: true },
  parent: { hasPrimaryKey: true, virtual: false, cascadeParent: true, unsafeDefault: false },
};
const facts = (t: string) => FACTS[t];

function schema(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v, w);
    CREATE TABLE nokey (v);
    CREATE TABLE stamped (id INTEGER PRIMARY KEY, at TEXT DEFAULT CURRENT_TIMESTAMP);
    CREATE TABLE parent (id INTEGER PRIMARY KEY);
    CREATE TABLE log (msg);
    CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO log VALUES (NEW.v); END;
    CREATE VIEW recent AS SELECT * FROM t WHERE w > julianday('now');`);
  return db;
}

describe('SQL lexer', () => {
  it('skips strings, identifiers and comments', () => {
    const toks = tokenize(`SELECT 'LIMIT ''x''', "LIMIT", [LIMIT], \`LIMIT\` -- LIMIT\n/* LIMIT */ FROM t`);
    assert.deepEqual(
      toks.filter((t) => t.kind === 'word').map((t) => t.text),
      ['SELECT', 'FROM', 'T'],
    );
    assert.equal(toks[1]!.text, "LIMIT 'x'");
  });

  it('allows one statement per entry (trigger bodies keep their semicolons)', () => {
    assert.equal(singleStatement('SELECT 1;;  -- done').length, 2);
    assert.throws(() => singleStatement('SELECT 1; DROP TABLE t'), {
      code: 'HASTACK_DB_MULTIPLE_STATEMENTS',
    });
    assert.throws(() => singleStatement("SELECT 1; SELECT ';'"), { code: 'HASTACK_DB_MULTIPLE_STATEMENTS' });
    const trig =
      'CREATE TRIGGER x AFTER INSERT ON t BEGIN UPDATE t SET v = CASE WHEN 1 THEN 2 END; DELETE FROM log; END;';
    assert.ok(singleStatement(trig).length > 10);
  });

  it('finds function calls and their arguments', () => {
    const calls = functionCalls(tokenize("SELECT strftime('%s', 'now'), date(), abs(random())"));
    assert.deepEqual(
      calls.map((c) => [c.name, c.args.length]),
      [
        ['STRFTIME', 3],
        ['DATE', 0],
        ['ABS', 3],
        ['RANDOM', 0],
      ],
    );
  });
});

describe('statement analysis (the documented unsafe list)', () => {
  const db = schema();
  const cases: [string, RegExp | null][] = [
    ['INSERT INTO t (v) VALUES (random())', /random\(\)/],
    ['UPDATE t SET v = randomblob(4)', /randomblob/],
    ["UPDATE t SET v = datetime('now')", /'now'/],
    ["UPDATE t SET v = date('2024-01-01', 'localtime')", /'now', 'localtime' or 'utc'/],
    ['UPDATE t SET v = date()', /without arguments/],
    ['UPDATE t SET v = CURRENT_TIMESTAMP', /CURRENT_TIMESTAMP/],
    ['UPDATE t SET v = last_insert_rowid()', /last_insert_rowid/],
    ['UPDATE t SET v = changes()', /changes\(\)/],
    ['UPDATE t SET v = sqlite_version()', /differs between SQLite builds/],
    ['DELETE FROM t WHERE id IN (SELECT id FROM t LIMIT 2)', /LIMIT/],
    ['INSERT INTO nokey SELECT v FROM t ORDER BY id LIMIT 1', /LIMIT/],
    ['INSERT INTO t (v, w) SELECT v, w FROM recent', /in trigger or view recent/],
    ["UPDATE t SET v = date('2024-01-01', '+1 day')", null],
    ['UPDATE t SET v = abs(v) + 1 WHERE id = ?', null],
    ['INSERT INTO t (v) VALUES (?)', null],
  ];
  for (const [sql, unsafe] of cases) {
    it(`${unsafe === null ? 'safe' : 'unsafe'}: ${sql}`, () => {
      const a = analyze(db, sql);
      assert.equal(a.kind, 'write');
      if (unsafe === null) assert.deepEqual(a.unsafeReasons, []);
      else assert.match(a.unsafeReasons.join('; '), unsafe);
    });
  }

  it('reads, DDL, trigger writes and forbidden statements', () => {
    assert.equal(analyze(db, 'SELECT random() FROM t').kind, 'read');
    assert.equal(analyze(db, 'CREATE TABLE z (a)').kind, 'ddl');
    const ins = analyze(db, 'INSERT INTO t (v) VALUES (1)');
    assert.ok(ins.firesTriggers);
    assert.deepEqual(ins.writtenTables, ['t']);
    assert.equal(
      analyze(db, 'UPDATE t SET v = 1').firesTriggers,
      false,
      'only triggers the statement fires count',
    );
    assert.match(analyze(db, 'BEGIN').forbidden!, /transaction control/);
    assert.match(analyze(db, "ATTACH ':memory:' AS x").forbidden!, /ATTACH/);
    assert.match(analyze(db, 'PRAGMA foreign_keys = OFF').forbidden!, /PRAGMA/);
    assert.match(analyze(db, 'CREATE TEMP TABLE tmp (a)').forbidden!, /temporary/);
    db.exec('CREATE TABLE _hastack_x (a)');
    assert.match(analyze(db, 'DELETE FROM _hastack_x').forbidden!, /internal/);
  });

  it('checks date/time parameters at execution time', () => {
    const a = analyze(db, 'UPDATE t SET v = datetime(?) WHERE id = ?');
    assert.ok(a.timeParams);
    assert.equal(decideLogging('mixed', a, facts, ['2024-01-01', 1n]).mode, 'statement');
    assert.equal(decideLogging('mixed', a, facts, ['now', 1n]).mode, 'row');
  });

  it('column defaults that read the clock are unsafe for INSERT', () => {
    assert.ok(isUnsafeDefault('CURRENT_TIMESTAMP', tokenize));
    assert.ok(isUnsafeDefault("(datetime('now'))", tokenize));
    assert.ok(isUnsafeDefault('(random())', tokenize));
    assert.ok(!isUnsafeDefault("'n/a'", tokenize));
    assert.equal(
      decideLogging('mixed', analyze(db, 'INSERT INTO stamped (id) VALUES (1)'), facts, undefined).mode,
      'row',
    );
  });

  it('decides the logging mode per format', () => {
    const table: [string, BinlogFormat, string][] = [
      ['UPDATE t SET v = 1', 'statement', 'statement'],
      ['UPDATE t SET v = 1', 'row', 'row'],
      ['UPDATE t SET v = 1', 'mixed', 'statement'],
      ['UPDATE t SET v = random()', 'statement', 'statement'],
      ['UPDATE t SET v = random()', 'row', 'row'],
      ['UPDATE t SET v = random()', 'mixed', 'row'],
      ['UPDATE nokey SET v = 1', 'row', 'statement'],
      ['INSERT INTO t (v) VALUES (1)', 'row', 'statement'],
      ['DELETE FROM parent', 'row', 'statement'],
      ['SELECT * FROM t', 'row', 'none'],
      ['CREATE INDEX i ON t (v)', 'row', 'statement'],
    ];
    for (const [sql, format, mode] of table)
      assert.equal(decideLogging(format, analyze(db, sql), facts, undefined).mode, mode, `${format}: ${sql}`);
  });

  it('refuses what can be logged neither as text nor as rows', () => {
    for (const format of ['row', 'mixed'] as const) {
      assert.throws(
        () => decideLogging(format, analyze(db, 'UPDATE nokey SET v = random()'), facts, undefined),
        {
          code: 'HASTACK_DB_UNSAFE_STATEMENT',
          message: /no PRIMARY KEY/,
        },
      );
      assert.throws(
        () => decideLogging(format, analyze(db, 'INSERT INTO t (v) VALUES (random())'), facts, undefined),
        {
          message: /fires a trigger/,
        },
      );
      assert.throws(
        () => decideLogging(format, analyze(db, 'CREATE TABLE r AS SELECT random() AS x'), facts, undefined),
        {
          message: /DDL is logged as a statement/,
        },
      );
    }
    assert.equal(
      decideLogging('statement', analyze(db, 'UPDATE nokey SET v = random()'), facts, undefined).unsafe
        .length,
      1,
    );
  });
});
