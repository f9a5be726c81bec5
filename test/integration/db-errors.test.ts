import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import type { DatabaseService } from '../../src/db/db-service.ts';
import type { ServerTarget } from '../../src/db/http-client.ts';
import { formatReplica } from '../../src/db/status-format.ts';
import type { ReplicaStatus } from '../../src/db/status-types.ts';
import {
  CuttableProxy,
  execute,
  freePort,
  queryRows,
  startInProcess,
  tempDir,
  waitCaughtUp,
  waitFor,
} from './db-helpers.ts';

/*
 * Bad input ends in a clear error in SHOW REPLICA STATUS, and the SQL thread
 * stops rather than apply garbage: a corrupt event (checksum mismatch) in the
 * relay log or in the source's binary log, a truncated relay log, a duplicate
 * server_id, and a replica pointed at the wrong source.
 */

interface Cluster {
  source: DatabaseService;
  replicas: DatabaseService[];
  s: ServerTarget;
  cleanup: () => Promise<void>;
}

const tmp = tempDir('db-errors');
let cleanups: (() => Promise<void>)[] = [];

async function serverConfig(name: string, id: number, extra: Record<string, unknown> = {}) {
  return {
    name,
    server_id: id,
    role: 'replica' as const,
    data_dir: join(tmp.dir, `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}`),
    listen: `127.0.0.1:${await freePort()}`,
    http: `127.0.0.1:${await freePort()}`,
    reconnect: { min: '20ms', max: '200ms' },
    ...extra,
  };
}

async function cluster(replicaIds: number[]): Promise<Cluster> {
  const src = await serverConfig('s', 1, { role: 'source' });
  const source = await startInProcess(tmp.dir, [src]);
  const replicas: DatabaseService[] = [];
  for (const id of replicaIds)
    replicas.push(await startInProcess(tmp.dir, [await serverConfig(`r${id}`, id, { source: src.listen })]));
  const c = {
    source,
    replicas,
    s: { name: 's', url: source.httpUrl('s')! },
    cleanup: async () => {
      for (const r of replicas) await r.stop(0);
      await source.stop(0);
    },
  };
  cleanups.push(c.cleanup);
  return c;
}

function replicaStatus(svc: DatabaseService): ReplicaStatus {
  return svc.snapshot().servers[0]!.replica!;
}

function target(svc: DatabaseService): ServerTarget {
  const name = svc.servers()[0]!.name;
  return { name, url: svc.httpUrl(name)! };
}

/** Offset of the first Rows/Query event at or after `from` in a relay or binary log file. */
function firstDataEvent(file: string, from: number): number {
  const buf = readFileSync(file);
  let at = from;
  while (at + 19 <= buf.length) {
    const type = buf[at + 4]!;
    if (type === 190 || type === 2) return at;
    const len = buf.readUInt32LE(at + 9);
    if (len === 0) break; // zeros written ahead of the data
    at += len;
  }
  throw new Error(`no data event in ${file} after ${from}`);
}

