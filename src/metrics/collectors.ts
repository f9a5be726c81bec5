import { Counter, Gauge, type Registry } from 'prom-client';
import type { HealthTotals } from '../health/types.ts';
import type { RealServerSnapshot, VirtualServerSnapshot } from '../l4/snapshot.ts';
import type { RuntimeStatus } from '../runtime/status.ts';

/** What the collectors read at scrape time; the runtime implements it. */
export interface MetricsSource {
  status(): RuntimeStatus;
  readonly health: { counters(): HealthTotals } | undefined;
}

type Kind = 'counter' | 'gauge';
type Labels = Record<string, string>;
type Emit = (labels: Labels, value: number) => void;

interface MetricSpec {
  name: string;
  help: string;
  kind: Kind;
  labelNames: readonly string[];
  /** Calls `emit` once per series from the scrape's snapshot. */
  fill(status: RuntimeStatus, emit: Emit): void;
}

const VS_LABELS = ['virtual_server', 'protocol', 'address'] as const;
const RS_LABELS = ['virtual_server', 'real_server'] as const;

function vsLabels(vs: VirtualServerSnapshot): Labels {
  return { virtual_server: vs.name, protocol: vs.protocol, address: `${vs.host}:${vs.port}` };
}

/** A metric with one series per virtual server. */
function perVs(
  name: string,
  help: string,
  kind: Kind,
  value: (vs: VirtualServerSnapshot) => number,
): MetricSpec {
  return {
    name,
    help,
    kind,
    labelNames: VS_LABELS,
    fill: (status, emit) => {
      for (const vs of status.virtualServers) emit(vsLabels(vs), value(vs));
    },
  };
}

/** A metric with one series per real server. */
function perRs(
  name: string,
  help: string,
  kind: Kind,
  value: (rs: RealServerSnapshot) => number,
): MetricSpec {
  return {
    name,
    help,
    kind,
    labelNames: RS_LABELS,
    fill: (status, emit) => {
      for (const vs of status.virtualServers) {
        for (const rs of vs.realServers) emit({ virtual_server: vs.name, real_server: rs.key }, value(rs));
      }
    },
  };
}

function single(name: string, help: string, kind: Kind, value: (s: RuntimeStatus) => number): MetricSpec {
  return { name, help, kind, labelNames: [], fill: (status, emit) => emit({}, value(status)) };
}

const SPECS: readonly MetricSpec[] = [
  {
    name: 'hastack_build_info',
    help: 'hastack version',
    kind: 'gauge',
    labelNames: ['version'],
    fill: (s, emit) => emit({ version: s.version }, 1),
  },
  single('hastack_uptime_seconds', 'Seconds since hastack started', 'gauge', (s) => s.uptimeSeconds),
  single(
    'hastack_config_reloads_total',
    'Successful configuration reloads',
    'counter',
    (s) => s.reloads.count,
  ),
  single(
    'hastack_config_reload_failures_total',
    'Rejected configuration reloads',
    'counter',
    (s) => s.reloads.failures,
  ),

  perVs(
    'hastack_virtual_server_up',
    'Quorum state of the virtual server (1 up, 0 down)',
    'gauge',
    (vs) => +vs.quorumUp,
  ),
  perVs(
    'hastack_virtual_server_sorry_active',
    'Sorry server in use (1) or not (0)',
    'gauge',
    (vs) => +vs.sorryActive,
  ),
  perVs(
    'hastack_virtual_server_live_weight',
    'Sum of the weights of live real servers',
    'gauge',
    (vs) => vs.liveWeight,
  ),
  perVs(
    'hastack_virtual_server_active_connections',
    'Established connections (IPVS ActiveConn)',
    'gauge',
    (vs) => vs.connections.active,
  ),
  perVs(
    'hastack_virtual_server_inactive_connections',
    'Half-closed connections (IPVS InActConn)',
    'gauge',
    (vs) => vs.connections.inactive,
  ),
  perVs(
    'hastack_virtual_server_connections_total',
    'Connections accepted',
    'counter',
    (vs) => vs.stats.conns,
  ),
  perVs('hastack_virtual_server_bytes_in_total', 'Bytes from clients', 'counter', (vs) => vs.stats.inBytes),
  perVs('hastack_virtual_server_bytes_out_total', 'Bytes to clients', 'counter', (vs) => vs.stats.outBytes),
  perVs(
    'hastack_virtual_server_no_destination_total',
    'Clients turned away: no server could take them',
    'counter',
    (vs) => vs.noDestination,
  ),
  perVs(
    'hastack_virtual_server_backpressure_pauses_total',
    'Reads paused because the other side was slow',
    'counter',
    (vs) => vs.backpressurePauses,
  ),

  perRs('hastack_real_server_up', 'Health of the real server (1 up, 0 down)', 'gauge', (rs) => +rs.up),
  perRs('hastack_real_server_weight', 'Effective weight used by the scheduler', 'gauge', (rs) => rs.weight),
  perRs(
    'hastack_real_server_active_connections',
    'Established connections (IPVS ActiveConn)',
    'gauge',
    (rs) => rs.activeConns,
  ),
  perRs(
    'hastack_real_server_inactive_connections',
    'Half-closed connections (IPVS InActConn)',
    'gauge',
    (rs) => rs.inactiveConns,
  ),
  perRs(
    'hastack_real_server_connections_total',
    'Connections sent to the real server',
    'counter',
    (rs) => rs.stats.conns,
  ),
  perRs(
    'hastack_real_server_connect_failures_total',
    'Failed connects (retried elsewhere)',
    'counter',
    (rs) => rs.connectFailures,
  ),
  perRs(
    'hastack_real_server_bytes_in_total',
    'Bytes from clients to the real server',
    'counter',
    (rs) => rs.stats.inBytes,
  ),
  perRs(
    'hastack_real_server_bytes_out_total',
    'Bytes from the real server to clients',
    'counter',
    (rs) => rs.stats.outBytes,
  ),
];

