import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AccessLogEntry, formatCombined, formatJson } from '../../../src/http/access-log.ts';
import { httpSectionSchema } from '../../../src/http/config-schema.ts';
import type { PoolConfig } from '../../../src/http/model.ts';
import type { EngineSnapshot } from '../../../src/http/snapshot.ts';
import {
  newLatencyBuckets,
  newListenerStats,
  newRouteStats,
  observeLatency,
} from '../../../src/http/stats.ts';
import { formatHttpStatus } from '../../../src/http/status-format.ts';
import { UpstreamPool } from '../../../src/http/upstream-pool.ts';

function pool(over: Record<string, unknown> = {}): PoolConfig {
  return httpSectionSchema.parse({
    listeners: [{ listen: '127.0.0.1:0', routes: [{ pool: 'p' }] }],
    pools: {
      p: {
        scheduler: 'rr',
        servers: [
          { address: '10.0.0.1:80' },
          { address: '10.0.0.2:80' },
          { address: '10.0.0.3:80', weight: 4 },
        ],
        ...over,
      },
    },
  }).pools.p!;
}

const ctx = { clientHost: '192.0.2.1', clientPort: 1, destHost: '127.0.0.1', destPort: 80, now: 0 };

describe('upstream pool', () => {
  it('round-robins over usable servers and skips tried ones (redispatch)', () => {
    const p = new UpstreamPool(pool(), 0);
    const keys = new Set([0, 1, 2].map(() => p.pick(ctx, undefined)!.key));
    assert.equal(keys.size, 3);
    const a = p.servers[0]!;
    const b = p.servers[1]!;
    for (let i = 0; i < 10; i++) assert.equal(p.pick(ctx, [a, b])!.key, '10.0.0.3:80');
    assert.equal(p.pick(ctx, p.servers), undefined);
  });

  it('takes servers out on failed health and puts them back', () => {
    const p = new UpstreamPool(pool(), 0);
    p.setHealth('10.0.0.1:80', false, 0);
    p.setHealth('10.0.0.2:80', false, 0);
    for (let i = 0; i < 5; i++) assert.equal(p.pick(ctx, undefined)!.key, '10.0.0.3:80');
    p.setHealth('10.0.0.1:80', true, 10);
    assert.equal(p.available.length, 2);
  });

  it('ejects after consecutive failures, for the ejection time, within max_ejection_percent', () => {
    const p = new UpstreamPool(
      pool({ outlier: { consecutive_failures: 3, ejection_time: '10s', max_ejection_percent: 34 } }),
      0,
    );
    const [a, b] = p.servers;
    assert.equal(p.reportFailure(a!, 0), false);
    p.reportSuccess(a!);
    assert.equal(p.reportFailure(a!, 0), false);
    assert.equal(p.reportFailure(a!, 0), false);
    assert.equal(p.reportFailure(a!, 1), true);
    assert.equal(a!.ejections, 1);
    assert.equal(p.available.includes(a!), false);
    // Only one of three may be out at 34 %.
    for (let i = 0; i < 5; i++) assert.equal(p.reportFailure(b!, 2), false);
    p.tick(5_000);
    assert.equal(p.available.includes(a!), false);
    p.tick(10_001);
    assert.equal(p.available.includes(a!), true);
  });

  it('ramps the weight up during slow start after a server comes back', () => {
    const p = new UpstreamPool(pool({ slow_start: '10s' }), 0);
    const c = p.servers[2]!;
    assert.equal(c.weight, 4, 'no slow start at startup');
    p.setHealth(c.key, false, 0);
    p.setHealth(c.key, true, 1_000);
    assert.equal(c.weight, 1);
    p.tick(6_000);
    assert.equal(c.weight, 2);
    p.tick(11_000);
    assert.equal(c.weight, 4);
  });

  it('keeps server state across a reconfiguration', () => {
    const p = new UpstreamPool(pool(), 0);
    p.servers[0]!.requests = 7;
    const removed = p.reconfigure(
      pool({ servers: [{ address: '10.0.0.1:80', weight: 9 }, { address: '10.0.0.4:80' }] }),
      0,
    );
    assert.deepEqual(removed.map((s) => s.key).sort(), ['10.0.0.2:80', '10.0.0.3:80']);
    assert.equal(p.servers[0]!.requests, 7);
    assert.equal(p.servers[0]!.configWeight, 9);
  });
});

