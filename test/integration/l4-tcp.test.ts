import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { describe, it } from 'node:test';
import type { VirtualServerConfig } from '../../src/config/model.ts';
import { HealthMonitor } from '../../src/health/health-monitor.ts';
import { realServer, tcpCheck, vsConfig } from '../unit/l4/fixtures.ts';
import {
  answeredBy,
  type Backend,
  cleanupsAfterEach,
  closed,
  closedPort,
  connect,
  eventually,
  ManualHealth,
  request,
  startBackend,
  startBackends,
  startService,
  startVirtualServer,
} from './l4-helpers.ts';

const cleanups = cleanupsAfterEach();
const backends = (...names: string[]) => startBackends(cleanups, ...names);
const service = (config: VirtualServerConfig, health?: ManualHealth) =>
  startService(cleanups, config, health);

function rsOf(list: Backend[], over: Parameters<typeof realServer>[2] = {}) {
  return list.map((b) => realServer('127.0.0.1', b.port, over));
}

function tally(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

describe('L4 TCP virtual server', () => {
  it('spreads connections round-robin over three echo backends', async () => {
    const bs = await backends('A', 'B', 'C');
    const { port, vs } = await service(vsConfig({ scheduler: 'rr', realServers: rsOf(bs) }));
    const replies: string[] = [];
    for (let i = 0; i < 9; i++) replies.push(answeredBy(await request(port, `req${i}`)));
    assert.deepEqual(tally(replies), { A: 3, B: 3, C: 3 });
    const snap = vs.snapshot();
    assert.equal(snap.stats.conns, 9);
    assert.deepEqual(
      snap.realServers.map((r) => r.stats.conns),
      [3, 3, 3],
    );
    assert.ok(snap.stats.inBytes > 0 && snap.stats.outBytes > 0);
    assert.ok(snap.realServers.every((r) => r.forward === 'Masq' && r.up && r.inTable));
  });

  it('half-close: the client ends its side and still receives the reply', async () => {
    const [a] = await backends('A');
    const { port } = await service(vsConfig({ realServers: rsOf([a!]) }));
    // The backend writes "[A]" only after it saw the client's FIN.
    assert.equal(await request(port, 'hello'), 'hello[A]');
    // A FIN with no data, sent before the proxy has connected upstream, is passed on too.
    assert.equal(await request(port, ''), '[A]');
  });

  it('keeps what the client sent while the first server refused, and the FIN after it', async () => {
    const dead = await closedPort();
    const [b] = await backends('B');
    const { port } = await service(
      vsConfig({ scheduler: 'rr', realServers: [realServer('127.0.0.1', dead), ...rsOf([b!])] }),
    );
    for (let i = 0; i < 4; i++) {
      const payload = `early-${i}-${'x'.repeat(i * 5000)}`;
      assert.equal(await request(port, payload), `${payload}[B]`);
      assert.equal(await request(port, ''), '[B]');
    }
  });

  it('applies backpressure: a slow reader keeps the proxy from buffering a large transfer', async () => {
    const TOTAL = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let written = 0;
    const [big] = [
      await startBackend('big', (socket) => {
        const pump = () => {
          while (written < TOTAL) {
            written += chunk.length;
            if (!socket.write(chunk)) {
              socket.once('drain', pump);
              return;
            }
          }
          socket.end();
        };
        pump();
      }),
    ];
    cleanups.push(() => big!.close());
    const { port, vs } = await service(vsConfig({ realServers: rsOf([big!]) }));
    const client = await connect(port);
    cleanups.push(() => client.destroy());
    client.pause(); // the slow reader
    await eventually(() => vs.snapshot().backpressurePauses > 0, 'the proxy pausing its upstream');
    // Let buffers fill until the proxy stops reading from the backend.
    let last = -1;
    await eventually(() => {
      const now = vs.snapshot().stats.outBytes;
      const stable = now === last;
      last = now;
      return stable;
    }, 'the transfer to stall');
    const readByProxy = vs.snapshot().stats.outBytes;
    assert.ok(
      readByProxy < TOTAL / 2,
      `proxy read ${readByProxy} of ${TOTAL} bytes while the client was not reading`,
    );
    let received = 0;
    client.on('data', (d: Buffer) => {
      received += d.length;
    });
    const done = closed(client);
    client.resume();
    await done;
    assert.equal(received, TOTAL);
  });

  it('tries the next server when one refuses, and counts the failure', async () => {
    const dead = await closedPort();
    const bs = await backends('B', 'C');
    const { port, vs } = await service(
      vsConfig({ scheduler: 'rr', realServers: [realServer('127.0.0.1', dead), ...rsOf(bs)] }),
    );
    const replies: string[] = [];
    for (let i = 0; i < 6; i++) replies.push(answeredBy(await request(port)));
    assert.ok(
      replies.every((r) => r === 'B' || r === 'C'),
      replies.join(),
    );
    const snap = vs.snapshot();
    const deadRow = snap.realServers.find((r) => r.port === dead)!;
    assert.ok(deadRow.connectFailures >= 1);
    assert.equal(snap.connectFailures, deadRow.connectFailures);
    assert.equal(snap.connections.active + snap.connections.inactive, 0);
  });

  it('sends clients to the sorry server when every real server is down', async () => {
    const [a, sorry] = await backends('A', 'SORRY');
    const { port, vs, health } = await service(
      vsConfig({ realServers: rsOf([a!]), sorryServer: { host: '127.0.0.1', port: sorry!.port } }),
    );
    assert.equal(answeredBy(await request(port)), 'A');
    health.set(`web/127.0.0.1:${a!.port}`, false);
    assert.equal(answeredBy(await request(port)), 'SORRY');
    const snap = vs.snapshot();
    assert.equal(snap.sorryActive, true);
    assert.equal(snap.quorumUp, false);
    assert.equal(snap.sorryServer?.active, true);
    assert.equal(snap.sorryServer?.stats.conns, 1);
    health.set(`web/127.0.0.1:${a!.port}`, true);
    assert.equal(answeredBy(await request(port)), 'A');
  });

  it('closes the client connection when no server at all can take it', async () => {
    const [a] = await backends('A');
    const { port, vs, health } = await service(vsConfig({ realServers: rsOf([a!]) }));
    health.set(`web/127.0.0.1:${a!.port}`, false);
    const client = (await import('node:net')).connect({ port, host: '127.0.0.1' });
    const result = await closed(client);
    assert.equal(result.data, '');
    assert.equal(result.error, 'ECONNRESET', 'the client is reset, not left hanging');
    assert.equal(vs.snapshot().noDestination, 1);
    assert.equal(a!.accepted, 0);
  });

  it('persistence keeps a client on one server', async () => {
    const bs = await backends('A', 'B', 'C');
    const { port, vs } = await service(
      vsConfig({ scheduler: 'rr', persistenceTimeoutMs: 60_000, realServers: rsOf(bs) }),
    );
    const replies: string[] = [];
    for (let i = 0; i < 6; i++) replies.push(answeredBy(await request(port)));
    assert.equal(new Set(replies).size, 1, replies.join());
    assert.equal(vs.snapshot().persistenceTemplates, 1);
  });

  it('counts active and inactive connections as IPVS does, during and after', async () => {
    const holders = await Promise.all(
      ['A', 'B'].map((n) =>
        startBackend(n, (socket) => {
          socket.on('data', (d) => socket.write(d));
          // Hold the connection open after the client's FIN (half-open).
        }),
      ),
    );
    for (const h of holders) cleanups.push(() => h.close());
    const { port, vs } = await service(vsConfig({ realServers: rsOf(holders) }));
    const clients: net.Socket[] = [];
    for (let i = 0; i < 4; i++) clients.push(await connect(port));
    for (const c of clients) cleanups.push(() => c.destroy());
    await eventually(() => vs.snapshot().connections.active === 4, 'four established connections');
    assert.deepEqual(
      vs.snapshot().realServers.map((r) => [r.activeConns, r.inactiveConns]),
      [
        [2, 0],
        [2, 0],
      ],
    );
    clients[0]!.end(); // FIN from the client: the pair becomes inactive
    await eventually(() => vs.snapshot().connections.inactive === 1, 'one half-closed connection');
    assert.equal(vs.snapshot().connections.active, 3);
    for (const c of clients) c.destroy();
    // The three established pairs go at once; the half-closed one waits for the
    // server's side (IPVS keeps it in FIN_WAIT the same way), so close the servers.
    await eventually(() => vs.snapshot().connections.active === 0, 'established pairs gone');
    for (const h of holders) for (const s of h.sockets) s.end();
    await eventually(() => {
      const s = vs.snapshot();
      return s.connections.active === 0 && s.connections.inactive === 0;
    }, 'all connections gone');
    await eventually(() => holders.every((h) => h.sockets.size === 0), 'backend sockets closed');
  });

  it('closes idle connection pairs after idle_timeout', async () => {
    const [a] = await backends('A');
    const { port, vs } = await service(vsConfig({ idleTimeoutMs: 150, realServers: rsOf([a!]) }));
    const client = await connect(port);
    const result = await closed(client);
    assert.equal(result.data, '');
    await eventually(() => a!.sockets.size === 0, 'backend side closed too');
    await eventually(
      () => vs.snapshot().connections.inactive + vs.snapshot().connections.active === 0,
      'counters back to 0',
    );
  });

  it('survives garbage and abrupt resets from clients and backends without leaking', async () => {
    const [echo] = await backends('E');
    const resetter = await startBackend('R', (socket) => {
      socket.once('data', () => socket.resetAndDestroy());
    });
    cleanups.push(() => resetter.close());
    const { port, vs } = await service(vsConfig({ scheduler: 'rr', realServers: rsOf([echo!, resetter]) }));
    const rounds: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      rounds.push(
        (async () => {
          const s = await connect(port);
          s.on('error', () => {});
          s.write(randomBytes(1 + (i % 7) * 1000));
          if (i % 3 === 0) s.resetAndDestroy();
          else if (i % 3 === 1) s.destroy();
          else {
            s.end();
            await closed(s);
          }
        })(),
      );
    }
    await Promise.all(rounds);
    await eventually(() => {
      const snap = vs.snapshot();
      return snap.connections.active + snap.connections.inactive === 0;
    }, 'every pair released');
    await eventually(() => echo!.sockets.size === 0 && resetter.sockets.size === 0, 'backend sockets closed');
    // Still serving after all that (the resetting backend passes its reset on to the client).
    const results = await Promise.allSettled([request(port), request(port)]);
    const answered = results.flatMap((r) => (r.status === 'fulfilled' ? [answeredBy(r.value)] : []));
    assert.deepEqual(answered, ['E']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal(refused.reason.code, 'ECONNRESET');
  });

  it('reload keeps a long connection alive while servers are added, removed and reweighted', async () => {
    const [a, b, c] = await backends('A', 'B', 'C');
    const health = new ManualHealth();
    const config = vsConfig({ scheduler: 'wrr', realServers: rsOf([a!, b!]) });
    const { vs, port } = await service(config, health);
    const long = await connect(port); // rr/wrr: first connection goes to A
    cleanups.push(() => long.destroy());
    const echoed = (text: string) =>
      new Promise<string>((resolve) => {
        long.once('data', (d) => resolve(d.toString()));
        long.write(text);
      });
    assert.equal(await echoed('ping1'), 'ping1');
    await eventually(() => a!.sockets.size === 1, 'long connection on A');

    await vs.update(
      vsConfig({
        scheduler: 'wrr',
        realServers: [
          realServer('127.0.0.1', b!.port, { weight: 3 }),
          realServer('127.0.0.1', c!.port, { weight: 1 }),
        ],
      }),
    );
    assert.equal(await echoed('ping2'), 'ping2', 'the long connection survived the reload');
    const snap = vs.snapshot();
    const rowA = snap.realServers.find((r) => r.port === a!.port)!;
    assert.equal(rowA.removed, true);
    assert.equal(rowA.draining, true);
    assert.equal(rowA.activeConns, 1);
    assert.ok(health.removes.includes(`web/127.0.0.1:${a!.port}`));
    assert.ok(health.adds.includes(`web/127.0.0.1:${c!.port}`));
    const replies: string[] = [];
    for (let i = 0; i < 8; i++) replies.push(answeredBy(await request(port)));
    assert.deepEqual(tally(replies), { B: 6, C: 2 });

    long.end();
    await closed(long);
    await eventually(
      () => !vs.snapshot().realServers.some((r) => r.port === a!.port),
      'drained server removed from the table',
    );
  });

  it('admin drain and setWeight apply at once; unknown servers are refused', async () => {
    const [a, b] = await backends('A', 'B');
    const { vs, port } = await service(vsConfig({ realServers: rsOf([a!, b!]) }));
    vs.drain(`127.0.0.1:${a!.port}`);
    const replies: string[] = [];
    for (let i = 0; i < 4; i++) replies.push(answeredBy(await request(port)));
    assert.deepEqual(tally(replies), { B: 4 });
    vs.setWeight(`127.0.0.1:${a!.port}`, 1);
    const after = new Set<string>();
    for (let i = 0; i < 4; i++) after.add(answeredBy(await request(port)));
    assert.deepEqual([...after].sort(), ['A', 'B']);
    assert.throws(() => vs.setWeight('127.0.0.1:1', 1), { code: 'HASTACK_L4_UNKNOWN_REAL_SERVER' });
  });

  it('rebinds to a new listen address without dropping established connections', async () => {
    const [a] = await backends('A');
    const { vs, port } = await service(vsConfig({ realServers: rsOf([a!]) }));
    const long = await connect(port);
    cleanups.push(() => long.destroy());
    await vs.update(vsConfig({ port: 0, host: '127.0.0.2', realServers: rsOf([a!]) }));
    const moved = vs.address();
    assert.equal(moved.host, '127.0.0.2');
    const reply = new Promise<string>((resolve) => long.once('data', (d) => resolve(d.toString())));
    long.write('still here');
    assert.equal(await reply, 'still here');
    const client = await import('node:net').then(
      (net) =>
        new Promise<string>((resolve, reject) => {
          const s = net.connect({ host: moved.host, port: moved.port, allowHalfOpen: true });
          const chunks: Buffer[] = [];
          s.on('data', (d) => chunks.push(d));
          s.on('end', () => {
            s.end();
            resolve(Buffer.concat(chunks).toString());
          });
          s.on('error', reject);
          s.on('connect', () => s.end('x'));
        }),
    );
    assert.equal(client, 'x[A]');
  });

  it('follows the real health monitor: a backend that stops listening leaves the pool', async () => {
    const [a, b] = await backends('A', 'B');
    const monitor = new HealthMonitor();
    cleanups.push(() => monitor.close());
    const check = { ...tcpCheck(), intervalMs: 50, timeoutMs: 200, rise: 1, fall: 1 };
    const vs = startVirtualServer(
      vsConfig({
        scheduler: 'rr',
        realServers: [a!, b!].map((x) => realServer('127.0.0.1', x.port, { checks: [check] })),
      }),
      new ManualHealth(),
      { health: monitor },
    );
    await vs.start();
    cleanups.push(() => vs.stop(0));
    const port = vs.address().port;
    await new Promise<void>((resolve) => a!.server.close(() => resolve()));
    await eventually(() => vs.snapshot().realServers[0]!.up === false, 'the monitor marking A down');
    assert.equal(vs.snapshot().realServers[0]!.health?.up, false);
    const replies: string[] = [];
    for (let i = 0; i < 4; i++) replies.push(answeredBy(await request(port)));
    assert.deepEqual(tally(replies), { B: 4 });
  });

  it('stop(grace) lets connections finish, then cuts what is left', async () => {
    const [a] = await backends('A');
    const health = new ManualHealth();
    const vs = startVirtualServer(vsConfig({ realServers: rsOf([a!]) }), health);
    await vs.start();
    const port = vs.address().port;
    const finishing = await connect(port);
    const stuck = await connect(port);
    await eventually(() => vs.snapshot().connections.active === 2, 'both connected');
    const stuckClosed = closed(stuck);
    const reply = closed(finishing);
    const stopping = vs.stop(300);
    finishing.end('bye'); // finishes within the grace period
    assert.equal((await reply).data, 'bye[A]');
    await stopping;
    await stuckClosed; // cut when the grace period ended
    assert.equal(health.listenerCount, 0);
    assert.equal(health.states.size, 0, 'unregistered from the health monitor');
    await assert.rejects(connect(port));
  });
});
