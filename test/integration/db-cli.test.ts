import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DbClient } from '../../src/db/client.ts';
import type { DatabaseService } from '../../src/db/db-service.ts';
import { cli } from '../helpers/run-cli.ts';
import { execute, freePort, startInProcess, tempDir, waitCaughtUp, waitFor } from './db-helpers.ts';

/* `hastack db ...` against running servers, and the routing client. */

describe('hastack db', () => {
  const tmp = tempDir('db-cli');
  let svc: DatabaseService;
  let servers: string[];

  before(async () => {
    const p = await Promise.all(Array.from({ length: 6 }, freePort));
    const server = (name: string, id: number, i: number) => ({
      name,
      server_id: id,
      role: (i === 0 ? 'source' : 'replica') as 'source' | 'replica',
      data_dir: join(tmp.dir, name),
      listen: `127.0.0.1:${p[i * 2]}`,
      http: `127.0.0.1:${p[i * 2 + 1]}`,
      reconnect: { min: '20ms', max: '200ms' },
      ...(i > 0 && { source: `127.0.0.1:${p[0]}` }),
    });
    svc = await startInProcess(tmp.dir, [server('db1', 1, 0), server('db2', 2, 1), server('db3', 3, 2)]);
    servers = ['db1', 'db2', 'db3'].flatMap((n) => ['--server', `${n}=${svc.httpUrl(n)}`]);
    await execute({ name: 'db1', url: svc.httpUrl('db1')! }, [
      'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)',
      "INSERT INTO t VALUES (1, 'one')",
    ]);
    for (const n of ['db2', 'db3'])
      await waitCaughtUp({ name: 'db1', url: svc.httpUrl('db1')! }, { name: n, url: svc.httpUrl(n)! });
  });

  after(async () => {
    await svc?.stop(0);
    tmp.cleanup();
  });

  it('status shows SHOW MASTER STATUS and SHOW REPLICA STATUS', async () => {
    const r = await cli(['db', 'status', ...servers]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /database server db1: SOURCE/);
    assert.match(
      r.stdout,
      /SHOW MASTER STATUS\n\s+File\s+Position\s+Binlog_Format\s+Executed_Gtid_Set\n\s+binlog\.000001/,
    );
    assert.match(r.stdout, /SHOW REPLICAS[\s\S]*db2[\s\S]*db3/);
    assert.match(
      r.stdout,
      /database server db2: REPLICA \(read-only\)[\s\S]*Replica_IO_Running: Yes\n\s+Replica_SQL_Running: Yes/,
    );
    const json = JSON.parse((await cli(['db', 'status', 'db2', '--json', ...servers])).stdout);
    assert.equal(json[0].replica.sqlRunning, 'Yes');
  });

  it('replica stop, reset and start', async () => {
    assert.equal(
      (await cli(['db', 'replica', 'reset', 'db3', ...servers])).code,
      1,
      'reset needs stopped threads',
    );
    assert.equal((await cli(['db', 'replica', 'stop', 'db3', ...servers])).code, 0);
    const stopped = (await cli(['db', 'status', 'db3', ...servers])).stdout;
    assert.match(stopped, /Replica_IO_Running: No\n\s+Replica_SQL_Running: No/);
    assert.match(stopped, /Seconds_Behind_Source: NULL/);
    assert.equal((await cli(['db', 'replica', 'reset', 'db3', ...servers])).code, 0);
    assert.equal((await cli(['db', 'replica', 'start', 'db3', ...servers])).code, 0);
    await execute({ name: 'db1', url: svc.httpUrl('db1')! }, ["INSERT INTO t VALUES (2, 'two')"]);
    await waitCaughtUp({ name: 'db1', url: svc.httpUrl('db1')! }, { name: 'db3', url: svc.httpUrl('db3')! });
  });

  it('binlog dump prints events like mysqlbinlog', async () => {
    const dir = join(tmp.dir, 'db1', 'binlog');
    const file = readdirSync(dir).find((f) => /^binlog\.\d+$/.test(f))!;
    const r = await cli(['db', 'binlog', 'dump', '-v', join(dir, file)]);
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      /# at 4\n#\d{6} \d\d:\d\d:\d\d server id 1 {2}end_log_pos \d+ CRC32 0x[0-9a-f]{8} \tStart: binlog v 4/,
    );
    assert.match(r.stdout, /SET @@SESSION\.GTID_NEXT= '[0-9a-f-]+:1'/);
    assert.match(r.stdout, /CREATE TABLE t \(id INTEGER PRIMARY KEY, v TEXT\)/);
    assert.match(r.stdout, /### INSERT INTO `t`\n### SET\n### {3}@1=1\n### {3}@2='one'/);
    const missing = await cli(['db', 'binlog', 'dump', join(dir, 'nope')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read/);
  });

  it('sql and checksum, and the client routes reads to replicas', async () => {
    const w = await cli(['db', 'sql', "INSERT INTO t VALUES (3, 'three')", '--write', ...servers]);
    assert.equal(w.code, 0, w.stderr);
    const client = new DbClient({
      servers: ['db1', 'db2', 'db3'].map((n) => ({ name: n, url: svc.httpUrl(n)! })),
      consistency: 'read-your-writes',
    });
    const found = await client.discover();
    assert.deepEqual(found, { source: 'db1', replicas: ['db2', 'db3'] });
    await client.execute({ sql: 'INSERT INTO t VALUES (?, ?)', params: [4, 'four'] });
    const rows = await client.query('SELECT v FROM t WHERE id = 4');
    assert.deepEqual(rows[0]!.rows, [['four']], 'read your writes on a replica');
    await waitFor('checksums to match', async () =>
      (await cli(['db', 'checksum', ...servers])).code === 0 ? true : undefined,
    );
    const reject = await cli([
      'db',
      'sql',
      'DELETE FROM t',
      '--write',
      '--server',
      `db2=${svc.httpUrl('db2')}`,
    ]);
    // Given only a replica, the client finds no source and sends nothing (the replica's own
    // HASTACK_DB_READ_ONLY answer is tested in db-replication-modes.test.ts).
    assert.equal(reject.code, 1);
    assert.match(reject.stderr, /no server of the cluster is a source/);
    const count = await cli(['db', 'sql', 'SELECT count(*) FROM t', '--server', `db2=${svc.httpUrl('db2')}`]);
    assert.equal(count.code, 0, count.stderr);
    assert.match(count.stdout, /^4$/m, 'the replica still has every row');
  });

  it('promote NAME switches over and re-points the others', async () => {
    const r = await cli(['db', 'promote', 'db2', ...servers]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /switchover: db1 becomes read-only/);
    assert.match(r.stdout, /new source: db2 .*re-pointed: db1, db3/);
    const client = new DbClient({
      servers: ['db1', 'db2', 'db3'].map((n) => ({ name: n, url: svc.httpUrl(n)! })),
    });
    await client.execute("INSERT INTO t VALUES (5, 'after')");
    for (const n of ['db1', 'db3'])
      await waitCaughtUp({ name: 'db2', url: svc.httpUrl('db2')! }, { name: n, url: svc.httpUrl(n)! });
    assert.equal((await cli(['db', 'checksum', ...servers])).code, 0);
    const st = (await cli(['db', 'status', 'db1', ...servers])).stdout;
    assert.match(st, /database server db1: REPLICA/);
  });
});
