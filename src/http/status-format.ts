import type { EngineSnapshot } from './snapshot.ts';

/*
 * `hastack status` text for the proxy, laid out like HAProxy's stats page
 * (frontend, then backends with one row per server: status, weight, current
 * requests, totals and response classes). Pure.
 */

function row(cells: (string | number)[], widths: number[]): string {
  return cells
    .map((c, i) => {
      const text = String(c);
      return i === 0 ? text.padEnd(widths[i]!) : text.padStart(widths[i]!);
    })
    .join(' ')
    .trimEnd();
}

export function formatHttpStatus(snapshot: unknown): string {
  const s = snapshot as EngineSnapshot | undefined;
  if (s === undefined || s === null || !Array.isArray(s.listeners)) return 'HTTP proxy: not running';
  const lines: string[] = [];
  for (const l of s.listeners) {
    const proto = l.tls ? (l.http2 ? 'https h2,http/1.1' : 'https') : 'http';
    const spilled = l.stats.spilledResponses > 0 ? `  spilled ${l.stats.spilledResponses}` : '';
    lines.push(
      `HTTP frontend ${l.name} ${l.address} (${proto}, workers ${s.workers})  conns ${l.stats.connections} cur ${l.stats.activeConnections}  req ${l.stats.requests}  bad ${l.stats.badRequests}${spilled}`,
    );
    const w = [18, 6, 8, 8, 8, 8, 8, 8];
    lines.push(
      `  ${row(['Route', 'Req', '2xx', '3xx', '4xx', '5xx', 'None', 'Retries'], w)}  Match -> Action`,
    );
    for (const r of l.routes) {
      const x = r.stats;
      lines.push(
        `  ${row([r.name, x.requests, x.responses[2]!, x.responses[3]!, x.responses[4]!, x.responses[5]!, x.responses[0]!, x.retries], w)}  ${r.match} -> ${r.action}`,
      );
    }
    const u = l.unmatched;
    if (u.requests > 0)
      lines.push(
        `  ${row(['(no route: 404)', u.requests, 0, 0, u.responses[4]!, u.responses[5]!, u.responses[0]!, 0], w)}`,
      );
  }
  for (const p of s.pools) {
    lines.push(
      `HTTP backend ${p.name} (${p.scheduler}, ${p.keepalive ? 'keepalive' : 'no keepalive'})  req ${p.requests}  retries ${p.retries}  no-server ${p.noServer}`,
    );
    const w = [24, 7, 8, 6, 6, 9, 8, 8, 7, 7, 7, 7, 7];
    lines.push(
      `  ${row(['-> Server', 'Status', 'Weight', 'Cur', 'Idle', 'Requests', 'Fails', 'Retries', 'Eject', '2xx', '3xx', '4xx', '5xx'], w)}`,
    );
    for (const x of p.servers) {
      const status = !x.healthy ? 'DOWN' : x.ejected ? 'EJECT' : x.effectiveWeight < x.weight ? 'SLOW' : 'UP';
      const weight =
        x.effectiveWeight < x.weight && x.healthy && !x.ejected
          ? `${x.effectiveWeight}/${x.weight}`
          : String(x.weight);
      lines.push(
        `  ${row([`-> ${x.address}`, status, weight, x.active, x.idle, x.requests, x.failures, x.retries, x.ejections, x.responses[2] ?? 0, x.responses[3] ?? 0, x.responses[4] ?? 0, x.responses[5] ?? 0], w)}`,
      );
    }
  }
  return lines.join('\n');
}
