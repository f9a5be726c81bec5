import { formatHostPort } from '../../core/address.ts';
import type { RealServerSnapshot, SorryServerSnapshot, VirtualServerSnapshot } from '../../l4/snapshot.ts';
import type { RuntimeStatus } from '../../runtime/status.ts';
import { ADMIN_OPTIONS, adminRequest, resolveAdmin } from '../admin-client.ts';
import type { CliIo } from '../cli-io.ts';
import {
  formatStatus,
  type StatusRealServer,
  type StatusView,
  type StatusVirtualServer,
} from '../format-status.ts';
import { parseCommandArgs } from '../parse-command-args.ts';
import { serviceStatusFormatters } from '../service-status.ts';

/** `hastack status [--json] [--stats] [--rate] [-v]`: the table of `ipvsadm -Ln`, from the admin API. */
export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, {
    ...ADMIN_OPTIONS,
    json: { type: 'boolean' },
    stats: { type: 'boolean' },
    rate: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
  });
  const status = await adminRequest<RuntimeStatus>(await resolveAdmin(values), 'GET', '/status');
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  const view: StatusView = values.rate === true ? 'rate' : values.stats === true ? 'stats' : 'table';
  if (status.virtualServers.length > 0 || Object.keys(status.services ?? {}).length === 0) {
    io.stdout.write(formatStatus(status.virtualServers.map(toStatusRow), view, values.verbose === true));
  }
  for (const [key, snapshot] of Object.entries(status.services ?? {})) {
    const format = serviceStatusFormatters[key];
    const text = format === undefined ? `${key}: ${JSON.stringify(snapshot)}` : format(snapshot);
    io.stdout.write(`\n${text.endsWith('\n') ? text : `${text}\n`}`);
  }
  for (const [key, why] of Object.entries(status.unavailable ?? {})) {
    io.stdout.write(`\n${key}: NOT RUNNING: ${why.message} [${why.code}]\n`);
  }
  return 0;
}

export function toStatusRow(vs: VirtualServerSnapshot): StatusVirtualServer {
  const rows: StatusRealServer[] = vs.realServers.map(realServerRow);
  if (vs.sorryServer !== undefined) rows.push(sorryRow(vs.sorryServer));
  const notes = [
    `name ${vs.name}; quorum ${vs.quorumUp ? 'up' : 'DOWN'} (live weight ${vs.liveWeight}, quorum ${vs.quorum}±${vs.hysteresis})` +
      (vs.sorryServer === undefined ? '' : `; sorry server ${vs.sorryActive ? 'ACTIVE' : 'standby'}`),
  ];
  return {
    name: vs.name,
    protocol: vs.protocol,
    address: formatHostPort(vs.host, vs.port),
    scheduler: vs.scheduler + (vs.flags.length > 0 ? ` (${vs.flags.join(',')})` : ''),
    persistenceTimeoutMs: vs.persistenceTimeoutMs,
    persistenceGranularity: vs.persistenceGranularity,
    stats: vs.stats,
    rates: vs.rates,
    realServers: rows,
    notes,
  };
}

function realServerRow(rs: RealServerSnapshot): StatusRealServer {
  const state = [rs.up ? 'up' : 'DOWN'];
  if (rs.draining) state.push('draining');
  if (rs.removed) state.push('removed');
  if (rs.overloaded) state.push('overloaded');
  if (rs.adminWeight !== undefined) state.push(`admin weight ${rs.adminWeight}`);
  if (rs.dynamicWeight !== undefined) state.push(`dynamic weight ${rs.dynamicWeight}`);
  const checks = rs.health?.checks.map(
    (c) => `${c.type} ${c.up ? 'ok' : 'failing'}${c.lastResult ? ` (${c.lastResult.message})` : ''}`,
  );
  return {
    address: rs.key,
    forward: rs.forward,
    weight: rs.weight,
    activeConns: rs.activeConns,
    inactiveConns: rs.inactiveConns,
    stats: rs.stats,
    rates: rs.rates,
    inTable: rs.inTable,
    health: `${state.join(', ')}${checks && checks.length > 0 ? `: ${checks.join('; ')}` : ''}`,
  };
}

function sorryRow(s: SorryServerSnapshot): StatusRealServer {
  return {
    address: s.key,
    forward: s.forward,
    weight: s.weight,
    activeConns: s.activeConns,
    inactiveConns: s.inactiveConns,
    stats: s.stats,
    rates: s.rates,
    inTable: s.inTable,
    health: `sorry server, ${s.active ? 'ACTIVE' : 'standby'}`,
  };
}
