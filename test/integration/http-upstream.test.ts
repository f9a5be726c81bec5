import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../helpers/free-port.ts';
import { json, rawExchange, request, startProxy, startUpstream, waitFor } from './http-helpers.ts';

/*
 * The upstream side: keep-alive pools, retries with redispatch (and never for a
 * non-idempotent request whose bytes went out), timeouts, health, passive
 * ejection, response buffering for slow clients, streaming and WebSocket tunnels.
 */

describe('http proxy: upstreams', () => {
  it('reuses upstream connections, or opens one per request with keepalive: false', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    const p = await startProxy({
      listeners: [
        { listen: '127.0.0.1:0', routes: [{ match: { path_prefix: '/b' }, pool: 'b' }, { pool: 'a' }] },
      ],
      pools: {
        a: { servers: [{ address: a.address }] },
        b: { keepalive: false, servers: [{ address: b.address }] },
      },
    });
    try {
      for (let i = 0; i < 5; i++) await request(p.port, { path: '/a' });
      for (let i = 0; i < 5; i++) await request(p.port, { path: '/b' });
      assert.equal(a.connections, 1, 'pooled');
      assert.equal(b.connections, 5, 'one connection per request');
      assert.equal(b.seen[0]!.headers.connection, 'close');
      const snap = p.service.snapshot()!;
      assert.equal(snap.pools.find((x) => x.name === 'a')!.servers[0]!.idle, 1);
    } finally {
      await p.stop();
      await a.close();
      await b.close();
    }
  });

  it('retries a refused connect on another server (redispatch)', async () => {
    const live = await startUpstream('live');
    const dead = await freePort();
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'p' }] }],
      pools: {
        p: {
          scheduler: 'rr',
          servers: [{ address: `127.0.0.1:${dead}` }, { address: live.address }],
          outlier: { consecutive_failures: 0 },
        },
      },
    });
    try {
      for (let i = 0; i < 6; i++) {
        const r = await request(p.port, { method: i % 2 === 0 ? 'GET' : 'POST', path: `/r${i}`, body: 'x' });
        assert.equal(r.status, 200);
      }
      assert.equal(live.seen.length, 6);
      assert.ok(p.service.snapshot()!.pools[0]!.retries >= 3);
    } finally {
      await p.stop();
      await live.close();
    }
  });

  it('never sends a POST twice once its bytes went out: 502 instead', async () => {
    let posts = 0;
    const killer = net.createServer((s) => {
      s.on('data', (d) => {
        if (d.toString('latin1').startsWith('POST')) posts++;
        s.resetAndDestroy();
      });
    });
    await new Promise<void>((r) => killer.listen(0, '127.0.0.1', r));
    const other = await startUpstream('other');
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'p' }] }],
      pools: {
        p: {
          scheduler: 'rr',
          servers: [
            { address: `127.0.0.1:${(killer.address() as net.AddressInfo).port}` },
            { address: other.address },
          ],
          outlier: { consecutive_failures: 0 },
        },
      },
    });
    try {
      const post = await request(p.port, { method: 'POST', path: '/pay', body: 'amount=1' });
      assert.equal(post.status, 502);
      assert.equal(posts, 1);
      assert.equal(other.seen.filter((s) => s.method === 'POST').length, 0, 'not re-sent elsewhere');
      // An idempotent request that meets the same reset is retried on the other server.
      const get = await request(p.port, { path: '/read' });
      assert.equal(get.status, 200);
    } finally {
      await p.stop();
      killer.close();
      await other.close();
    }
  });

  it('retries configured statuses for idempotent requests only', async () => {
    const busy = await startUpstream('busy', (_req, res) => {
      res.writeHead(503, { 'content-length': '4' });
      res.end('busy');
    });
    const ok = await startUpstream('ok');
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'p' }] }],
      pools: {
        p: {
          scheduler: 'rr',
          retry_on: ['connect-failure', 503],
          servers: [{ address: busy.address }, { address: ok.address }],
          outlier: { consecutive_failures: 0 },
        },
      },
    });
    try {
      for (let i = 0; i < 4; i++) assert.equal((await request(p.port, { path: `/g${i}` })).status, 200);
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await request(p.port, { method: 'POST', path: `/p${i}`, body: 'b' })).status);
      assert.ok(statuses.includes(503), 'a POST gets the 503 as it is');
    } finally {
      await p.stop();
      await busy.close();
      await ok.close();
    }
  });

  it('answers 504 when the upstream does not answer in time, 502 when nothing listens', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const dead = await freePort();
    const p = await startProxy({
      listeners: [
        {
          listen: '127.0.0.1:0',
          routes: [{ match: { path_prefix: '/slow' }, pool: 'slow' }, { pool: 'dead' }],
        },
      ],
      pools: {
        slow: {
          response_timeout: '300ms',
          retries: 0,
          servers: [{ address: `127.0.0.1:${(silent.address() as net.AddressInfo).port}` }],
        },
        dead: { retries: 1, servers: [{ address: `127.0.0.1:${dead}` }] },
      },
    });
    try {
      assert.equal((await request(p.port, { path: '/slow' })).status, 504);
      assert.equal((await request(p.port, { path: '/x' })).status, 502);
    } finally {
      await p.stop();
      silent.close();
    }
  });

  it('answers 408 to a client that sends its head too slowly (slowloris)', async () => {
    const up = await startUpstream('up');
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', timeouts: { client_header: '400ms' }, routes: [{ pool: 'p' }] }],
      pools: { p: { servers: [{ address: up.address }] } },
    });
    try {
      const socket = net.connect(p.port, '127.0.0.1');
      let data = '';
      socket.on('data', (c) => (data += c.toString('latin1')));
      const closed = new Promise<void>((r) => socket.on('close', () => r()));
      socket.on('error', () => {});
      for (const piece of ['GET / HT', 'TP/1.1\r\n', 'Host: a\r\n', 'X-A: 1\r\n']) {
        if (socket.destroyed) break;
        socket.write(piece);
        await sleep(150);
      }
      await closed;
      assert.match(data, /^HTTP\/1\.1 408 /);
      assert.equal(up.seen.length, 0);
    } finally {
      await p.stop();
      await up.close();
    }
  });

  it('follows active health: a down server gets no requests', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'p' }] }],
      pools: {
        p: {
          scheduler: 'rr',
          servers: [{ address: a.address }, { address: b.address }],
          health_check: { type: 'tcp', interval: '1h' },
        },
      },
    });
    try {
      p.health.set(`http/p/${a.address}`, false);
      for (let i = 0; i < 4; i++) assert.equal(json(await request(p.port)).name, 'b');
      assert.equal(p.service.snapshot()!.pools[0]!.servers[0]!.healthy, false);
      p.health.set(`http/p/${a.address}`, true);
      const names = new Set<string>();
      for (let i = 0; i < 4; i++) names.add(json(await request(p.port)).name);
      assert.deepEqual([...names].sort(), ['a', 'b']);
    } finally {
      await p.stop();
      await a.close();
      await b.close();
    }
  });

  it('ejects a server after consecutive 5xx (passive outlier detection)', async () => {
    const bad = await startUpstream('bad', (_req, res) => {
      res.writeHead(500, { 'content-length': '0' });
      res.end();
    });
    const good = await startUpstream('good');
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'p' }] }],
      pools: {
        p: {
          scheduler: 'rr',
          servers: [{ address: bad.address }, { address: good.address }],
          outlier: { consecutive_failures: 2, ejection_time: '1h' },
        },
      },
    });
    try {
      for (let i = 0; i < 6; i++) await request(p.port);
      assert.equal(bad.seen.length, 2);
      const s = p.service.snapshot()!.pools[0]!.servers[0]!;
      assert.equal(s.ejected, true);
      assert.equal(s.ejections, 1);
      for (let i = 0; i < 4; i++) assert.equal((await request(p.port)).status, 200);
    } finally {
      await p.stop();
      await bad.close();
      await good.close();
    }
  });

  it('buffers a response for a slow client and releases the upstream connection at once', async () => {
    const size = 6 * 1024 * 1024;
    const payload = Buffer.alloc(size, 'abcdefghijklmnopqrstuvwxyz');
    const sha = createHash('sha256').update(payload).digest('hex');
    let finished = 0;
    const up = await startUpstream('big', (_req, res) => {
      res.writeHead(200, { 'content-length': String(size) });
      res.end(payload);
      res.on('finish', () => finished++);
    });
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', buffer_size: '256k', routes: [{ pool: 'p' }] }],
      pools: { p: { servers: [{ address: up.address }] } },
    });
    try {
      const socket = net.connect(p.port, '127.0.0.1');
      const hash = createHash('sha256');
      let got = 0;
      let headDone = false;
      let pending: Buffer = Buffer.alloc(0);
      socket.on('error', () => {});
      // The client reads one byte, then nothing for a while: a very slow client.
      socket.once('data', (first: Buffer) => {
        socket.pause();
        pending = first;
      });
      socket.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
      await waitFor(() => finished === 1, 10_000, 'the upstream to finish sending');
      await waitFor(
        () => p.service.snapshot()!.pools[0]!.servers[0]!.idle === 1,
        5_000,
        'the upstream connection back in the pool',
      );
      assert.equal(p.service.snapshot()!.pools[0]!.servers[0]!.active, 0);
      // Now read everything and check it arrived whole.
      const done = new Promise<void>((resolve) => {
        const take = (c: Buffer) => {
          let chunk = c;
          if (!headDone) {
            pending = Buffer.concat([pending, chunk]);
            const i = pending.indexOf('\r\n\r\n');
            if (i < 0) return;
            headDone = true;
            chunk = pending.subarray(i + 4);
          }
          hash.update(chunk);
          got += chunk.length;
          if (got >= size) resolve();
        };
        const first = pending;
        pending = Buffer.alloc(0);
        take(first);
        socket.on('data', take);
        socket.resume();
      });
      await done;
      assert.equal(got, size);
      assert.equal(hash.digest('hex'), sha);
      socket.destroy();
    } finally {
      await p.stop();
      await up.close();
    }
  });

  it('streams without buffering on routes with buffering: false', async () => {
    // Larger than every kernel socket buffer on the way, so a client that stops reading stops the upstream.
    const size = 96 * 1024 * 1024;
    const piece = Buffer.alloc(1024 * 1024, 'z');
    let finished = false;
    const up = await startUpstream('stream', (_req, res) => {
      res.writeHead(200, { 'content-length': String(size) });
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          sent += piece.length;
          if (!res.write(piece)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      res.on('finish', () => (finished = true));
    });
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'p', buffering: false }] }],
      pools: { p: { servers: [{ address: up.address }] } },
    });
    try {
      const socket = net.connect(p.port, '127.0.0.1');
      socket.on('error', () => {});
      let got = 0;
      socket.once('data', (c: Buffer) => {
        got += c.length;
        socket.pause();
      });
      socket.write('GET /s HTTP/1.1\r\nHost: a\r\n\r\n');
      await sleep(1000);
      assert.equal(finished, false, 'the upstream waits for the client');
      assert.equal(p.service.snapshot()!.pools[0]!.servers[0]!.active, 1);
      socket.on('data', (c: Buffer) => (got += c.length));
      socket.resume();
      await waitFor(() => finished && got >= size, 20_000, 'the whole body');
      socket.destroy();
    } finally {
      await p.stop();
      await up.close();
    }
  });

  it('tunnels WebSocket upgrades both ways', async () => {
    const server = http.createServer((_req, res) => res.end('no'));
    server.on('upgrade', (req, socket: net.Socket) => {
      socket.on('error', () => {});
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Upgrade: ${req.headers.upgrade}\r\n\r\n`,
      );
      socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'ws' }] }],
      pools: { ws: { servers: [{ address: `127.0.0.1:${(server.address() as net.AddressInfo).port}` }] } },
    });
    try {
      const socket = net.connect(p.port, '127.0.0.1');
      socket.on('error', () => {});
      let data = '';
      socket.on('data', (c) => (data += c.toString('latin1')));
      socket.write(
        'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      await waitFor(() => data.includes('\r\n\r\n'), 3000, '101');
      assert.match(data, /^HTTP\/1\.1 101 /);
      assert.match(data, /upgrade: websocket/i);
      assert.match(data, /x-seen-upgrade: websocket/i);
      socket.write('hello');
      await waitFor(() => data.endsWith('echo:hello'), 3000, 'the echo');
      assert.equal(p.service.snapshot()!.listeners[0]!.stats.tunnels, 1);
      socket.destroy();
    } finally {
      await p.stop();
      server.closeAllConnections();
      server.close();
    }
  });

  it('refuses an unrequested 101 from the upstream with 502', async () => {
    const odd = net.createServer((s) =>
      s.once('data', () => s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n')),
    );
    await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'p' }] }],
      pools: {
        p: { retries: 0, servers: [{ address: `127.0.0.1:${(odd.address() as net.AddressInfo).port}` }] },
      },
    });
    try {
      const r = await rawExchange(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      assert.match(r.data, /^HTTP\/1\.1 502 /);
    } finally {
      await p.stop();
      odd.close();
    }
  });
});
