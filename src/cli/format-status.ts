/*
 * `hastack status` tables in ipvsadm's exact layout (`ipvsadm -Ln`, `--stats`,
 * `--rate`), so scripts and eyes trained on ipvsadm read them unchanged. Pure.
 */

import type { TrafficRates, TrafficStats } from '../l4/snapshot.ts';

export interface StatusRealServer {
  /** host:port as ipvsadm prints it ([v6]:port for IPv6). */
  address: string;
  forward: string;
  weight: number;
  activeConns: number;
  inactiveConns: number;
  stats: TrafficStats;
  rates: TrafficRates;
  /** In IPVS's table? keepalived removes failed servers unless inhibit_on_failure. */
  inTable: boolean;
  /** Extra lines for --verbose. */
  health: string;
}

export interface StatusVirtualServer {
  name: string;
  protocol: 'tcp' | 'udp';
  address: string;
  scheduler: string;
  persistenceTimeoutMs: number;
  persistenceGranularity: number;
  stats: TrafficStats;
  rates: TrafficRates;
  realServers: StatusRealServer[];
  /** Extra facts for --verbose: quorum, sorry server. */
  notes: string[];
}

export type StatusView = 'table' | 'stats' | 'rate';

export const IPVS_BANNER = 'IP Virtual Server version 1.2.1 (size=4096)';

export function formatStatus(
  services: readonly StatusVirtualServer[],
  view: StatusView,
  verbose = false,
): string {
  const lines: string[] = [IPVS_BANNER];
  if (view === 'table') {
    lines.push('Prot LocalAddress:Port Scheduler Flags');
    lines.push('  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  } else {
    const cols =
      view === 'stats'
        ? ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes']
        : ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'];
    lines.push(`${'Prot LocalAddress:Port'.padEnd(33)}${cols.map((c) => ` ${c.padStart(8)}`).join('')}`);
    lines.push('  -> RemoteAddress:Port');
  }
  for (const vs of services) {
    const head = `${vs.protocol.toUpperCase().padEnd(4)} ${vs.address}`;
    if (view === 'table') lines.push(`${head} ${vs.scheduler}${serviceFlags(vs)}`);
    else lines.push(head.padEnd(33) + numbers(vs, view));
    for (const rs of vs.realServers) {
      if (!rs.inTable && !verbose) continue;
      const dest = `  -> ${rs.address.padEnd(28)}`;
      if (view === 'table') {
        // Trailing padding kept on purpose: byte-for-byte the same as ipvsadm.
        lines.push(
          `${dest} ${rs.forward.padEnd(7)} ${String(rs.weight).padEnd(6)} ${String(rs.activeConns).padEnd(10)} ${String(rs.inactiveConns).padEnd(10)}`,
        );
      } else {
        lines.push(dest + numbers(rs, view));
      }
      if (verbose) lines.push(`       ${rs.health}`);
    }
    if (verbose) for (const note of vs.notes) lines.push(`     ${note}`);
  }
  return `${lines.join('\n')}\n`;
}

function serviceFlags(vs: StatusVirtualServer): string {
  let flags = '';
  if (vs.persistenceTimeoutMs > 0) {
    flags += ` persistent ${Math.round(vs.persistenceTimeoutMs / 1000)}`;
    if (vs.persistenceGranularity < 32) flags += ` mask ${prefixToMask(vs.persistenceGranularity)}`;
  }
  return flags;
}

function numbers(row: { stats: TrafficStats; rates: TrafficRates }, view: StatusView): string {
  if (view === 'stats') {
    const s = row.stats;
    return ` ${num(s.conns)} ${num(s.inPkts)} ${num(s.outPkts)} ${largeNum(s.inBytes)} ${largeNum(s.outBytes)}`;
  }
  const r = row.rates;
  return ` ${num(r.cps)} ${num(r.inPps)} ${num(r.outPps)} ${largeNum(r.inBps)} ${largeNum(r.outBps)}`;
}

function num(n: number): string {
  return String(Math.round(n)).padStart(8);
}

/** ipvsadm shortens byte counts that do not fit 8 columns: K, M, G, T (powers of 1000). */
export function largeNum(n: number): string {
  let value = Math.round(n);
  if (value < 100_000_000) return String(value).padStart(8);
  for (const suffix of ['K', 'M', 'G', 'T']) {
    value = Math.floor(value / 1000);
    if (value < 100_000_000 || suffix === 'T') return `${String(value).padStart(8)}${suffix}`;
  }
  return String(value);
}

export function prefixToMask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
}
