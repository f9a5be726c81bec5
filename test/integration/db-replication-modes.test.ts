import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatBinlogDump } from '../../src/db/binlog-dump.ts';
import type { RawDatabaseConfig } from '../../src/db/config-schema.ts';
import type { DatabaseService } from '../../src/db/db-service.ts';
import { GtidSet } from '../../src/db/gtid-set.ts';
import { dbRequest, type ServerTarget } from '../../src/db/http-client.ts';
import { readIndex } from '../../src/db/log-index.ts';
import { RELAY_BASENAME } from '../../src/db/log-names.ts';
import type { DbServerSnapshot } from '../../src/db/status-types.ts';
import {
  checksum,
  execute,
  freePort,
  queryRows,
  serverConfig,
  startInProcess,
  tempDir,
  waitCaughtUp,
  waitFor,
} from './db-helpers.ts';

/*
 * A STATEMENT source and a replica that replicates by file and offset
 * (auto_position: false) with small relay segments: the replica refuses writes,
 * per-session binlog_format, relay segments purged once applied, and resuming
 * from the saved coordinates after a restart.
 */

const tmp = tempDir('db-modes');
let servers: RawDatabaseConfig['servers'];
let svc: DatabaseService | undefined;
let db1: ServerTarget;
let db2: ServerTarget;

function targets(): void {
  db1 = { name: 'db1', url: svc!.httpUrl('db1')! };
  db2 = { name: 'db2', url: svc!.httpUrl('db2')! };
}

function status(t: ServerTarget): Promise<DbServerSnapshot> {
  return dbRequest<DbServerSnapshot>(t, 'GET', '/db/status');
}

before(async () => {
  const p1 = { listen: await freePort(), http: await freePort() };
  const p2 = { listen: await freePort(), http: await freePort() };
  servers = [
    serverConfig(tmp.dir, { name: 'db1', serverId: 1, role: 'source', format: 'statement' }, p1),
    serverConfig(
      tmp.dir,
      {
        name: 'db2',
        serverId: 2,
        role: 'replica',
        sourcePort: p1.listen,
        format: 'statement',
        extra: { auto_position: false, relay_log: { max_size: '4kb', purge: true } },
      },
      p2,
    ),
  ];
  svc = await startInProcess(tmp.dir, servers);
  targets();
  await execute(db1, ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)']);
  await waitCaughtUp(db1, db2);
});

after(async () => {
  await svc?.stop(0);
  tmp.cleanup();
});

/** The text dump of one of db1's binary log segments. */
function dumpBinlog(file: string): string {
  const buf = readFileSync(join(tmp.dir, 'db1', 'binlog', file));
  return formatBinlogDump(buf, file, { verbose: true });
}

async function rotate(t: ServerTarget): Promise<string> {
  return (await dbRequest<{ file: string }>(t, 'POST', '/db/binlog/rotate', {})).file;
}

