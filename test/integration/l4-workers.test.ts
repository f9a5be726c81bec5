import assert from 'node:assert/strict';
import type net from 'node:net';
import { describe, it } from 'node:test';
import { realServer, vsConfig } from '../unit/l4/fixtures.ts';
import {
  answeredBy,
  type Backend,
  cleanupsAfterEach,
  closed,
  connect,
  eventually,
  ManualHealth,
  request,
  startBackend,
  startVirtualServer,
} from './l4-helpers.ts';

const cleanups = cleanupsAfterEach();

/** A backend that echoes and holds connections open. */
async function holder(name: string): Promise<Backend> {
  const b = await startBackend(name, (socket) => {
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => socket.end(`[${name}]`));
  });
  cleanups.push(() => b.close());
  return b;
}

describe('L4 TCP with worker threads', () => {
  it('accepts in both threads and balances on global connection counts', async () => {
    const a = await holder('A');
    const b = await holder('B');
    const health = new ManualHealth();
    const vs = startVirtualServer(
      vsConfig({
        scheduler: 'lc',
        workers: 2,
        realServers: [realServer('127.0.0.1', a.port), realServer('127.0.0.1', b.port)],
      }),
      health,
    );
    await vs.start();
    cleanups.push(() => vs.stop(0));
    const port = vs.address().port;
    assert.ok(port > 0);

    const clients: net.Socket[] = [];
    // One at a time, so each pick sees the previous connection counted (no race between threads).
    for (let i = 0; i < 24; i++) {
      const c = await connect(port);
      cleanups.push(() => c.destroy());
      clients.push(c);
      await eventually(() => a.sockets.size + b.sockets.size === i + 1, 'backend got the connection');
      await eventually(() => vs.snapshot().connections.active === i + 1, 'counted as active');
    }
    const snap = vs.snapshot();
    assert.equal(snap.workers, 2);
    assert.equal(snap.workerConns?.length, 2);
    assert.ok(
      snap.workerConns!.every((n) => n > 0),
      `both threads accepted: ${snap.workerConns}`,
    );
    assert.equal(snap.workerConns![0]! + snap.workerConns![1]!, 24);
    // lc over global counters: whichever thread accepted, the servers stay even.
    assert.deepEqual([a.sockets.size, b.sockets.size], [12, 12]);
    assert.deepEqual(
      snap.realServers.map((r) => r.activeConns),
      [12, 12],
    );
    assert.equal(snap.stats.conns, 24);

    for (const c of clients) {
      const done = closed(c);
      c.end();
      await done;
    }
    await eventually(() => {
      const s = vs.snapshot();
      return s.connections.active + s.connections.inactive === 0;
    }, 'all connections released');
    assert.ok(vs.snapshot().stats.outBytes > 0, 'stats from the workers reach the main thread');
  });

  it('sends health changes to the workers and stops them cleanly', async () => {
    const a = await holder('A');
    const b = await holder('B');
    const health = new ManualHealth();
    const vs = startVirtualServer(
      vsConfig({
        scheduler: 'rr',
        workers: 2,
        realServers: [realServer('127.0.0.1', a.port), realServer('127.0.0.1', b.port)],
      }),
      health,
    );
    await vs.start();
    const port = vs.address().port;
    health.set(`web/127.0.0.1:${a.port}`, false);
    // The state message reaches the workers asynchronously.
    await eventually(() => vs.snapshot().realServers[0]!.inTable === false, 'A left the table');
    const replies: string[] = [];
    for (let i = 0; i < 12; i++) replies.push(answeredBy(await request(port)));
    // A message may still be in flight for the first request or two; after that only B answers.
    assert.ok(
      replies.slice(4).every((r) => r === 'B'),
      replies.join(),
    );
    const open = await connect(port);
    const cut = closed(open);
    await vs.stop(100);
    await cut;
    await assert.rejects(connect(port));
  });

  it('changes the worker count on reload without dropping connections', async () => {
    const a = await holder('A');
    const health = new ManualHealth();
    const config = vsConfig({ workers: 1, realServers: [realServer('127.0.0.1', a.port)] });
    const vs = startVirtualServer(config, health);
    await vs.start();
    cleanups.push(() => vs.stop(0));
    const port = vs.address().port;
    const long = await connect(port);
    cleanups.push(() => long.destroy());
    await vs.update({ ...config, workers: 2 });
    assert.equal(vs.address().port, port, 'same port');
    assert.equal(answeredBy(await request(port)), 'A');
    const echoed = new Promise<string>((resolve) => long.once('data', (d) => resolve(d.toString())));
    long.write('still');
    assert.equal(await echoed, 'still');
    assert.equal(vs.snapshot().workers, 2);
  });
});
