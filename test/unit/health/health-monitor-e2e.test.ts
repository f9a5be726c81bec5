import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { test } from 'node:test';
import { HealthMonitor } from '../../../src/health/health-monitor.ts';
import type { HealthChange } from '../../../src/health/types.ts';
import { httpSpec, url } from './helpers.ts';

test('end to end: a real HTTP server that starts failing goes down, then comes back up', async () => {
  let healthy = true;
  let requests = 0;
  const server = http.createServer((_req, res) => {
    requests++;
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(healthy ? 'OK' : 'maintenance');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const monitor = new HealthMonitor();
  const changes: HealthChange[] = [];
  let notify: (() => void) | undefined;
  monitor.subscribe((change) => {
    changes.push(change);
    notify?.();
  });
  const nextChange = () =>
    new Promise<HealthChange>((resolve) => {
      const seen = changes.length;
      notify = () => {
        if (changes.length > seen) resolve(changes[seen]!);
      };
    });

  try {
    const spec = httpSpec({ intervalMs: 20, timeoutMs: 1000, rise: 2, fall: 2, urls: [url('/healthz')] });
    monitor.add('web1', { host: '127.0.0.1', port }, [spec], true);
    assert.equal(monitor.status('web1')?.up, false);

    const up = await nextChange();
    assert.equal(up.up, true);
    assert.match(up.reason, /GET \/healthz: status 200/);

    healthy = false;
    const down = await nextChange();
    assert.equal(down.up, false);
    assert.equal(down.id, 'web1');
    assert.match(down.reason, /status 503 not in 200-299/);
    assert.equal(monitor.status('web1')?.checks[0]?.lastResult?.code, 'HASTACK_CHECK_HTTP_STATUS');

    healthy = true;
    const back = await nextChange();
    assert.equal(back.up, true);
    assert.ok(requests >= 6, 'rise and fall of 2 each took at least two probes');
    assert.deepEqual(
      changes.map((c) => c.up),
      [true, false, true],
    );
    assert.deepEqual(monitor.counters().transitions, { up: 2, down: 1 });
  } finally {
    await monitor.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
