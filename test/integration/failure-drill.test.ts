import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseYamlConfig } from '../../src/config/load-config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createDemoBackend, listenDemoBackend } from '../../src/demo/demo-backend.ts';
import { Runtime } from '../../src/runtime/runtime.ts';
import { type BackendProcess, startBackendProcess } from '../helpers/backend-process.ts';
import { type GetResult, httpGet } from '../helpers/http-get.ts';

/*
 * The issue's failure drill: steady load through a virtual server with three real
 * servers and HTTP checks; kill -9 one; it must leave the table within
 * fall × interval + 1 s, requests started after detection all succeed, it comes
 * back after rise × interval once restarted, and the sorry server answers when all
 * are down.
 */

const INTERVAL_MS = 300;
const RISE = 2;
const FALL = 2;
const SLACK_MS = 1000;

interface Sample {
  startedAt: number;
  result: GetResult;
}

describe('failure drill: kill -9 a real server under load', () => {
  const backends: BackendProcess[] = [];
  let sorry: Server;
  let runtime: Runtime;
  let vsPort: number;

  before(async () => {
    for (const name of ['web1', 'web2', 'web3']) backends.push(await startBackendProcess(name));
    sorry = createDemoBackend('sorry');
    const sorryPort = await listenDemoBackend(sorry, 0);
    const config = parseYamlConfig(`
admin: false
log: { level: silent }
shutdown_grace: 1s
virtual_servers:
  - name: web
    listen: 127.0.0.1:0
    scheduler: rr
    connect_timeout: 500ms
    sorry_server: 127.0.0.1:${sorryPort}
    checks:
      - { type: http, path: /healthz, interval: ${INTERVAL_MS}ms, timeout: 250ms, rise: ${RISE}, fall: ${FALL} }
    real_servers:
${backends.map((b) => `      - address: 127.0.0.1:${b.port}`).join('\n')}
`);
    runtime = new Runtime({ logger: silentLogger() });
    await runtime.start({ config, warnings: [], source: { kind: 'builtin' } });
    vsPort = runtime.virtualServer('web').address().port;
    await waitFor(() => realServers().every((rs) => rs.up), 5000, 'all real servers up');
  });

  after(async () => {
    await runtime?.stop(0);
    await Promise.all(backends.map((b) => b.stop()));
    await new Promise<void>((resolve) => (sorry ? sorry.close(() => resolve()) : resolve()));
  });

  function realServers() {
    return runtime.virtualServer('web').snapshot().realServers;
  }

  function realServer(port: number) {
    const rs = realServers().find((r) => r.port === port);
    assert.ok(rs, `real server on port ${port}`);
    return rs;
  }

  /** Fires ~250 requests/s until stopped; each on a new connection. */
  function startLoad(): { samples: Sample[]; stop: () => Promise<void> } {
    const samples: Sample[] = [];
    const inflight = new Set<Promise<void>>();
    let running = true;
    const loop = (async () => {
      while (running) {
        const startedAt = performance.now();
        const p = httpGet(vsPort, '/', 2000).then((result) => {
          samples.push({ startedAt, result });
        });
        inflight.add(p);
        p.finally(() => inflight.delete(p));
        await sleep(3);
      }
    })();
    return {
      samples,
      stop: async () => {
        running = false;
        await loop;
        await Promise.all(inflight);
      },
    };
  }

  it('detects the crash, keeps serving, re-admits the server and falls back to the sorry server', async () => {
    const victim = backends[1]!;
    const load = startLoad();
    await sleep(1000);

    const crashedAt = performance.now();
    await victim.crash();
    const detectedBy = crashedAt + FALL * INTERVAL_MS + SLACK_MS;
    await waitFor(
      () => !realServer(victim.port).up,
      FALL * INTERVAL_MS + SLACK_MS + 2000,
      'victim marked down',
    );
    const detectedAt = performance.now();
    assert.ok(detectedAt <= detectedBy, `detected ${Math.round(detectedAt - crashedAt)} ms after the crash`);
    const connsAtDetection = realServer(victim.port).stats.conns;
    await sleep(1500);
    assert.equal(
      realServer(victim.port).stats.conns,
      connsAtDetection,
      'no new connection goes to a down server',
    );

    // Bring it back on the same port.
    const restarted = await startBackendProcess('web2', victim.port);
    backends[1] = restarted;
    const restartedAt = performance.now();
    await waitFor(() => realServer(victim.port).up, RISE * INTERVAL_MS + SLACK_MS + 2000, 'victim back up');
    const upAt = performance.now();
    assert.ok(upAt - restartedAt >= (RISE - 1) * INTERVAL_MS, 'rise damping needs several good checks');
    await sleep(500);
    await load.stop();

    const afterDetection = load.samples.filter((s) => s.startedAt > detectedAt);
    assert.ok(afterDetection.length > 200, `enough requests after detection (${afterDetection.length})`);
    const failed = afterDetection.filter((s) => !s.result.ok);
    assert.deepEqual(
      failed.map((s) => s.result.error ?? s.result.status),
      [],
      'requests after detection all succeed',
    );
    const servedByVictim = load.samples.filter(
      (s) => s.startedAt > upAt + 100 && s.result.backend === 'web2',
    );
    assert.ok(servedByVictim.length > 0, 'the restarted server gets traffic again');
    const total = load.samples.length;
    const seconds = (load.samples.at(-1)!.startedAt - load.samples[0]!.startedAt) / 1000;
    process.stdout.write(`# load: ${total} requests, ${(total / seconds).toFixed(0)} req/s\n`);

    // All real servers down: the sorry server answers.
    for (const b of backends) await b.crash();
    await waitFor(
      () => realServers().every((rs) => !rs.up),
      FALL * INTERVAL_MS + SLACK_MS + 2000,
      'all down',
    );
    const res = await httpGet(vsPort);
    assert.equal(res.backend, 'sorry');
  });
});

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(20);
  }
}