function flipByte(file: string, at: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

describe('database: bad input gives clear errors', () => {
  afterEach(async () => {
    for (const c of cleanups) await c();
    cleanups = [];
  });
  after(() => tmp.cleanup());

  it('a corrupt relay log event stops the SQL thread with a checksum error', async () => {
    const c = await cluster([2]);
    const rep = c.replicas[0]!;
    const server = rep.servers()[0]!;
    await execute(c.s, ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)', "INSERT INTO t VALUES (1, 'a')"]);
    await waitCaughtUp(c.s, target(rep));
    await server.replicaStop('sql');
    const relayFile = join(server.dataDir, 'relay', replicaStatus(rep).relayLogFile);
    const appliedAt = replicaStatus(rep).relayLogPos;
    for (let i = 2; i <= 4; i++) await execute(c.s, [['INSERT INTO t VALUES (?, ?)', i, 'b']]);
    await waitFor('the relay log to hold 3 transactions', () =>
      replicaStatus(rep).retrievedGtidSet.endsWith(':1-4') ? true : undefined,
    );
    flipByte(relayFile, firstDataEvent(relayFile, appliedAt) + 25);
    await server.replicaStart('sql');
    const st = await waitFor('the SQL thread to stop', () => {
      const x = replicaStatus(rep);
      return x.lastSqlError !== undefined ? x : undefined;
    });
    assert.equal(st.sqlRunning, 'No');
    assert.equal(st.lastSqlError!.code, 'HASTACK_DB_EVENT_CHECKSUM');
    assert.equal(st.lastSqlError!.errno, 1594);
    assert.match(
      st.lastSqlError!.message,
      /relay log read failure: event checksum mismatch in relay log relay-bin\.\d+ at position \d+/,
    );
    assert.deepEqual(
      await queryRows(target(rep), 'SELECT count(*) FROM t'),
      [[1]],
      'nothing after the corruption was applied',
    );
    assert.match(
      formatReplica(st),
      /Replica_SQL_Running: No[\s\S]*Last_SQL_Errno: 1594[\s\S]*Last_SQL_Error: relay log read failure: event checksum mismatch/,
    );
  });

  it('a truncated relay log stops the SQL thread', async () => {
    const c = await cluster([2]);
    const rep = c.replicas[0]!;
    const server = rep.servers()[0]!;
    await execute(c.s, ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)']);
    await waitCaughtUp(c.s, target(rep));
    await server.replicaStop('sql');
    const relayFile = join(server.dataDir, 'relay', replicaStatus(rep).relayLogFile);
    const appliedAt = replicaStatus(rep).relayLogPos;
    for (let i = 1; i <= 5; i++) await execute(c.s, [['INSERT INTO t VALUES (?, ?)', i, 'x'.repeat(100)]]);
    await waitFor('relay log to hold the writes', () =>
      replicaStatus(rep).retrievedGtidSet.endsWith(':1-6') ? true : undefined,
    );
    await server.replicaStop('io');
    truncateSync(relayFile, firstDataEvent(relayFile, appliedAt) + 10);
    // The SQL thread alone: a starting I/O thread closes the old segment at the size it wrote,
    // which would put the cut bytes back as zeros (a checksum error instead of a truncation).
    await server.replicaStart('sql');
    const st = await waitFor('the SQL thread to stop', () => {
      const x = replicaStatus(rep);
      return x.lastSqlError !== undefined ? x : undefined;
    });
    assert.equal(st.sqlRunning, 'No');
    assert.equal(st.lastSqlError!.code, 'HASTACK_DB_RELAY_LOG_TRUNCATED');
    assert.match(st.lastSqlError!.message, /relay log read failure: relay-bin\.\d+ is truncated/);
    assert.deepEqual(await queryRows(target(rep), 'SELECT count(*) FROM t'), [[0]]);
  });

  it('a corrupt event in the source binary log stops the replica I/O thread', async () => {
    const c = await cluster([]);
    const srv = c.source.servers()[0]!;
    await execute(c.s, ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)', "INSERT INTO t VALUES (1, 'a')"]);
    const st0 = c.source.snapshot().servers[0]!.source!;
    const file = join(srv.dataDir, 'binlog', st0.file);
    flipByte(file, firstDataEvent(file, 4) + 22);
    const rep = await startInProcess(tmp.dir, [
      await serverConfig('r9', 9, { source: `127.0.0.1:${srv.replicationAddress().port}` }),
    ]);
    cleanups.push(() => rep.stop(0));
    const st = await waitFor('the I/O thread to stop', () => {
      const x = replicaStatus(rep);
      return x.ioRunning === 'No' && x.lastIoError !== undefined ? x : undefined;
    });
    assert.equal(st.lastIoError!.code, 'HASTACK_DB_SOURCE_LOG_CORRUPT');
    assert.match(
      st.lastIoError!.message,
      /fatal error from source .*event checksum mismatch in binary log binlog\.000001/,
    );
    assert.equal(st.executedGtidSet, '', 'nothing was applied');
  });

  it('refuses a duplicate server_id, on the replica and against the source', async () => {
    const c = await cluster([2]);
    await waitFor('r2 to connect', () =>
      replicaStatus(c.replicas[0]!).ioRunning === 'Yes' ? true : undefined,
    );
    const port = c.source.servers()[0]!.replicationAddress().port;
    const twin = await startInProcess(tmp.dir, [
      await serverConfig('twin', 2, { source: `127.0.0.1:${port}` }),
    ]);
    const same = await startInProcess(tmp.dir, [
      await serverConfig('same', 1, { source: `127.0.0.1:${port}` }),
    ]);
    cleanups.push(async () => {
      await twin.stop(0);
      await same.stop(0);
    });
    for (const [svc, pattern] of [
      [twin, /another replica .* is already connected with server_id 2/],
      [same, /replica and source have the same server_id 1/],
    ] as const) {
      const st = await waitFor('the I/O thread to stop', () => {
        const x = replicaStatus(svc);
        return x.ioRunning === 'No' && x.lastIoError !== undefined ? x : undefined;
      });
      assert.equal(st.lastIoError!.code, 'HASTACK_DB_DUPLICATE_SERVER_ID');
      assert.match(st.lastIoError!.message, pattern);
    }
    assert.equal(replicaStatus(c.replicas[0]!).ioRunning, 'Yes', 'the first replica keeps replicating');
  });

  it('refuses to follow the wrong source', async () => {
    const c = await cluster([]);
    const other = await cluster([]);
    const proxy = new CuttableProxy(c.source.servers()[0]!.replicationAddress().port);
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const rep = await startInProcess(tmp.dir, [
      await serverConfig('r5', 5, { source: `127.0.0.1:${proxy.port}` }),
    ]);
    cleanups.push(() => rep.stop(0));
    await execute(c.s, ['CREATE TABLE t (id INTEGER PRIMARY KEY)']);
    await waitCaughtUp(c.s, target(rep));
    // The address now reaches another, unrelated source.
    proxy.retarget(other.source.servers()[0]!.replicationAddress().port);
    const st = await waitFor('the I/O thread to stop', () => {
      const x = replicaStatus(rep);
      return x.ioRunning === 'No' && x.lastIoError !== undefined ? x : undefined;
    });
    assert.equal(st.lastIoError!.code, 'HASTACK_DB_WRONG_SOURCE');
    assert.match(
      st.lastIoError!.message,
      /wrong source: this replica follows server UUID [0-9a-f-]+ but s is/,
    );
  });
});
