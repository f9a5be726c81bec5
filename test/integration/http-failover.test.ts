import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import http from 'node:http';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../src/core/logger.ts';
import { HealthMonitor } from '../../src/health/health-monitor.ts';
import { httpSectionSchema } from '../../src/http/config-schema.ts';
import { HttpService } from '../../src/http/http-service.ts';

/*
 * The failure drill of the issue: under a steady load of GETs (≥ 300 req/s),
 * kill -9 one of three upstream processes. Retries (reset before any response
 * byte, refused connects) and health checks keep every client request
 * successful; the POST in flight to the killed server gets a 502 and is never
 * sent again.
 */

interface Child {
  name: string;
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

const FIXTURE = new URL('../fixtures/http/backend.ts', import.meta.url);

function startChild(name: string, posts: string[]): Promise<Child> {
  const child = fork(FIXTURE, [name], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (m: { type?: string; name?: string }) => {
    if (m.type === 'post') posts.push(m.name!);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 10_000);
    child.once('message', (m: { type?: string; port?: number }) => {
      clearTimeout(timer);
      if (m.type === 'ready') resolve({ name, port: m.port!, child, exited });
      else reject(new Error('unexpected message'));
    });
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(-1));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(-1));
  });
}

function post(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/order', method: 'POST', agent: false, timeout: 8000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(-1));
    req.end('item=1');
  });
}

describe('http proxy: kill -9 of an upstream under load', () => {
  it('loses no GET and never duplicates the POST in flight', async () => {
    const posts: string[] = [];
    const children = await Promise.all(['web1', 'web2', 'web3'].map((n) => startChild(n, posts)));
    const health = new HealthMonitor({ logger: silentLogger() });
    const service = new HttpService(
      httpSectionSchema.parse({
        listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'web' }] }],
        pools: {
          web: {
            scheduler: 'rr',
            servers: children.map((c) => ({ address: `127.0.0.1:${c.port}` })),
            health_check: { type: 'http', path: '/', interval: '300ms', timeout: '250ms', rise: 2, fall: 1 },
            connect_timeout: '1s',
            outlier: { consecutive_failures: 3, ejection_time: '30s' },
          },
        },
      }),
      { logger: silentLogger(), health },
    );
    await service.start();
    const port = Object.values(service.addresses())[0]!.port;
    let stop = false;
    let loops: Promise<void>[] = [];
    try {
      const results: number[] = [];
      const started = Date.now();
      // 16 loops of back-to-back GETs: well above 300 req/s on loopback.
      loops = Array.from({ length: 16 }, async (_, i) => {
        let n = 0;
        while (!stop) results.push(await get(port, `/l${i}/${n++}`));
      });
      await sleep(700);
      // A POST lands on one server and waits there; kill exactly that one.
      const postDone = post(port);
      const until = Date.now() + 3000;
      while (posts.length === 0 && Date.now() < until) await sleep(10);
      assert.equal(posts.length, 1, 'the POST reached one server');
      const victim = children.find((c) => c.name === posts[0])!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      const postStatus = await postDone;
      await sleep(1500);
      stop = true;
      await Promise.all(loops);
      const seconds = (Date.now() - started) / 1000;
      const failed = results.filter((s) => s !== 200);
      assert.ok(results.length / seconds >= 300, `load was ${Math.round(results.length / seconds)} req/s`);
      assert.deepEqual(failed, [], `${failed.length} of ${results.length} GETs failed`);
      assert.equal(postStatus, 502, 'the POST in flight to the killed server gets 502');
      assert.deepEqual(posts, [victim.name], 'the POST was never sent again');
      const snap = service.snapshot()!;
      const dead = snap.pools[0]!.servers.find((s) => s.address === `127.0.0.1:${victim.port}`)!;
      assert.ok(!dead.healthy || dead.ejected, 'the killed server is out of rotation');
    } finally {
      stop = true;
      await Promise.all(loops);
      agent.destroy();
      await service.stop(500);
      await health.close();
      for (const c of children)
        if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGTERM');
      await Promise.all(children.map((c) => c.exited));
    }
  });
});
