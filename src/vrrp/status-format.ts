import type { VrrpSnapshot } from './vrrp-service.ts';

/*
 * `hastack status` text for the vrrp section: one line per instance in the
 * spirit of keepalived's data dump (state, effective/configured priority, the
 * master's address, counters), then drops, sync groups, scripts, track files and
 * track processes. Pure.
 */

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

export function formatVrrpStatus(snapshot: unknown): string {
  const s = snapshot as VrrpSnapshot;
  if (s === null || typeof s !== 'object' || !Array.isArray(s.instances)) return 'VRRP: no status\n';
  const lines: string[] = ['VRRP Instances'];
  lines.push(
    `${pad('Name', 16)}${pad('State', 8)}${pad('Prio', 10)}${pad('VRID', 6)}${pad('Ver', 4)}${pad('Interface', 12)}` +
      `${pad('Master', 18)}${pad('AdvIn', 8)}${pad('AdvOut', 8)}${pad('ToMaster', 9)}Drops`,
  );
  for (const i of s.instances) {
    const drops = Object.values(i.drops).reduce((a, b) => a + b, 0);
    const master =
      i.masterAddress === null ? '-' : i.state === 'MASTER' ? `${i.masterAddress}*` : i.masterAddress;
    lines.push(
      `${pad(i.name, 16)}${pad(i.state, 8)}${pad(`${i.priority}/${i.configuredPriority}`, 10)}${pad(String(i.vrid), 6)}` +
        `${pad(`v${i.version}`, 4)}${pad(i.interface, 12)}${pad(master, 18)}${pad(String(i.counters.advertsReceived), 8)}` +
        `${pad(String(i.counters.advertsSent), 8)}${pad(String(i.counters.becameMaster), 9)}${drops}`,
    );
  }
  for (const i of s.instances) {
    const details: string[] = [];
    details.push(
      `vips ${i.vips.join(', ') || '-'}${i.vipsInstalled ? ' (installed)' : ''} via ${i.vipBackend ?? 'iproute2'}`,
    );
    const lease = i.vipLease;
    if (lease === null || lease === undefined) details.push('lease off (permanent VIPs)');
    else {
      details.push(
        `lease ${lease.seconds}s${lease.renewedAgoMs === null ? '' : ` renewed ${lease.renewedAgoMs} ms ago`}, ` +
          `renewals ${lease.renewals}, lapses ${lease.lapses}` +
          (lease.renewErrors > 0 ? `, renew errors ${lease.renewErrors}` : ''),
      );
    }
    if (i.faultReason !== undefined) details.push(`fault: ${i.faultReason}`);
    const drops = Object.entries(i.drops).map(([k, v]) => `${k}=${v}`);
    if (drops.length > 0) details.push(`dropped ${drops.join(' ')}`);
    const c = i.counters;
    details.push(
      `prio0 rx ${c.priorityZeroReceived} tx ${c.priorityZeroSent}, released ${c.releasedMaster}, garps ${c.garpsSent}` +
        (c.sendErrors + c.ipErrors + c.garpErrors > 0
          ? `, errors send ${c.sendErrors} ip ${c.ipErrors} garp ${c.garpErrors}`
          : ''),
    );
    if (i.lastTransition !== null) {
      details.push(
        `last ${i.lastTransition.from}->${i.lastTransition.to} at ${i.lastTransition.at} (${i.lastTransition.reason})`,
      );
    }
    const t = i.lastTakeover;
    if (t !== null && t !== undefined) {
      const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);
      details.push(
        `last takeover ${t.at}: timer late ${ms(t.downTimerLateMs)}, VIPs ${ms(t.vipAddMs)}, first GARP ${ms(t.firstGarpMs)}`,
      );
    }
    lines.push(`  ${i.name}: ${details.join('; ')}`);
  }
  if (s.syncGroups.length > 0) {
    lines.push('VRRP Sync Groups');
    for (const g of s.syncGroups) lines.push(`  ${pad(g.name, 16)}${pad(g.state, 8)}${g.members.join(', ')}`);
  }
  if (s.scripts.length > 0) {
    lines.push('VRRP Scripts');
    for (const sc of s.scripts) {
      lines.push(
        `  ${pad(sc.name, 16)}${pad(sc.ok ? 'OK' : 'FAILED', 8)}runs ${sc.runs} failures ${sc.failures}`,
      );
    }
  }
  if (Array.isArray(s.files) && s.files.length > 0) {
    lines.push('VRRP Track Files');
    for (const f of s.files) {
      lines.push(
        `  ${pad(f.name, 16)}${pad(String(f.value), 8)}${f.path} (reads ${f.reads})${f.lastError === undefined ? '' : `: ${f.lastError}`}`,
      );
    }
  }
  if (Array.isArray(s.processes) && s.processes.length > 0) {
    lines.push('VRRP Track Processes');
    for (const p of s.processes) {
      lines.push(
        `  ${pad(p.name, 16)}${pad(p.up ? 'UP' : 'DOWN', 8)}${p.count} running, quorum ${p.quorum}..${p.quorumMax ?? 'any'}, ` +
          `via ${p.source}${p.pending === undefined ? '' : ` (pending ${p.pending})`}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