describe('http config section', () => {
  const base = {
    listeners: [{ listen: '127.0.0.1:8080', routes: [{ pool: 'app' }] }],
    pools: { app: { servers: [{ address: '127.0.0.1:9001' }] } },
  };

  it('fills defaults', () => {
    const c = httpSectionSchema.parse(base);
    const l = c.listeners[0]!;
    assert.equal(l.name, '127.0.0.1:8080');
    assert.equal(l.limits.maxBodySize, 1024 * 1024);
    assert.equal(l.timeouts.clientHeaderMs, 10_000);
    assert.deepEqual(l.keepalive, { enabled: true, idleTimeoutMs: 75_000, maxRequests: 1000 });
    const p = c.pools.app!;
    assert.equal(p.scheduler, 'wrr');
    assert.equal(p.keepalive.enabled, true);
    assert.equal(p.retries, 2);
    assert.deepEqual(p.retryOn, ['connect-failure', 'empty-response']);
    assert.equal(c.accessLog.path, undefined);
  });

  it('parses the issue example shape with health checks, sizes and retry statuses', () => {
    const c = httpSectionSchema.parse({
      workers: 2,
      access_log: { path: '/tmp/x.log', format: 'json' },
      listeners: [
        {
          name: 'front',
          listen: '127.0.0.1:8080',
          limits: { max_body_size: '10m', max_header_size: '16k' },
          keepalive: false,
          routes: [
            { match: { path_prefix: '/static/' }, pool: 'app' },
            { match: { header: { 'user-agent': '~*(iPhone|Android)' } }, pool: 'app' },
            { match: { path_regex: '^/old/(.*)$' }, rewrite: { path: '/legacy?page=$1' }, pool: 'app' },
            { pool: 'app' },
          ],
        },
      ],
      pools: {
        app: {
          scheduler: 'lc',
          keepalive: false,
          servers: [{ address: '127.0.0.1:9001' }, { address: '127.0.0.1:9002', weight: 2 }],
          health_check: { type: 'http', path: '/health', interval: '1s', rise: 2, fall: 2 },
          retry_on: ['connect-failure', 503],
        },
      },
    });
    assert.equal(c.workers, 2);
    assert.equal(c.listeners[0]!.limits.maxBodySize, 10 * 1024 * 1024);
    assert.equal(c.listeners[0]!.limits.maxHeaderBytes, 16 * 1024);
    assert.equal(c.listeners[0]!.keepalive.enabled, false);
    assert.equal(c.pools.app!.checks[0]!.type, 'http');
    assert.equal(c.pools.app!.checks[0]!.intervalMs, 1000);
    assert.deepEqual(c.pools.app!.retryStatuses, [503]);
    assert.equal(c.pools.app!.keepalive.enabled, false);
  });

  it('reports cross-field errors with their paths', () => {
    const bad = httpSectionSchema.safeParse({
      listeners: [
        {
          listen: '127.0.0.1:8080',
          routes: [
            { pool: 'missing' },
            { pool: 'app', respond: { body: 'x' } },
            { match: { path_regex: '(' }, pool: 'app' },
            { match: { client_ip: ['not/an/ip'] }, pool: 'app' },
            { match: { path: '/a', path_prefix: '/b' }, pool: 'app' },
            { rewrite: { path: '/x/$1' }, pool: 'app' },
          ],
        },
      ],
      pools: { app: { servers: [{ address: '127.0.0.1:1' }, { address: '127.0.0.1:1' }] } },
    });
    assert.equal(bad.success, false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    for (const expected of [
      'listeners.0.routes.0.pool',
      'listeners.0.routes.1',
      'listeners.0.routes.2.match.path_regex',
      'listeners.0.routes.3.match.client_ip',
      'listeners.0.routes.4.match',
      'listeners.0.routes.5.rewrite.path',
      'pools.app.servers.1',
    ]) {
      assert.ok(paths.includes(expected), `${expected} in ${paths.join(', ')}`);
    }
  });

  it('rejects unknown keys and bad sizes', () => {
    assert.equal(httpSectionSchema.safeParse({ ...base, extra: 1 }).success, false);
    assert.equal(
      httpSectionSchema.safeParse({
        ...base,
        listeners: [{ ...base.listeners[0], limits: { max_body_size: '1x' } }],
      }).success,
      false,
    );
  });
});

describe('access log and status formatting', () => {
  const entry: AccessLogEntry = {
    remoteAddr: '192.0.2.1',
    time: Date.UTC(2024, 0, 2, 3, 4, 5),
    method: 'GET',
    target: '/a "b"',
    protocol: 'HTTP/1.1',
    status: 200,
    bytesSent: 12,
    referer: '',
    userAgent: 'curl/8',
    host: 'h',
    listener: 'front',
    route: '#0',
    upstream: '127.0.0.1:9001',
    duration: 0.0015,
    retries: 1,
  };

  it('writes combined lines like nginx and JSON lines', () => {
    assert.equal(
      formatCombined(entry),
      '192.0.2.1 - - [02/Jan/2024:03:04:05 +0000] "GET /a \\x22b\\x22 HTTP/1.1" 200 12 "-" "curl/8"\n',
    );
    const j = JSON.parse(formatJson(entry));
    assert.equal(j.status, 200);
    assert.equal(j.duration_ms, 1.5);
    assert.equal(j.upstream, '127.0.0.1:9001');
  });

  it('counts latency into buckets', () => {
    const s = newRouteStats();
    observeLatency(s, 0.003);
    observeLatency(s, 0.2);
    observeLatency(s, 100);
    assert.equal(s.latency[0], 1);
    assert.equal(s.latency[5], 1);
    assert.equal(s.latency[s.latency.length - 1], 1);
  });

  it('formats a snapshot in the style of a stats page', () => {
    const stats = newRouteStats();
    stats.requests = 3;
    stats.responses[2] = 3;
    const snap: EngineSnapshot = {
      workers: 1,
      listeners: [
        {
          name: 'front',
          address: '127.0.0.1:8080',
          tls: false,
          http2: false,
          stats: { ...newListenerStats(), connections: 2, requests: 3, activeConnections: 1 },
          routes: [{ name: 'static', match: 'path_prefix=/static/', action: 'static /srv', stats }],
          unmatched: newRouteStats(),
        },
      ],
      pools: [
        {
          name: 'app',
          scheduler: 'wrr',
          keepalive: true,
          requests: 3,
          retries: 0,
          noServer: 0,
          servers: [
            {
              address: '127.0.0.1:9001',
              weight: 2,
              effectiveWeight: 2,
              healthy: true,
              ejected: false,
              active: 0,
              idle: 1,
              requests: 3,
              failures: 0,
              ejections: 0,
              retries: 0,
              responses: [0, 0, 3, 0, 0, 0],
              latency: newLatencyBuckets(),
              latencySum: 0,
            },
            {
              address: '127.0.0.1:9002',
              weight: 1,
              effectiveWeight: 0,
              healthy: false,
              ejected: false,
              active: 0,
              idle: 0,
              requests: 0,
              failures: 4,
              ejections: 0,
              retries: 2,
              responses: [0, 0, 0, 0, 0, 0],
              latency: newLatencyBuckets(),
              latencySum: 0,
            },
          ],
        },
      ],
    };
    const text = formatHttpStatus(snap);
    assert.match(text, /HTTP frontend front 127\.0\.0\.1:8080/);
    assert.match(text, /static\s+3\s+3 .*path_prefix=\/static\/ -> static \/srv/);
    assert.match(text, /HTTP backend app \(wrr, keepalive\)/);
    assert.match(text, /-> 127\.0\.0\.1:9001\s+UP/);
    assert.match(text, /-> 127\.0\.0\.1:9002\s+DOWN/);
    assert.match(text, /Fails\s+Retries\s+Eject/);
    assert.match(text, /-> 127\.0\.0\.1:9002\s+DOWN\s+1\s+0\s+0\s+0\s+4\s+2\s+0/);
    assert.equal(formatHttpStatus(undefined), 'HTTP proxy: not running');
  });
});