describe('database: replica refuses writes', () => {
  it('answers 409 HASTACK_DB_READ_ONLY to a write sent straight to a replica, and changes nothing', async () => {
    await execute(db1, [['INSERT INTO t VALUES (?, ?)', 1, 'one']]);
    await waitCaughtUp(db1, db2);
    const before = await checksum(db2);
    const res = await fetch(`${db2.url}/db/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ statements: ["INSERT INTO t VALUES (2, 'two')", 'DELETE FROM t WHERE id = 1'] }),
    });
    assert.equal(res.status, 409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'HASTACK_DB_READ_ONLY');
    assert.match(body.error.message, /db2 is a read-only replica/);
    assert.deepEqual(await queryRows(db2, 'SELECT id, v FROM t ORDER BY id'), [[1, 'one']]);
    assert.equal(await checksum(db2), before);
    assert.equal((await status(db2)).readOnly, true);
  });
});

describe('database: per-session binlog_format', () => {
  it('logs a Rows event for a ROW session on a STATEMENT server', async () => {
    assert.equal((await status(db1)).binlogFormat, 'STATEMENT');
    const file = await rotate(db1);
    await execute(db1, [['INSERT INTO t VALUES (?, ?)', 10, 'row-session']], { binlog_format: 'row' });
    const dump = dumpBinlog(file);
    assert.match(dump, /\tRows: 1 row change\(s\) in t /);
    assert.match(dump, /### INSERT INTO `t`\n### SET\n### {3}@1=10\n### {3}@2='row-session'/);
    assert.doesNotMatch(dump, /^INSERT INTO t VALUES/m, 'no statement logged');

    const next = await rotate(db1);
    await execute(db1, [['INSERT INTO t VALUES (?, ?)', 11, 'server-default']]);
    const plain = dumpBinlog(next);
    assert.match(plain, /\tQuery\n INSERT INTO t VALUES \(\?, \?\)|\tQuery\nINSERT INTO t VALUES \(\?, \?\)/);
    assert.doesNotMatch(plain, /\tRows:/, 'the server default (STATEMENT) logs the statement');
    await waitCaughtUp(db1, db2);
    assert.deepEqual(await queryRows(db2, 'SELECT v FROM t WHERE id >= 10 ORDER BY id'), [
      ['row-session'],
      ['server-default'],
    ]);
  });

  it('logs a Query event for a STATEMENT session on a ROW server', async () => {
    await dbRequest(db1, 'POST', '/db/format', { format: 'row' });
    try {
      assert.equal((await status(db1)).binlogFormat, 'ROW');
      const file = await rotate(db1);
      await execute(db1, [['INSERT INTO t VALUES (?, ?)', 20, 'statement-session']], {
        binlog_format: 'statement',
      });
      const dump = dumpBinlog(file);
      assert.match(dump, /\tQuery\n\s*INSERT INTO t VALUES \(\?, \?\)/);
      assert.doesNotMatch(dump, /\tRows:/);

      const next = await rotate(db1);
      await execute(db1, [['INSERT INTO t VALUES (?, ?)', 21, 'server-row']]);
      const rows = dumpBinlog(next);
      assert.match(rows, /\tRows: 1 row change\(s\) in t /);
      assert.doesNotMatch(rows, /^\s*INSERT INTO t VALUES/m);
      await waitCaughtUp(db1, db2);
      assert.equal(await checksum(db2), await checksum(db1));
    } finally {
      await dbRequest(db1, 'POST', '/db/format', { format: 'statement' });
    }
  });
});

function relaySegmentsOnDisk(): string[] {
  return readdirSync(join(tmp.dir, 'db2', 'relay'))
    .filter((n) => n.startsWith(`${RELAY_BASENAME}.`) && !n.endsWith('.index'))
    .sort();
}

describe('database: relay log purge', () => {
  it('keeps unapplied relay segments and removes them once applied', async () => {
    await dbRequest(db2, 'POST', '/db/replica/stop', { thread: 'sql' });
    const payload = 'x'.repeat(1500);
    const had = GtidSet.parse((await status(db1)).executedGtidSet);
    for (let i = 0; i < 12; i++) await execute(db1, [['INSERT INTO t VALUES (?, ?)', 100 + i, payload]]);
    const sent = GtidSet.parse((await status(db1)).executedGtidSet).subtract(had);
    // Received (Retrieved_Gtid_Set) but not applied: the SQL thread is stopped.
    await waitFor('db2 to receive the 12 transactions', async () =>
      sent.isSubsetOf(GtidSet.parse((await status(db2)).replica!.retrievedGtidSet)) ? true : undefined,
    );
    assert.equal((await status(db2)).replica!.sqlRunning, 'No');
    const waiting = relaySegmentsOnDisk();
    assert.ok(waiting.length >= 4, `the 4 KB relay log rotated (${waiting.join(', ')})`);
    assert.deepEqual(readIndex(join(tmp.dir, 'db2', 'relay'), RELAY_BASENAME), waiting);
    assert.deepEqual(await queryRows(db2, 'SELECT count(*) FROM t WHERE id >= 100'), [[0]]);

    await dbRequest(db2, 'POST', '/db/replica/start', { thread: 'sql' });
    await waitCaughtUp(db1, db2);
    const active = waiting.at(-1)!;
    await waitFor('applied relay segments to be purged', () => {
      const left = relaySegmentsOnDisk();
      return left.length === 1 ? left : undefined;
    });
    assert.deepEqual(relaySegmentsOnDisk(), [active], 'only the segment being written is left');
    assert.deepEqual(readIndex(join(tmp.dir, 'db2', 'relay'), RELAY_BASENAME), [active]);
    assert.deepEqual(await queryRows(db2, 'SELECT count(*) FROM t WHERE id >= 100'), [[12]]);
  });
});

describe('database: replication by file and offset (auto_position: false)', () => {
  it('replicates by coordinates and resumes from the saved file/offset after a restart', async () => {
    const st = (await status(db2)).replica!;
    assert.equal(st.autoPosition, false);
    assert.equal(st.ioRunning, 'Yes');
    // Move the source to a new segment, replicate one transaction there, then purge everything before it:
    // a replica that asked from the start (or by GTID from scratch) could not be served.
    const file = await rotate(db1);
    await execute(db1, [['INSERT INTO t VALUES (?, ?)', 200, 'before-restart']]);
    await waitCaughtUp(db1, db2);
    const saved = (await status(db2)).replica!;
    assert.equal(saved.relaySourceLogFile, file);
    assert.equal(saved.sourceLogFile, file);
    const purged = await dbRequest<{ purged: string[] }>(db1, 'POST', '/db/binlog/purge', { to: file });
    assert.ok(purged.purged.length > 0);

    await svc!.stop(0);
    svc = undefined;
    svc = await startInProcess(tmp.dir, servers);
    targets();
    const resumed = await waitFor('db2 to reconnect', async () => {
      const r = (await status(db2)).replica!;
      return r.ioRunning === 'Yes' ? r : undefined;
    });
    assert.equal(resumed.lastIoError, undefined, 'the saved coordinates are still served');
    // The restarted source opened a new segment: the replica followed its Rotate from the saved coordinates.
    assert.ok(resumed.sourceLogFile >= file, `${resumed.sourceLogFile} is not before ${file}`);

    await execute(db1, [['INSERT INTO t VALUES (?, ?)', 201, 'after-restart']]);
    await waitCaughtUp(db1, db2);
    assert.deepEqual(await queryRows(db2, 'SELECT v FROM t WHERE id >= 200 ORDER BY id'), [
      ['before-restart'],
      ['after-restart'],
    ]);
    assert.equal(await checksum(db2), await checksum(db1));
    const end = (await status(db2)).replica!;
    assert.equal(end.autoPosition, false);
    assert.equal(end.execSourceLogPos, (await status(db1)).source!.position);
  });
});
