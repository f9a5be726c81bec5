import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { VirtualServerSnapshot } from '../../../src/l4/snapshot.ts';
import { registerMetrics } from '../../../src/metrics/collectors.ts';
import type { RuntimeStatus } from '../../../src/runtime/status.ts';

const stats = { conns: 10, inPkts: 20, outPkts: 30, inBytes: 400, outBytes: 500 };
const rates = { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };

function status(conns: number): RuntimeStatus {
  const vs = {
    name: 'web',
    protocol: 'tcp',
    host: '127.0.0.1',
    port: 8080,
    quorumUp: true,
    sorryActive: false,
    liveWeight: 3,
    connections: { active: 2, inactive: 1 },
    noDestination: 4,
    backpressurePauses: 0,
    stats: { ...stats, conns },
    rates,
    realServers: [
      {
        key: '127.0.0.1:8001',
        up: true,
        weight: 3,
        activeConns: 2,
        inactiveConns: 1,
        connectFailures: 1,
        stats: { ...stats, conns },
        rates,
      },
    ],
  } as unknown as VirtualServerSnapshot;
  return {
    version: '9.9.9',
    pid: 1,
    startedAt: '',
    uptimeSeconds: 5,
    config: { kind: 'builtin' },
    warnings: [],
    reloads: { count: 2, failures: 1 },
    admin: undefined,
    virtualServers: [vs],
    services: {},
  };
}

describe('metrics collectors', () => {
  it('expose snapshots as Prometheus series, recomputed at each scrape', async () => {
    let conns = 10;
    const registry = new Registry();
    registerMetrics(registry, {
      status: () => status(conns),
      health: {
        counters: () => ({
          probes: 7,
          failures: 2,
          transitions: { up: 1, down: 1 },
          byType: { http: { probes: 7, failures: 2, transitions: 2 } } as never,
        }),
      },
    });
    const text = await registry.metrics();
    assert.match(text, /hastack_build_info\{version="9\.9\.9"\} 1/);
    assert.match(text, /# TYPE hastack_virtual_server_connections_total counter/);
    assert.match(
      text,
      /hastack_virtual_server_connections_total\{virtual_server="web",protocol="tcp",address="127\.0\.0\.1:8080"\} 10/,
    );
    assert.match(text, /hastack_real_server_up\{virtual_server="web",real_server="127\.0\.0\.1:8001"\} 1/);
    assert.match(
      text,
      /hastack_real_server_connect_failures_total\{virtual_server="web",real_server="127\.0\.0\.1:8001"\} 1/,
    );
    assert.match(text, /hastack_config_reload_failures_total 1/);
    assert.match(text, /hastack_health_probes_total\{type="http"\} 7/);
    assert.match(text, /hastack_health_transitions_total\{to="down"\} 1/);

    conns = 25;
    await new Promise((r) => setTimeout(r, 250));
    const again = await registry.metrics();
    assert.match(again, /hastack_virtual_server_connections_total\{[^}]*\} 25/);
    assert.doesNotMatch(
      again,
      /hastack_virtual_server_connections_total\{[^}]*\} 35/,
      'counters are replaced, not summed',
    );
  });
});
