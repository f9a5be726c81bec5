import type { ManagedService, ServiceMetricSpec } from '../runtime/services.ts';
import type { VrrpService } from './vrrp-service.ts';

/* Prometheus series of the vrrp component, read from its snapshot at scrape time. */

const STATE_VALUE: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 4 };

function instances(service: ManagedService) {
  return (service as VrrpService).snapshot().instances;
}

type InstanceView = ReturnType<typeof instances>[number];

/** A counter with one series per instance, read from the instance's snapshot. */
function perInstanceCounter(
  name: string,
  help: string,
  read: (i: InstanceView) => number,
): ServiceMetricSpec {
  return {
    name,
    help,
    kind: 'counter',
    labelNames: ['instance'],
    fill: (service, emit) => {
      for (const i of instances(service)) emit({ instance: i.name }, read(i));
    },
  };
}

export const vrrpMetrics: readonly ServiceMetricSpec[] = [
  {
    name: 'hastack_vrrp_state',
    help: 'VRRP instance state: 0 init, 1 backup, 2 master, 3 fault, 4 stop',
    kind: 'gauge',
    labelNames: ['instance'],
    fill: (service, emit) => {
      for (const i of instances(service)) emit({ instance: i.name }, STATE_VALUE[i.state] ?? 0);
    },
  },
  {
    name: 'hastack_vrrp_priority',
    help: 'VRRP priority (kind: effective or configured)',
    kind: 'gauge',
    labelNames: ['instance', 'kind'],
    fill: (service, emit) => {
      for (const i of instances(service)) {
        emit({ instance: i.name, kind: 'effective' }, i.priority);
        emit({ instance: i.name, kind: 'configured' }, i.configuredPriority);
      }
    },
  },
  perInstanceCounter(
    'hastack_vrrp_adverts_received_total',
    'VRRP advertisements received for the instance',
    (i) => i.counters.advertsReceived,
  ),
  perInstanceCounter(
    'hastack_vrrp_adverts_sent_total',
    'VRRP advertisements sent by the instance',
    (i) => i.counters.advertsSent,
  ),
  {
    name: 'hastack_vrrp_adverts_dropped_total',
    help: 'VRRP advertisements dropped, by reason (ttl, vrid, auth, address-count, interval, checksum...)',
    kind: 'counter',
    labelNames: ['instance', 'reason'],
    fill: (service, emit) => {
      for (const i of instances(service)) {
        for (const [reason, n] of Object.entries(i.drops)) emit({ instance: i.name, reason }, n);
      }
    },
  },
  perInstanceCounter(
    'hastack_vrrp_became_master_total',
    'Transitions of the instance to MASTER',
    (i) => i.counters.becameMaster,
  ),
  perInstanceCounter(
    'hastack_vrrp_vip_lease_renewals_total',
    'Renewals of the VIP lease (kernel address lifetime) while MASTER',
    (i) => i.counters.leaseRenewals,
  ),
  perInstanceCounter(
    'hastack_vrrp_vip_lease_lapses_total',
    'Times a MASTER found its VIP lease run out (process stopped or stalled) and went BACKUP',
    (i) => i.counters.leaseLapses,
  ),
];
