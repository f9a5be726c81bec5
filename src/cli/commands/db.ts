import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadYamlConfigFile } from '../../config/load-config.ts';
import { formatHostPort } from '../../core/address.ts';
import { errorMessage, HastackError } from '../../core/errors.ts';
import { formatBinlogDump } from '../../db/binlog-dump.ts';
import { DbClient } from '../../db/client.ts';
import { dbRequest, type ServerTarget } from '../../db/http-client.ts';
import { promoteCluster } from '../../db/promote.ts';
import { formatServer } from '../../db/status-format.ts';
import type { DbServerSnapshot } from '../../db/status-types.ts';
import type { CliIo } from '../cli-io.ts';
import { CliUsageError } from '../cli-usage-error.ts';
import { parseCommandArgs } from '../parse-command-args.ts';

export const DB_USAGE = `Usage: hastack db COMMAND [options]

  status [NAME] [--json]                   SHOW MASTER STATUS, binary logs, SHOW REPLICA STATUS of each server
  replica start|stop [NAME] [--io|--sql]   START / STOP REPLICA [IO_THREAD | SQL_THREAD]
  replica reset [NAME] [--all]             RESET REPLICA [ALL] (threads must be stopped)
  replica source NAME HOST:PORT            CHANGE REPLICATION SOURCE TO (auto-position by GTID)
  promote [NAME]                           fail over to NAME or the most advanced replica; re-point the others
  binlog dump FILE [-v] [--start-position N] [--stop-position N]
                                           print a binary or relay log file like mysqlbinlog
  binlog rotate|purge [NAME] [--to FILE]   FLUSH BINARY LOGS / PURGE BINARY LOGS TO FILE
  checksum                                 content checksum of every server (replicas must match the source)
  sql "STATEMENT" [--write] [--source]     run a statement (reads go to a replica unless --source)

Servers (every command but binlog dump):
  -c FILE          the database section of this config (servers and cluster)
  --server URL     a server's HTTP API, as NAME=URL or URL; repeatable (default $HASTACK_DB, comma-separated)
  --token TOKEN    bearer token (default $HASTACK_DB_TOKEN)
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  server: { type: 'string', multiple: true },
  token: { type: 'string' },
  json: { type: 'boolean' },
  io: { type: 'boolean' },
  sql: { type: 'boolean' },
  all: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  'start-position': { type: 'string' },
  'stop-position': { type: 'string' },
  to: { type: 'string' },
  write: { type: 'boolean' },
  source: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `hastack db ...`: status and control of the replicated database through its servers' HTTP APIs. */
export async function dbCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, true);
  const [sub, ...rest] = positionals;
  if (values.help === true || sub === undefined || sub === 'help') {
    io.stdout.write(DB_USAGE);
    return sub === undefined && values.help !== true ? 2 : 0;
  }
  if (sub === 'binlog' && rest[0] === 'dump') return binlogDump(rest.slice(1), values, io);

  const { servers, token } = await resolveServers(values);
  const req = { token, timeoutMs: 10_000 };
  const pick = (name: string | undefined): ServerTarget => {
    if (name === undefined) {
      if (servers.length === 1) return servers[0]!;
      throw new CliUsageError(`name the server (${servers.map((s) => s.name).join(', ')})`);
    }
    const t = servers.find((s) => s.name === name);
    if (t === undefined)
      throw new CliUsageError(`no server named "${name}" (${servers.map((s) => s.name).join(', ')})`);
    return t;
  };
  const thread = values.io === true ? 'io' : values.sql === true ? 'sql' : undefined;

  switch (sub) {
    case 'status': {
      const targets = rest[0] === undefined ? servers : [pick(rest[0])];
      const all = await Promise.all(
        targets.map(async (t) => {
          try {
            return { t, s: await dbRequest<DbServerSnapshot>(t, 'GET', '/db/status', undefined, req) };
          } catch (err) {
            return { t, error: errorMessage(err) };
          }
        }),
      );
      if (values.json === true) {
        io.stdout.write(
          `${JSON.stringify(
            all.map((x) => ('s' in x ? x.s : { name: x.t.name, error: x.error })),
            null,
            2,
          )}\n`,
        );
      } else {
        io.stdout.write(
          all
            .map((x) =>
              's' in x ? formatServer(x.s!) : `database server ${x.t.name}: UNREACHABLE (${x.error})\n`,
            )
            .join('\n'),
        );
      }
      return all.some((x) => 'error' in x) ? 1 : 0;
    }
    case 'replica': {
      const [action, name, address] = rest;
      if (action === 'start' || action === 'stop') {
        await dbRequest(pick(name), 'POST', `/db/replica/${action}`, { thread }, req);
        io.stdout.write(
          `${action === 'start' ? 'started' : 'stopped'} ${thread ?? 'I/O and SQL'} thread${thread === undefined ? 's' : ''} of ${pick(name).name}\n`,
        );
        return 0;
      }
      if (action === 'reset') {
        await dbRequest(pick(name), 'POST', '/db/replica/reset', { all: values.all === true }, req);
        io.stdout.write(
          `reset replica ${pick(name).name}${values.all === true ? ' (and forgot its source)' : ''}\n`,
        );
        return 0;
      }
      if (action === 'source') {
        if (name === undefined || address === undefined)
          throw new CliUsageError('replica source NAME HOST:PORT');
        await dbRequest(
          pick(name),
          'POST',
          '/db/replica/source',
          { source: address, auto_position: true },
          { token, timeoutMs: 120_000 },
        );
        io.stdout.write(`${name} now replicates from ${address}\n`);
        return 0;
      }
      throw new CliUsageError('replica start|stop|reset|source');
    }
    case 'promote': {
      const report = await promoteCluster(servers, {
        ...(rest[0] !== undefined && { name: rest[0] }),
        ...(token !== undefined && { token }),
        log: (line) => io.stdout.write(`${line}\n`),
      });
      io.stdout.write(
        `new source: ${report.newSource} (${report.replicationAddress}); re-pointed: ${report.repointed.join(', ') || 'none'}\n`,
      );
      return report.failed.length === 0 ? 0 : 1;
    }
    case 'binlog': {
      const [action, name] = rest;
      if (action === 'rotate') {
        const p = await dbRequest<{ file: string; pos: number }>(
          pick(name),
          'POST',
          '/db/binlog/rotate',
          {},
          req,
        );
        io.stdout.write(`now writing ${p.file}\n`);
        return 0;
      }
      if (action === 'purge') {
        if (values.to === undefined) throw new CliUsageError('binlog purge needs --to FILE');
        const r = await dbRequest<{ purged: string[] }>(
          pick(name),
          'POST',
          '/db/binlog/purge',
          { to: values.to },
          req,
        );
        io.stdout.write(`purged: ${r.purged.join(', ') || 'nothing'}\n`);
        return 0;
      }
      throw new CliUsageError('binlog dump|rotate|purge');
    }
    case 'checksum': {
      const sums = await Promise.all(
        servers.map(async (t) => {
          try {
            const c = await dbRequest<{ checksum: string; tables: number; rows: number }>(
              t,
              'GET',
              '/db/checksum',
              undefined,
              req,
            );
            return `${t.name.padEnd(12)} ${c.checksum}  ${c.tables} tables, ${c.rows} rows`;
          } catch (err) {
            return `${t.name.padEnd(12)} ERROR ${errorMessage(err)}`;
          }
        }),
      );
      io.stdout.write(`${sums.join('\n')}\n`);
      const distinct = new Set(sums.map((s) => s.split(/\s+/)[1]));
      return distinct.size === 1 ? 0 : 1;
    }
    case 'sql': {
      const sql = rest[0];
      if (sql === undefined) throw new CliUsageError('sql "STATEMENT"');
      const client = new DbClient({ servers, ...(token !== undefined && { token }) });
      if (values.write === true) {
        const r = await client.execute(sql);
        io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      } else {
        const r = await client.query(sql, { consistency: values.source === true ? 'source' : 'replica' });
        for (const res of r) {
          io.stdout.write(`${res.columns.join('\t')}\n`);
          for (const row of res.rows)
            io.stdout.write(`${row.map((v) => (v === null ? 'NULL' : String(v))).join('\t')}\n`);
        }
      }
      return 0;
    }
    default:
      throw new CliUsageError(`unknown db command "${sub}"\n\n${DB_USAGE}`);
  }
}

function binlogDump(
  args: string[],
  values: { verbose?: boolean; 'start-position'?: string; 'stop-position'?: string },
  io: CliIo,
): number {
  const file = args[0];
  if (file === undefined) throw new CliUsageError('binlog dump FILE');
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new HastackError('HASTACK_DB_FILE', `cannot read ${file}: ${errorMessage(err)}`);
  }
  const num = (v: string | undefined, flag: string) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new CliUsageError(`${flag} must be a byte offset`);
    return Number(v);
  };
  const text = formatBinlogDump(buf, basename(file), {
    verbose: values.verbose === true,
    ...(num(values['start-position'], '--start-position') !== undefined && {
      startPosition: num(values['start-position'], '--start-position'),
    }),
    ...(num(values['stop-position'], '--stop-position') !== undefined && {
      stopPosition: num(values['stop-position'], '--stop-position'),
    }),
  });
  io.stdout.write(text);
  return /^# ERROR/m.test(text) ? 1 : 0;
}

async function resolveServers(values: {
  config?: string;
  server?: string[];
  token?: string;
}): Promise<{ servers: ServerTarget[]; token: string | undefined }> {
  const servers: ServerTarget[] = [];
  let token = values.token ?? process.env.HASTACK_DB_TOKEN;
  const add = (name: string, url: string) => {
    if (!servers.some((s) => s.name === name)) servers.push({ name, url: url.replace(/\/+$/, '') });
  };
  if (values.config !== undefined) {
    const { config } = await loadYamlConfigFile(values.config);
    const db = config.sections.database;
    if (db === undefined)
      throw new HastackError('HASTACK_DB_NO_SECTION', `${values.config} has no database section`);
    for (const s of db.servers) {
      const host = s.http.host === '0.0.0.0' ? '127.0.0.1' : s.http.host === '::' ? '::1' : s.http.host;
      add(s.name, `http://${formatHostPort(host, s.http.port)}`);
      token ??= s.token;
    }
    for (const c of db.cluster) add(c.name, `http://${formatHostPort(c.http.host, c.http.port)}`);
  }
  const listed = values.server ?? (process.env.HASTACK_DB ?? '').split(',').filter((s) => s.trim() !== '');
  listed.forEach((entry, i) => {
    const m = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(entry.trim());
    const url = m === null ? entry.trim() : m[2]!;
    add(m === null ? `server${i + 1}` : m[1]!, /^https?:\/\//.test(url) ? url : `http://${url}`);
  });
  if (servers.length === 0) throw new CliUsageError('name the database servers with -c FILE or --server URL');
  return { servers, token };
}
