import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { startProxy, startUpstream, waitFor } from './http-helpers.ts';

/*
 * Pool schedulers through the proxy against real upstream servers: weighted
 * round-robin splits exactly as ip_vs_wrr does, and least-connection counts the
 * requests in flight, so a server that holds its requests gets no more.
 */

/** GETs on one keep-alive client connection; resolves with the x-upstream of each answer. */
async function getAll(port: number, paths: string[]): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const names: string[] = [];
    for (const path of paths) {
      names.push(
        await new Promise<string>((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: 5000 }, (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 200
                ? resolve(String(res.headers['x-upstream']))
                : reject(new Error(`status ${res.statusCode}`)),
            );
          });
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', reject);
        }),
      );
    }
    return names;
  } finally {
    agent.destroy();
  }
}

describe('http pools: schedulers end to end', () => {
  it('wrr with weights 3:1 sends exactly 300 of 400 requests to the heavier server', async () => {
    const heavy = await startUpstream('heavy');
    const light = await startUpstream('light');
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'p' }] }],
      pools: {
        p: {
          scheduler: 'wrr',
          servers: [
            { address: heavy.address, weight: 3 },
            { address: light.address, weight: 1 },
          ],
        },
      },
    });
    try {
      const names = await getAll(
        p.port,
        Array.from({ length: 400 }, (_, i) => `/r${i}`),
      );
      // ip_vs_wrr: passes with cw = 3, 2, 1 over [heavy, light] → heavy heavy heavy light, again and again.
      assert.deepEqual(names.slice(0, 8), [
        'heavy',
        'heavy',
        'heavy',
        'light',
        'heavy',
        'heavy',
        'heavy',
        'light',
      ]);
      assert.equal(names.filter((n) => n === 'heavy').length, 300);
      assert.equal(names.filter((n) => n === 'light').length, 100);
      assert.equal(heavy.seen.length, 300);
      assert.equal(light.seen.length, 100);
      const servers = p.service.snapshot()!.pools[0]!.servers;
      assert.deepEqual(
        servers.map((s) => [s.weight, s.requests, s.responses[2]]),
        [
          [3, 300, 300],
          [1, 100, 100],
        ],
      );
    } finally {
      await p.stop();
      await heavy.close();
      await light.close();
    }
  });

  it('lc sends nothing more to a server whose requests are still in flight', async () => {
    const held: http.ServerResponse[] = [];
    const slow = await startUpstream('slow', (_req, res) => {
      held.push(res);
    });
    const fast = await startUpstream('fast');
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'p' }] }],
      pools: {
        p: {
          scheduler: 'lc',
          response_timeout: '30s',
          servers: [{ address: slow.address }, { address: fast.address }],
        },
      },
    });
    try {
      // Both idle: a tie goes to the first in the list (ip_vs_lc), the slow one, which holds it.
      const first = getAll(p.port, ['/held']);
      await waitFor(() => held.length === 1, 5000, 'the slow server to get the first request');
      assert.equal(p.service.snapshot()!.pools[0]!.servers[0]!.active, 1);
      // While it is in flight (overhead 1·256) every other request goes to the idle fast server.
      const names = await getAll(
        p.port,
        Array.from({ length: 20 }, (_, i) => `/f${i}`),
      );
      assert.deepEqual(new Set(names), new Set(['fast']));
      assert.equal(slow.seen.length, 1);
      assert.equal(fast.seen.length, 20);
      const servers = p.service.snapshot()!.pools[0]!.servers;
      assert.deepEqual(
        servers.map((s) => [s.active, s.requests]),
        [
          [1, 1],
          [0, 20],
        ],
      );
      // Released, the held request completes normally.
      for (const res of held) {
        res.writeHead(200, { 'x-upstream': 'slow', 'content-length': '0' });
        res.end();
      }
      assert.deepEqual(await first, ['slow']);
      await waitFor(() => p.service.snapshot()!.pools[0]!.servers[0]!.active === 0, 5000, 'slow settled');
    } finally {
      await p.stop();
      await slow.close();
      await fast.close();
    }
  });
});
