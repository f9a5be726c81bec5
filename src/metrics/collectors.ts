import { Counter, Gauge, type Registry } from 'prom-client';
import type { HealthTotals } from '../health/types.ts';
import type { RuntimeStatus } from '../runtime/status.ts';

/** What the collectors read at scrape time; the runtime implements it. */
export interface MetricsSource {
  status(): RuntimeStatus;
  readonly health: { counters(): HealthTotals } | undefined;
}

/*
 * Metrics are pulled from component snapshots when Prometheus scrapes, so the data
 * path only bumps plain counters. Names follow prometheus conventions and mirror
 * what ipvsadm --stats shows (conns, packets, bytes) per virtual and real server.
 */
export function registerMetrics(registry: Registry, source: MetricsSource): void {
  // One snapshot per scrape, shared by all collectors of that scrape.
  let cached: { at: number; status: RuntimeStatus } | undefined;
  const status = (): RuntimeStatus => {
    const now = performance.now();
    if (cached === undefined || now - cached.at > 200) cached = { at: now, status: source.status() };
    return cached.status;
  };

  const vsLabels = ['virtual_server', 'protocol', 'address'] as const;
  const rsLabels = ['virtual_server', 'real_server'] as const;

  const counter = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (c: Counter<L>) => void,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: Gauge<L>) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });

  gauge('hastack_build_info', 'hastack version', ['version'], (g) => g.set({ version: status().version }, 1));
  gauge('hastack_uptime_seconds', 'Seconds since hastack started', [], (g) => g.set(status().uptimeSeconds));
  counter('hastack_config_reloads_total', 'Successful configuration reloads', [], (c) =>
    c.inc(status().reloads.count),
  );
  counter('hastack_config_reload_failures_total', 'Rejected configuration reloads', [], (c) =>
    c.inc(status().reloads.failures),
  );

  const vsLabel = (vs: RuntimeStatus['virtualServers'][number]) => ({
    virtual_server: vs.name,
    protocol: vs.protocol,
    address: `${vs.host}:${vs.port}`,
  });
  gauge('hastack_virtual_server_up', 'Quorum state of the virtual server (1 up, 0 down)', vsLabels, (g) => {
    for (const vs of status().virtualServers) g.set(vsLabel(vs), vs.quorumUp ? 1 : 0);
  });
  gauge('hastack_virtual_server_sorry_active', 'Sorry server in use (1) or not (0)', vsLabels, (g) => {
    for (const vs of status().virtualServers) g.set(vsLabel(vs), vs.sorryActive ? 1 : 0);
  });
  gauge('hastack_virtual_server_live_weight', 'Sum of the weights of live real servers', vsLabels, (g) => {
    for (const vs of status().virtualServers) g.set(vsLabel(vs), vs.liveWeight);
  });
  gauge(
    'hastack_virtual_server_active_connections',
    'Established proxied connections (IPVS ActiveConn)',
    vsLabels,
    (g) => {
      for (const vs of status().virtualServers) g.set(vsLabel(vs), vs.connections.active);
    },
  );
  gauge(
    'hastack_virtual_server_inactive_connections',
    'Half-closed proxied connections (IPVS InActConn)',
    vsLabels,
    (g) => {
      for (const vs of status().virtualServers) g.set(vsLabel(vs), vs.connections.inactive);
    },
  );
  counter('hastack_virtual_server_connections_total', 'Connections accepted', vsLabels, (c) => {
    for (const vs of status().virtualServers) c.inc(vsLabel(vs), vs.stats.conns);
  });
  counter('hastack_virtual_server_bytes_in_total', 'Bytes from clients', vsLabels, (c) => {
    for (const vs of status().virtualServers) c.inc(vsLabel(vs), vs.stats.inBytes);
  });
  counter('hastack_virtual_server_bytes_out_total', 'Bytes to clients', vsLabels, (c) => {
    for (const vs of status().virtualServers) c.inc(vsLabel(vs), vs.stats.outBytes);
  });
  counter(
    'hastack_virtual_server_no_destination_total',
    'Clients turned away: no server could take them',
    vsLabels,
    (c) => {
      for (const vs of status().virtualServers) c.inc(vsLabel(vs), vs.noDestination);
    },
  );

  const eachRs = (
    fn: (
      labels: Record<(typeof rsLabels)[number], string>,
      rs: RuntimeStatus['virtualServers'][number]['realServers'][number],
    ) => void,
  ) => {
    for (const vs of status().virtualServers) {
      for (const rs of vs.realServers) fn({ virtual_server: vs.name, real_server: rs.key }, rs);
    }
  };
  gauge('hastack_real_server_up', 'Health of the real server (1 up, 0 down)', rsLabels, (g) =>
    eachRs((l, rs) => g.set(l, rs.up ? 1 : 0)),
  );
  gauge('hastack_real_server_weight', 'Effective weight used by the scheduler', rsLabels, (g) =>
    eachRs((l, rs) => g.set(l, rs.weight)),
  );
  gauge(
    'hastack_real_server_active_connections',
    'Established connections (IPVS ActiveConn)',
    rsLabels,
    (g) => eachRs((l, rs) => g.set(l, rs.activeConns)),
  );
  gauge(
    'hastack_real_server_inactive_connections',
    'Half-closed connections (IPVS InActConn)',
    rsLabels,
    (g) => eachRs((l, rs) => g.set(l, rs.inactiveConns)),
  );
  counter('hastack_real_server_connections_total', 'Connections sent to the real server', rsLabels, (c) =>
    eachRs((l, rs) => c.inc(l, rs.stats.conns)),
  );
  counter(
    'hastack_real_server_connect_failures_total',
    'Failed connects to the real server (retried elsewhere)',
    rsLabels,
    (c) => eachRs((l, rs) => c.inc(l, rs.connectFailures)),
  );
  counter('hastack_real_server_bytes_in_total', 'Bytes from clients to the real server', rsLabels, (c) =>
    eachRs((l, rs) => c.inc(l, rs.stats.inBytes)),
  );
  counter('hastack_real_server_bytes_out_total', 'Bytes from the real server to clients', rsLabels, (c) =>
    eachRs((l, rs) => c.inc(l, rs.stats.outBytes)),
  );

  counter('hastack_health_probes_total', 'Health probes run, by check type', ['type'], (c) => {
    const totals = source.health?.counters();
    if (totals !== undefined)
      for (const [type, t] of Object.entries(totals.byType)) c.inc({ type }, t.probes);
  });
  counter('hastack_health_probe_failures_total', 'Failed health probes, by check type', ['type'], (c) => {
    const totals = source.health?.counters();
    if (totals !== undefined)
      for (const [type, t] of Object.entries(totals.byType)) c.inc({ type }, t.failures);
  });
  counter('hastack_health_transitions_total', 'Real server health transitions', ['to'], (c) => {
    const totals = source.health?.counters();
    if (totals === undefined) return;
    c.inc({ to: 'up' }, totals.transitions.up);
    c.inc({ to: 'down' }, totals.transitions.down);
  });
}
