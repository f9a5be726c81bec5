import { z } from 'zod';
import { duration, hostPort } from '../config/schema-parts.ts';

/*
 * The `database` section: the replicated SQL servers this process runs (usually
 * one; the demo runs a source and two replicas in one process), and the whole
 * topology's client addresses for `hastack db promote` and the client.
 */

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** Bytes: a number, or "64mb", "1g", "512KiB" (units of 1024, as MySQL's sizes). */
export const byteSize = z.union([z.number().int().min(0), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m === null ? undefined : SIZE_UNITS[m[2]!.toLowerCase()];
  if (m === null || unit === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid size "${value}" (use 1048576, 64kb, 16mb or 1gb)` });
    return z.NEVER;
  }
  return Number(m[1]) * unit;
});

const MIB = 1024 * 1024;

const binlogSchema = z
  .strictObject({
    format: z.enum(['statement', 'row', 'mixed']).default('row'),
    /** Rotate to a new segment past this size (max_binlog_size). */
    max_size: byteSize.default(64 * MIB),
    /** Purge segments older than this at rotation and startup (binlog_expire_logs_seconds); 0 keeps them. */
    expire: duration.default(7 * 24 * 3600 * 1000),
    /** Purge the oldest segments while all of them take more than this; 0 = no limit. */
    max_total_size: byteSize.default(0),
    /** fsync every commit group before it is acknowledged or sent (sync_binlog=1). */
    sync: z.boolean().default(true),
  })
  .default({
    format: 'row',
    max_size: 64 * MIB,
    expire: 7 * 24 * 3600 * 1000,
    max_total_size: 0,
    sync: true,
  });

const relayLogSchema = z
  .strictObject({
    max_size: byteSize.default(16 * MIB),
    /** Delete relay segments once applied (relay_log_purge). */
    purge: z.boolean().default(true),
    /**
     * Longest wait of written relay bytes for their fdatasync when the source asks for no
     * acknowledgement (MySQL's sync_relay_log, by time); 0 = every batch. Semi-sync: every batch.
     */
    sync_interval: duration.default(10),
  })
  .default({ max_size: 16 * MIB, purge: true, sync_interval: 10 });

const semiSyncSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    wait_for_replica_count: z.number().int().min(1).max(64).default(1),
    timeout: duration.default(10_000),
  })
  .default({ enabled: false, wait_for_replica_count: 1, timeout: 10_000 });

const reconnectSchema = z
  .strictObject({ min: duration.default(100), max: duration.default(5_000) })
  .default({ min: 100, max: 5_000 });

const nameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'name may use letters, digits and _.-');

export const dbServerSchema = z.strictObject({
  name: nameSchema,
  /** Unique in the topology, 1..2^32-1 (0 cannot replicate, as in MySQL). */
  server_id: z.number().int().min(1, 'server_id must be at least 1 (0 cannot replicate)').max(4294967295),
  /** Initial role of a new data directory; later promotions are kept in data_dir/replication.json. */
  role: z.enum(['source', 'replica']),
  data_dir: z.string().min(1),
  /** Replication protocol: replicas connect here. */
  listen: hostPort(),
  /** HTTP JSON API: clients and `hastack db`. */
  http: hostPort(),
  /** Replicas: the source's replication address. */
  source: hostPort().optional(),
  /** Replicas: ask by GTID set (true) or by binlog file and offset (false). */
  auto_position: z.boolean().default(true),
  binlog: binlogSchema,
  relay_log: relayLogSchema,
  semi_sync: semiSyncSchema,
  reconnect: reconnectSchema,
  /** The source sends a heartbeat after this much idle time. */
  heartbeat: duration.default(1_000),
  /** A replica reconnects when it hears nothing for this long (replica_net_timeout). */
  net_timeout: duration.default(5_000),
  /** Bearer token for the HTTP API (required off loopback). */
  token: z.string().min(16, 'token must be at least 16 characters').optional(),
});

/** Records `value` in `seen`, reporting an issue at `path` when it was already there. */
function noteUnique<T>(
  ctx: z.RefinementCtx,
  seen: Set<T>,
  value: T,
  path: (string | number)[],
  message: string,
): void {
  if (seen.has(value)) ctx.addIssue({ code: 'custom', path, message });
  seen.add(value);
}

export const databaseSchema = z
  .strictObject({
    servers: z.array(dbServerSchema).min(1),
    /** Every server of the topology (these and remote ones): `hastack db promote` and the client use it. */
    cluster: z.array(z.strictObject({ name: nameSchema, http: hostPort() })).default([]),
  })
  .superRefine((db, ctx) => {
    const names = new Set<string>();
    const ids = new Set<number>();
    const ports = new Map<string, string>();
    db.servers.forEach((s, i) => {
      noteUnique(ctx, names, s.name, ['servers', i, 'name'], `duplicate server name "${s.name}"`);
      noteUnique(
        ctx,
        ids,
        s.server_id,
        ['servers', i, 'server_id'],
        `duplicate server_id ${s.server_id}: it must be unique in the topology`,
      );
      for (const key of ['listen', 'http'] as const) {
        const addr = s[key];
        const id = `${addr.host}:${addr.port}`;
        if (addr.port !== 0 && ports.has(id))
          ctx.addIssue({
            code: 'custom',
            path: ['servers', i, key],
            message: `${id} is already used by ${ports.get(id)}`,
          });
        ports.set(id, `${s.name}.${key}`);
      }
      if (s.role === 'replica' && s.source === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['servers', i, 'source'],
          message: 'a replica needs source: host:port',
        });
      if (s.reconnect.max < s.reconnect.min)
        ctx.addIssue({
          code: 'custom',
          path: ['servers', i, 'reconnect', 'max'],
          message: 'max must be >= min',
        });
      if (s.net_timeout <= s.heartbeat)
        ctx.addIssue({
          code: 'custom',
          path: ['servers', i, 'net_timeout'],
          message: 'net_timeout must be longer than heartbeat',
        });
    });
    const clusterNames = new Set<string>();
    db.cluster.forEach((c, i) => {
      noteUnique(ctx, clusterNames, c.name, ['cluster', i, 'name'], `duplicate cluster name "${c.name}"`);
    });
  });

export type DatabaseConfig = z.output<typeof databaseSchema>;
export type DbServerConfig = z.output<typeof dbServerSchema>;
export type RawDatabaseConfig = z.input<typeof databaseSchema>;
