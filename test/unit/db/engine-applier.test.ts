import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { Applier } from '../../../src/db/applier.ts';
import { BinlogWriter } from '../../../src/db/binlog-writer.ts';
import { decodeChangeset } from '../../../src/db/changeset.ts';
import { checksumOf } from '../../../src/db/content-checksum.ts';
import { EventType } from '../../../src/db/event-types.ts';
import { GtidSet } from '../../../src/db/gtid-set.ts';
import { scanSegment } from '../../../src/db/log-scan.ts';
import { openDatabase } from '../../../src/db/open-database.ts';
import { ensureStateTable, readState, STATE_TABLE } from '../../../src/db/replication-state.ts';
import { WriteEngine } from '../../../src/db/sql-engine.ts';
import type { BinlogFormat } from '../../../src/db/statement-analysis.ts';

import { binlogOptions, UUID } from './binlog-helpers.ts';

const dirs: string[] = [];

function engine(format: BinlogFormat) {
  const d = mkdtempSync(join(tmpdir(), 'hastack-engine-'));
  dirs.push(d);
  const db = openDatabase(join(d, 'a.sqlite'));
  ensureStateTable(db);
  const binlog = BinlogWriter.recover(
    binlogOptions(join(d, 'binlog'), { serverId: 1, serverVersion: 't', maxSize: 1 << 24, sync: false }),
  );
  binlog.start();
  const e = new WriteEngine({
    db,
    binlog,
    serverUuid: UUID,
    executed: new GtidSet(),
    format,
    clock: new ManualClock(),
  });
  const groups = () => scanSegment(readFileSync(binlog.segmentPath(binlog.current().file)), 'b').groups;
  return { d, db, binlog, e, groups };
}

function replicaDb(d: string) {
  const db = openDatabase(join(d, `replica-${Math.random()}.sqlite`));
  ensureStateTable(db);
  return { db, applier: new Applier(db, new GtidSet(), readState(db)) };
}

describe('write engine and applier', () => {
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('logs DDL as Query, rows as Rows (ROW), and replays to an identical database', () => {
    const { d, db, e, groups } = engine('row');
    e.execute([{ sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL, b BLOB)' }]);
    const r = e.execute([
      { sql: 'INSERT INTO t (id, v, b) VALUES (?, random(), randomblob(4))', params: [1n] },
      { sql: 'INSERT INTO t (id, v) VALUES (?, ?)', params: [2n, 2.5] },
      { sql: 'SELECT count(*) AS n FROM t' },
    ]);
    assert.equal(r.commit?.seq, 2);
    assert.deepEqual(r.results[2], { columns: ['n'], rows: [[2n]] });
    const g = groups();
    assert.deepEqual(
      g.map((x) => x.events.map((ev) => ev.event.type)),
      [
        [EventType.GTID, EventType.QUERY, EventType.XID],
        [EventType.GTID, EventType.ROWS, EventType.XID],
      ],
    );
    const rows = g[1]!.events[1]!.event;
    assert.ok(rows.type === EventType.ROWS);
    const decoded = decodeChangeset(rows.changeset);
    assert.equal(decoded[0]!.table, 't');
    assert.deepEqual(decoded[0]!.primaryKey, [true, false, false]);
    assert.equal(decoded[0]!.changes.length, 2);
    const rep = replicaDb(d);
    for (const group of g) assert.equal(rep.applier.apply(group, undefined), true);
    assert.equal(rep.applier.apply(g[1]!, undefined), false, 'an executed GTID is skipped');
    assert.equal(checksumOf(rep.db, [STATE_TABLE]).checksum, checksumOf(db, [STATE_TABLE]).checksum);
    assert.equal(readState(rep.db).gtidExecuted, `${UUID}:1-2`);
  });

  it('MIXED logs safe statements as text and unsafe ones as rows, in order', () => {
    const { e, groups } = engine('mixed');
    e.execute([{ sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v)' }]);
    e.execute([
      { sql: 'INSERT INTO t VALUES (1, 1)' },
      { sql: 'UPDATE t SET v = random() WHERE id = 1' },
      { sql: 'INSERT INTO t VALUES (2, 2)' },
    ]);
    assert.deepEqual(
      groups()[1]!.events.map((ev) => ev.event.type),
      [EventType.GTID, EventType.QUERY, EventType.ROWS, EventType.QUERY, EventType.XID],
    );
  });

  it('rolls back a failing transaction and logs nothing', () => {
    const { e, binlog, db } = engine('row');
    e.execute([{ sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY)' }]);
    const pos = binlog.current().pos;
    assert.throws(
      () => e.execute([{ sql: 'INSERT INTO t VALUES (1)' }, { sql: 'INSERT INTO t VALUES (1)' }]),
      { code: 'HASTACK_DB_SQL', message: /statement 2 of 2: UNIQUE constraint failed/ },
    );
    assert.equal(binlog.current().pos, pos);
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
    assert.equal(e.counters.rolledBack, 1);
    assert.equal(e.execute([{ sql: 'SELECT 1' }]).commit, undefined, 'a read-only transaction is not logged');
  });

  it('refuses what cannot be replicated', () => {
    const { e } = engine('row');
    assert.throws(() => e.execute([{ sql: 'BEGIN' }]), { code: 'HASTACK_DB_FORBIDDEN_STATEMENT' });
    assert.throws(() => e.execute([{ sql: 'SELECT 1; SELECT 2' }]), {
      code: 'HASTACK_DB_MULTIPLE_STATEMENTS',
    });
    assert.throws(() => e.execute([{ sql: `DELETE FROM ${STATE_TABLE}` }]), {
      code: 'HASTACK_DB_FORBIDDEN_STATEMENT',
    });
    assert.throws(() => e.execute([{ sql: 'SELEC 1' }]), { code: 'HASTACK_DB_SQL' });
    assert.throws(() => e.execute([{ sql: '  -- nothing' }]), { code: 'HASTACK_DB_BAD_REQUEST' });
    assert.throws(() => e.execute([]), { code: 'HASTACK_DB_BAD_REQUEST' });
  });

  it('stops with a clear error when a row event does not match the replica', () => {
    const { d, e, groups } = engine('row');
    e.execute([{ sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v)' }]);
    e.execute([{ sql: 'INSERT INTO t VALUES (1, 1)' }]);
    e.execute([{ sql: 'UPDATE t SET v = 2 WHERE id = 1' }]);
    const g = groups();
    const rep = replicaDb(d);
    rep.applier.apply(g[0]!, undefined);
    assert.throws(() => rep.applier.apply(g[2]!, undefined), {
      code: 'HASTACK_DB_APPLY_ROWS',
      message: /Rows event at \d+ on table t: can't find the row to change/,
    });
    assert.equal(readState(rep.db).gtidExecuted, `${UUID}:1`, 'the failed transaction left no trace');
    const bare = new DatabaseSync(':memory:');
    ensureStateTable(bare);
    const a = new Applier(bare, new GtidSet(), readState(bare));
    assert.throws(() => a.apply(g[1]!, undefined), { message: /table t, which does not exist/ });
  });
});
