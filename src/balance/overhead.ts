import type { Destination } from './types.ts';

/**
 * IPVS `ip_vs_dest_conn_overhead`: an active connection is assumed to cost 256
 * times an inactive one. lc, wlc, lblc, lblcr and twos compare this number.
 */
export function connOverhead(d: Destination): number {
  return d.activeConns * 256 + d.inactiveConns;
}
