import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { DatabaseService } from '../../src/db/db-service.ts';
import { dbRequest, type ServerTarget } from '../../src/db/http-client.ts';
import { checksum, execute, freePort, startInProcess, tempDir, waitCaughtUp } from './db-helpers.ts';

/*
 * The same mixed workload (DDL, parameters, triggers, cascades, INSERT OR REPLACE,
 * multi-statement transactions and non-deterministic statements) under each
 * binlog format, on a source with two replicas. ROW and MIXED replicas end up
 * byte-identical to the source; STATEMENT replays random() and 'now' on each
 * replica and diverges, as MySQL's statement-based replication would.
 */

const SCHEMA = [
  'CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL, token BLOB, seen TEXT)',
  'CREATE TABLE audit (id INTEGER PRIMARY KEY, account INTEGER, what TEXT)',
  "CREATE TRIGGER accounts_audit AFTER INSERT ON accounts BEGIN INSERT INTO audit (account, what) VALUES (NEW.id, 'open'); END",
  'CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT)',
  'CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parents(id) ON DELETE CASCADE, name TEXT)',
  'CREATE TABLE tags (name TEXT, hits INTEGER)',
  'CREATE TABLE uniq (id INTEGER PRIMARY KEY, code TEXT UNIQUE, v INTEGER)',
  'CREATE TABLE stamped (id INTEGER PRIMARY KEY, at TEXT DEFAULT CURRENT_TIMESTAMP, v INTEGER)',
];

function workload(round: number): unknown[][] {
  const b = round * 100;
  return [
    // Deterministic, parameters of every type, trigger fires.
    [
      [
        'INSERT INTO accounts (id, owner, balance, token) VALUES (?, ?, ?, ?)',
        b + 1,
        `owner${round}`,
        100,
        { $blob: 'AAEC' },
      ],
    ],
    [['INSERT INTO accounts (id, owner, balance) VALUES (?, ?, ?)', b + 2, `other${round}`, 50]],
    // A transfer: one multi-statement transaction.
    [
      ['UPDATE accounts SET balance = balance - 10 WHERE id = ?', b + 1],
      ['UPDATE accounts SET balance = balance + 10 WHERE id = ?', b + 2],
    ],
    // Non-deterministic: random(), randomblob(), the clock.
    [
      [
        'UPDATE accounts SET balance = balance + abs(random() % 1000), token = randomblob(8) WHERE id = ?',
        b + 1,
      ],
    ],
    [["UPDATE accounts SET seen = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = ?", b + 2]],
    [['UPDATE accounts SET seen = datetime(?) WHERE id = ?', 'now', b + 1]],
    [['INSERT INTO stamped (id, v) VALUES (?, ?)', b + 1, round]],
    // Cascades and REPLACE.
    [
      ['INSERT INTO parents VALUES (?, ?)', b + 1, 'p'],
      ['INSERT INTO children VALUES (?, ?, ?), (?, ?, ?)', b + 1, b + 1, 'c1', b + 2, b + 1, 'c2'],
    ],
    [['DELETE FROM parents WHERE id = ?', b + 1]],
    [['INSERT OR REPLACE INTO uniq (id, code, v) VALUES (?, ?, ?)', b + 1, `code${round % 3}`, round]],
    // No primary key: logged as a statement (safe).
    [
      ['INSERT INTO tags VALUES (?, ?)', `tag${round}`, round],
      ['UPDATE tags SET hits = hits + 1 WHERE name = ?', `tag${round}`],
    ],
    // LIMIT in a subquery picks rows in an undefined order.
    [
      [
        'UPDATE accounts SET balance = balance + 1 WHERE id IN (SELECT id FROM accounts WHERE balance > ? LIMIT 1)',
        0,
      ],
    ],
  ];
}

async function runFormat(format: 'statement' | 'row' | 'mixed') {
  const tmp = tempDir(`db-fmt-${format}`);
  let svc: DatabaseService | undefined;
  try {
    const ports = await Promise.all(Array.from({ length: 6 }, freePort));
    const server = (name: string, id: number, i: number, role: 'source' | 'replica') => ({
      name,
      server_id: id,
      role,
      data_dir: `${tmp.dir}/${name}`,
      listen: `127.0.0.1:${ports[i * 2]}`,
      http: `127.0.0.1:${ports[i * 2 + 1]}`,
      binlog: { format },
      reconnect: { min: '20ms', max: '200ms' },
      ...(role === 'replica' && { source: `127.0.0.1:${ports[0]}` }),
    });
    svc = await startInProcess(tmp.dir, [
      server('s', 1, 0, 'source'),
      server('r1', 2, 1, 'replica'),
      server('r2', 3, 2, 'replica'),
    ]);
    const t = (name: string): ServerTarget => ({ name, url: svc!.httpUrl(name)! });
    await execute(t('s'), SCHEMA);
    const warnings: string[] = [];
    for (let round = 1; round <= 8; round++) {
      for (const tx of workload(round)) {
        const r = await dbRequest<{ warnings?: string[] }>(t('s'), 'POST', '/db/execute', { statements: tx });
        warnings.push(...(r.warnings ?? []));
        // Let the clock move so 'now' differs between servers.
        if (round % 4 === 0) await new Promise((res) => setTimeout(res, 5));
      }
    }
    for (const r of ['r1', 'r2']) await waitCaughtUp(t('s'), t(r));
    const sums = await Promise.all(['s', 'r1', 'r2'].map((n) => checksum(t(n))));
    const status = svc.snapshot().servers.find((x) => x.name === 's')!;
    return { sums, warnings, counters: status.source!.counters! };
  } finally {
    await svc?.stop(0);
    tmp.cleanup();
  }
}

describe('database: binlog formats under a mixed workload', () => {
  after(() => {});

  it('ROW: replicas are byte-identical to the source', async () => {
    const { sums, counters } = await runFormat('row');
    assert.equal(sums[1], sums[0]);
    assert.equal(sums[2], sums[0]);
    assert.ok(
      counters.rowsEvents > 0 && counters.queryEvents > 0,
      'rows, plus DDL/trigger/no-key tables as text',
    );
  });

  it('MIXED: replicas are byte-identical to the source', async () => {
    const { sums, counters } = await runFormat('mixed');
    assert.equal(sums[1], sums[0]);
    assert.equal(sums[2], sums[0]);
    assert.ok(counters.rowsEvents > 0, 'unsafe statements went to row events');
    assert.equal(counters.unsafeStatements, 0);
  });

  it('STATEMENT: unsafe statements replay differently and the replicas diverge', async () => {
    const { sums, warnings, counters } = await runFormat('statement');
    assert.notEqual(sums[1], sums[0]);
    assert.notEqual(sums[2], sums[0]);
    assert.equal(counters.rowsEvents, 0);
    assert.ok(
      counters.unsafeStatements > 0 && warnings.some((w) => /random\(\)/.test(w)),
      'unsafe statements were flagged',
    );
  });
});
