import type { ServiceMetricSpec } from '../runtime/services.ts';
import type { DatabaseService } from './db-service.ts';

/* Prometheus metrics of the database servers, read from snapshots at scrape time. */

function each(
  service: unknown,
  fn: (
    s: ReturnType<DatabaseService['snapshot']>['servers'][number],
    emit: (l: Record<string, string>, v: number) => void,
  ) => void,
) {
  return (emit: (l: Record<string, string>, v: number) => void) => {
    for (const s of (service as DatabaseService).snapshot().servers) fn(s, emit);
  };
}

export const databaseMetrics: readonly ServiceMetricSpec[] = [
  {
    name: 'hastack_db_is_source',
    help: '1 when the server is the writable source, 0 for a replica',
    kind: 'gauge',
    labelNames: ['server'],
    fill: (svc, emit) => each(svc, (s, e) => e({ server: s.name }, s.role === 'source' ? 1 : 0))(emit),
  },
  {
    name: 'hastack_db_transactions_total',
    help: 'Transactions committed and logged by the source',
    kind: 'counter',
    labelNames: ['server'],
    fill: (svc, emit) =>
      each(svc, (s, e) => {
        if (s.source?.counters !== undefined) e({ server: s.name }, s.source.counters.transactions);
      })(emit),
  },
  {
    name: 'hastack_db_replica_seconds_behind_source',
    help: 'Seconds_Behind_Source (absent while a replica thread is stopped)',
    kind: 'gauge',
    labelNames: ['server'],
    fill: (svc, emit) =>
      each(svc, (s, e) => {
        const b = s.replica?.secondsBehindSource;
        if (b !== undefined && b !== null) e({ server: s.name }, b);
      })(emit),
  },
  {
    name: 'hastack_db_replica_threads_running',
    help: 'Replica I/O and SQL threads running (1) or not (0)',
    kind: 'gauge',
    labelNames: ['server', 'thread'],
    fill: (svc, emit) =>
      each(svc, (s, e) => {
        if (s.replica === undefined) return;
        e({ server: s.name, thread: 'io' }, s.replica.ioRunning === 'Yes' ? 1 : 0);
        e({ server: s.name, thread: 'sql' }, s.replica.sqlRunning === 'Yes' ? 1 : 0);
      })(emit),
  },
  {
    name: 'hastack_db_semi_sync_on',
    help: 'Semi-sync status of the source: 1 ON, 0 OFF (fell back to async or disabled)',
    kind: 'gauge',
    labelNames: ['server'],
    fill: (svc, emit) =>
      each(svc, (s, e) => {
        if (s.role === 'source' && s.source !== undefined)
          e({ server: s.name }, s.source.semiSync.status === 'ON' ? 1 : 0);
      })(emit),
  },
];
