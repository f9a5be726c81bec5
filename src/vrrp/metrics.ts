import type { ManagedService, ServiceMetricSpec } from '../runtime/services.ts';
import type { VrrpService } from './vrrp-service.ts';

/* Prometheus series of the vrrp component, read from its snapshot at scrape time. */

const STATE_VALUE: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 4 };

function instances(service: ManagedService) {
  return (service as VrrpService).snapshot().instances;
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
  {
    name: 'hastack_vrrp_adverts_received_total',
    help: 'VRRP advertisements received for the instance',
    kind: 'counter',
    labelNames: ['instance'],
    fill: (service, emit) => {
      for (const i of instances(service)) emit({ instance: i.name }, i.counters.advertsReceived);
    },
  },
  {
    name: 'hastack_vrrp_adverts_sent_total',
    help: 'VRRP advertisements sent by the instance',
    kind: 'counter',
    labelNames: ['instance'],
    fill: (service, emit) => {
      for (const i of instances(service)) emit({ instance: i.name }, i.counters.advertsSent);
    },
  },
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
  {
    name: 'hastack_vrrp_became_master_total',
    help: 'Transitions of the instance to MASTER',
    kind: 'counter',
    labelNames: ['instance'],
    fill: (service, emit) => {
      for (const i of instances(service)) emit({ instance: i.name }, i.counters.becameMaster);
    },
  },
  {
    name: 'hastack_vrrp_vip_lease_renewals_total',
    help: 'Renewals of the VIP lease (kernel address lifetime) while MASTER',
    kind: 'counter',
    labelNames: ['instance'],
    fill: (service, emit) => {
      for (const i of instances(service)) emit({ instance: i.name }, i.counters.leaseRenewals);
    },
  },
  {
    name: 'hastack_vrrp_vip_lease_lapses_total',
    help: 'Times a MASTER found its VIP lease run out (process stopped or stalled) and went BACKUP',
    kind: 'counter',
    labelNames: ['instance'],
    fill: (service, emit) => {
      for (const i of instances(service)) emit({ instance: i.name }, i.counters.leaseLapses);
    },
  },
];