/*
 * Metrics are pulled from component snapshots when Prometheus scrapes, so the data
 * path only bumps plain counters. Names mirror what ipvsadm --stats shows.
 */
export function registerMetrics(registry: Registry, source: MetricsSource): void {
  // One snapshot per scrape, shared by all collectors of that scrape.
  let cached: { at: number; status: RuntimeStatus } | undefined;
  const status = (): RuntimeStatus => {
    const now = performance.now();
    if (cached === undefined || now - cached.at > 200) cached = { at: now, status: source.status() };
    return cached.status;
  };
  for (const spec of SPECS) register(registry, spec, status);

  const health = (): HealthTotals | undefined => source.health?.counters();
  const perType =
    (pick: (t: HealthTotals['byType'][keyof HealthTotals['byType']]) => number) => (emit: Emit) => {
      const totals = health();
      if (totals !== undefined)
        for (const [type, t] of Object.entries(totals.byType)) emit({ type }, pick(t));
    };
  registerPull(
    registry,
    'hastack_health_probes_total',
    'Health probes run, by check type',
    'counter',
    ['type'],
    perType((t) => t.probes),
  );
  registerPull(
    registry,
    'hastack_health_probe_failures_total',
    'Failed health probes, by check type',
    'counter',
    ['type'],
    perType((t) => t.failures),
  );
  registerPull(
    registry,
    'hastack_health_transitions_total',
    'Real server health transitions',
    'counter',
    ['to'],
    (emit) => {
      const totals = health();
      if (totals === undefined) return;
      emit({ to: 'up' }, totals.transitions.up);
      emit({ to: 'down' }, totals.transitions.down);
    },
  );
}

function register(registry: Registry, spec: MetricSpec, status: () => RuntimeStatus): void {
  registerPull(registry, spec.name, spec.help, spec.kind, spec.labelNames, (emit) =>
    spec.fill(status(), emit),
  );
}

/** A prom-client metric whose series are rebuilt from scratch at every scrape. */
export function registerPull(
  registry: Registry,
  name: string,
  help: string,
  kind: Kind,
  labelNames: readonly string[],
  fill: (emit: Emit) => void,
): void {
  const options = { name, help, labelNames, registers: [registry] };
  if (kind === 'counter') {
    new Counter({
      ...options,
      collect() {
        this.reset();
        fill((labels, value) => this.inc(labels, value));
      },
    });
  } else {
    new Gauge({
      ...options,
      collect() {
        this.reset();
        fill((labels, value) => this.set(labels, value));
      },
    });
  }
}
