import type { DbServerSnapshot, DbServiceSnapshot, ReplicaStatus, SourceStatus } from './status-types.ts';

/*
 * Text views of a database server's status in the layout MySQL users know:
 * SHOW MASTER STATUS and SHOW BINARY LOGS for the source side, SHOW REPLICAS,
 * and SHOW REPLICA STATUS\G (vertical, right-aligned field names).
 */

export function formatDatabaseStatus(snapshot: unknown): string {
  const s = snapshot as DbServiceSnapshot | null;
  if (s === null || typeof s !== 'object' || !Array.isArray(s.servers))
    return `database: ${JSON.stringify(snapshot)}\n`;
  return s.servers.map(formatServer).join('\n');
}

export function formatServer(s: DbServerSnapshot): string {
  const lines = [
    `database server ${s.name}: ${s.role.toUpperCase()}${s.readOnly ? ' (read-only)' : ''}, server_id ${s.serverId}, server_uuid ${s.serverUuid}`,
    `  api ${s.http}   replication ${s.replicationListen}   data_dir ${s.dataDir}`,
  ];
  let out = `${lines.join('\n')}\n`;
  if (s.source !== undefined && (s.role === 'source' || s.source.binlogs.length > 0))
    out += formatSource(s.source, s.role === 'source');
  if (s.replica !== undefined) out += formatReplica(s.replica);
  return out;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`;
  return line(header) + rows.map(line).join('');
}

export function formatSource(s: SourceStatus, isSource: boolean): string {
  let out = '\nSHOW MASTER STATUS\n';
  out += table(
    ['File', 'Position', 'Binlog_Format', 'Executed_Gtid_Set'],
    [[s.file, String(s.position), s.binlogFormat, s.executedGtidSet]],
  );
  out += '\nSHOW BINARY LOGS\n';
  out += table(
    ['Log_name', 'File_size'],
    s.binlogs.map((b) => [b.name, String(b.size)]),
  );
  if (s.purgedGtidSet !== '') out += `  Gtid_Purged: ${s.purgedGtidSet}\n`;
  if (!isSource) return out;
  const ss = s.semiSync;
  out += `\nSemi-sync: Rpl_semi_sync_source_enabled ${ss.enabled ? 'ON' : 'OFF'}, Rpl_semi_sync_source_status ${ss.status}, clients ${ss.clients}, yes_tx ${ss.yesTx}, no_tx ${ss.noTx}, timeouts ${ss.timeouts}, wait_for_replica_count ${ss.waitForReplicaCount}, timeout ${ss.timeoutMs} ms\n`;
  if (ss.enabled && ss.status === 'OFF')
    out += '  semi-sync fell back to ASYNCHRONOUS replication (no replica acknowledged in time)\n';
  if (s.counters !== undefined)
    out += `Transactions ${s.counters.transactions}, statements ${s.counters.statements}, Query events ${s.counters.queryEvents}, Rows events ${s.counters.rowsEvents}, unsafe statements logged as text ${s.counters.unsafeStatements}, rolled back ${s.counters.rolledBack}\n`;
  out += '\nSHOW REPLICAS\n';
  out +=
    s.replicas.length === 0
      ? '  (no replica connected)\n'
      : table(
          ['Server_Id', 'Name', 'Host', 'Semi_Sync', 'Sent', 'Acked', 'Replica_UUID'],
          s.replicas.map((r) => [
            String(r.serverId),
            r.name,
            r.address,
            r.semiSync ? 'Yes' : 'No',
            `${r.sent.file}:${r.sent.pos}`,
            r.acked === undefined ? '-' : `${r.acked.file}:${r.acked.pos}`,
            r.serverUuid,
          ]),
        );
  return out;
}

export function formatReplica(r: ReplicaStatus): string {
  const ioState =
    r.ioRunning === 'Yes'
      ? 'Waiting for source to send event'
      : r.ioRunning === 'Connecting'
        ? 'Connecting to source'
        : '';
  const lastError = r.lastSqlError ?? r.lastIoError;
  const fields: [string, string][] = [
    ['Replica_IO_State', ioState],
    ['Source_Host', r.sourceHost],
    ['Source_Port', String(r.sourcePort)],
    ['Connect_Retry', String(r.connectRetryMs / 1000)],
    ['Source_Log_File', r.sourceLogFile],
    ['Read_Source_Log_Pos', String(r.readSourceLogPos)],
    ['Relay_Log_File', r.relayLogFile],
    ['Relay_Log_Pos', String(r.relayLogPos)],
    ['Relay_Source_Log_File', r.relaySourceLogFile],
    ['Replica_IO_Running', r.ioRunning],
    ['Replica_SQL_Running', r.sqlRunning],
    ['Last_Errno', String(lastError?.errno ?? 0)],
    ['Last_Error', lastError?.message ?? ''],
    ['Exec_Source_Log_Pos', String(r.execSourceLogPos)],
    ['Relay_Log_Space', String(r.relayLogSpace)],
    ['Seconds_Behind_Source', r.secondsBehindSource === null ? 'NULL' : String(r.secondsBehindSource)],
    ['Last_IO_Errno', String(r.lastIoError?.errno ?? 0)],
    ['Last_IO_Error', r.lastIoError === undefined ? '' : `${r.lastIoError.message} [${r.lastIoError.code}]`],
    ['Last_SQL_Errno', String(r.lastSqlError?.errno ?? 0)],
    [
      'Last_SQL_Error',
      r.lastSqlError === undefined ? '' : `${r.lastSqlError.message} [${r.lastSqlError.code}]`,
    ],
    ['Source_Server_Id', r.sourceServerId === null ? '' : String(r.sourceServerId)],
    ['Source_UUID', r.sourceUuid ?? ''],
    ['Last_IO_Error_Timestamp', r.lastIoError?.at ?? ''],
    ['Last_SQL_Error_Timestamp', r.lastSqlError?.at ?? ''],
    ['Retrieved_Gtid_Set', r.retrievedGtidSet],
    ['Executed_Gtid_Set', r.executedGtidSet],
    ['Auto_Position', r.autoPosition ? '1' : '0'],
    ['Applied_Transactions', String(r.appliedTransactions)],
    [
      'Replica_Lag_Ms',
      r.lag.samples === 0
        ? ''
        : `p50 ${r.lag.p50Ms}, p99 ${r.lag.p99Ms}, max ${r.lag.maxMs} (last ${r.lag.samples})`,
    ],
    ['IO_Reconnects', String(r.ioReconnects)],
  ];
  const width = Math.max(...fields.map(([k]) => k.length));
  return `\nSHOW REPLICA STATUS\n*************************** 1. row ***************************\n${fields
    .map(([k, v]) => `${k.padStart(width + 2)}: ${v}`)
    .join('\n')}\n`;
}
