import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpMetricSpecs } from '../../../src/http/metrics.ts';
import { type EngineSnapshot, mergeSnapshots, type ServerSnapshot } from '../../../src/http/snapshot.ts';
import {
  LATENCY_BUCKETS,
  newLatencyBuckets,
  newListenerStats,
  newRouteStats,
  observeLatency,
} from '../../../src/http/stats.ts';
import type { ManagedService } from '../../../src/runtime/services.ts';

function server(address: string, latencies: number[], retries: number): ServerSnapshot {
  const h = { latency: newLatencyBuckets(), latencySum: 0 };
  for (const s of latencies) observeLatency(h, s);
  return {
    address,
    weight: 1,
    effectiveWeight: 1,
    healthy: true,
    ejected: false,
    active: 0,
    idle: 0,
    requests: latencies.length + retries,
    failures: retries,
    ejections: 0,
    retries,
    responses: [0, 0, latencies.length, 0, 0, 0],
    latency: h.latency,
    latencySum: h.latencySum,
  };
}

function snapshot(spilled: number, servers: ServerSnapshot[]): EngineSnapshot {
  return {
    workers: 1,
    listeners: [
      {
        name: 'front',
        address: '127.0.0.1:8080',
        tls: false,
        http2: false,
        stats: { ...newListenerStats(), spilledResponses: spilled, spilledBytes: spilled * 1000 },
        routes: [{ name: 'all', match: '*', action: 'pool app', stats: newRouteStats() }],
        unmatched: newRouteStats(),
      },
    ],
    pools: [
      { name: 'app', scheduler: 'wrr', keepalive: true, requests: 0, retries: 0, noServer: 0, servers },
    ],
  };
}

/** Runs every spec against a fake service: `name{labels}` → value. */
function scrape(snap: EngineSnapshot | undefined): Map<string, number> {
  const service = { snapshot: () => snap } as unknown as ManagedService;
  const out = new Map<string, number>();
  for (const spec of httpMetricSpecs) {
    spec.fill(service, (labels, value) => {
      const text = spec.labelNames.map((k) => `${k}=${labels[k]}`).join(',');
      out.set(`${spec.name}{${text}}`, value);
    });
  }
  return out;
}

describe('http metrics: upstream histogram, per-server retries, spills', () => {
  it('adds up worker snapshots, new counters included', () => {
    const a = snapshot(1, [server('10.0.0.1:80', [0.003, 0.2], 1), server('10.0.0.2:80', [], 0)]);
    const b = snapshot(2, [server('10.0.0.1:80', [0.003], 2), server('10.0.0.2:80', [20], 3)]);
    const m = mergeSnapshots([a, b])!;
    assert.equal(m.workers, 2);
    assert.equal(m.listeners[0]!.stats.spilledResponses, 3);
    assert.equal(m.listeners[0]!.stats.spilledBytes, 3000);
    const [s1, s2] = m.pools[0]!.servers;
    assert.equal(s1!.retries, 3);
    assert.equal(s1!.latency[0], 2);
    assert.equal(s1!.latency[5], 1);
    assert.ok(Math.abs(s1!.latencySum - 0.206) < 1e-9);
    assert.equal(s2!.retries, 3);
    assert.equal(s2!.latency[LATENCY_BUCKETS.length], 1, '+Inf bucket');
    // The inputs are left alone.
    assert.equal(a.pools[0]!.servers[0]!.retries, 1);
  });

  it('writes the upstream histogram as cumulative counters per pool and server', () => {
    const m = scrape(snapshot(1, [server('10.0.0.1:80', [0.003, 0.2, 0.2, 30], 4)]));
    const key = (name: string, extra = '') => `${name}{pool=app,server=10.0.0.1:80${extra}}`;
    const bucket = (le: string) =>
      m.get(key('hastack_http_upstream_response_duration_seconds_bucket', `,le=${le}`));
    assert.equal(bucket('0.005'), 1);
    assert.equal(bucket('0.1'), 1);
    assert.equal(bucket('0.25'), 3);
    assert.equal(bucket('10'), 3);
    assert.equal(bucket('+Inf'), 4);
    assert.equal(m.get(key('hastack_http_upstream_response_duration_seconds_count')), 4);
    assert.ok(Math.abs(m.get(key('hastack_http_upstream_response_duration_seconds_sum'))! - 30.403) < 1e-9);
    assert.equal(m.get(key('hastack_http_upstream_retries_total')), 4);
    assert.equal(m.get('hastack_http_spilled_responses_total{listener=front}'), 1);
    assert.equal(m.get('hastack_http_spilled_bytes_total{listener=front}'), 1000);
    assert.equal(m.get('hastack_http_spill_limit_reached_total{listener=front}'), 0);
  });

  it('emits nothing while the proxy is not running', () => {
    assert.equal(scrape(undefined).size, 0);
  });
});
