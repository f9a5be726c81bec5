import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DatabaseService } from '../../src/db/db-service.ts';
import type { ServerTarget } from '../../src/db/http-client.ts';
import {
  CuttableProxy,
  checksum,
  execute,
  freePort,
  startInProcess,
  tempDir,
  waitCaughtUp,
  waitFor,
} from './db-helpers.ts';

/*
 * A silent network partition between replica and source (a proxy that keeps the
 * connection but drops every byte): the replica notices through its net_timeout
 * (the source's heartbeats stop), keeps reconnecting with backoff, and catches up
 * once the network is back.
 */
describe('database: network cut between replica and source', () => {
  const tmp = tempDir('db-net');
  let source: DatabaseService;
  let replica: DatabaseService;
  let proxy: CuttableProxy;
  let s: ServerTarget;
  let r: ServerTarget;

  before(async () => {
    const [l1, h1, l2, h2] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    source = await startInProcess(tmp.dir, [
      {
        name: 's',
        server_id: 1,
        role: 'source',
        data_dir: `${tmp.dir}/s`,
        listen: `127.0.0.1:${l1}`,
        http: `127.0.0.1:${h1}`,
        heartbeat: '100ms',
      },
    ]);
    proxy = new CuttableProxy(l1);
    await proxy.start();
    replica = await startInProcess(tmp.dir, [
      {
        name: 'r',
        server_id: 2,
        role: 'replica',
        data_dir: `${tmp.dir}/r`,
        listen: `127.0.0.1:${l2}`,
        http: `127.0.0.1:${h2}`,
        source: `127.0.0.1:${proxy.port}`,
        heartbeat: '100ms',
        net_timeout: '500ms',
        reconnect: { min: '50ms', max: '200ms' },
      },
    ]);
    s = { name: 's', url: source.httpUrl('s')! };
    r = { name: 'r', url: replica.httpUrl('r')! };
  });

  after(async () => {
    await replica?.stop(0);
    await proxy?.stop();
    await source?.stop(0);
    tmp.cleanup();
  });

  it('reconnects with backoff and catches up after the cut', async () => {
    await execute(s, ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)']);
    for (let i = 1; i <= 20; i++) await execute(s, [['INSERT INTO t VALUES (?, ?)', i, 'before']]);
    await waitCaughtUp(s, r);

    proxy.blackhole();
    for (let i = 21; i <= 120; i++) await execute(s, [['INSERT INTO t VALUES (?, ?)', i, 'during']]);
    const cut = await waitFor('the replica to notice the cut', () => {
      const st = replica.snapshot().servers[0]!.replica!;
      return st.lastIoError !== undefined && st.ioReconnects > 0 ? st : undefined;
    });
    assert.match(cut.lastIoError!.message, /no data from the source|timed out|closed/);
    assert.notEqual(
      cut.executedGtidSet,
      source.snapshot().servers[0]!.executedGtidSet,
      'the replica is behind',
    );

    proxy.restore();
    await waitCaughtUp(s, r, 20_000);
    const st = replica.snapshot().servers[0]!.replica!;
    assert.equal(st.ioRunning, 'Yes');
    assert.equal(st.lastIoError, undefined, 'a successful connection clears the I/O error');
    assert.equal(await checksum(r), await checksum(s));
  });
});
