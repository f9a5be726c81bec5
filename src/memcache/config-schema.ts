import { z } from 'zod';
import { duration, hostPort } from '../config/schema-parts.ts';
import type { HostPort } from '../core/address.ts';

/*
 * The `memcached` section of hastack.yaml. Keys follow memcached's options:
 * memory_limit (-m), item_size_max (-I), max_connections (-c), reqs_per_event
 * (-R), growth_factor (-f), chunk_size (-n), evictions (-M inverted), cas (-C
 * inverted), flush_enabled (-F inverted), protocol (-B), idle_timeout
 * (-o idle_timeout). There is no `threads` (-t): one event loop serves every
 * connection.
 */

export interface MemcachedLruConfig {
  hotPct: number;
  warmPct: number;
  hotMaxFactor: number;
  warmMaxFactor: number;
}

export interface MemcachedConfig {
  listen: HostPort;
  memoryLimitBytes: number;
  itemSizeMax: number;
  maxConnections: number;
  reqsPerEvent: number;
  growthFactor: number;
  chunkSize: number;
  evictions: boolean;
  casEnabled: boolean;
  flushEnabled: boolean;
  protocol: 'auto' | 'ascii' | 'binary';
  /** Reply bytes a connection may queue before hastack stops reading its requests. */
  outputLimitBytes: number;
  idleTimeoutMs: number;
  lru: MemcachedLruConfig;
  /** How often the LRU maintainer and the expiry crawler run. */
  maintenanceIntervalMs: number;
  tcpBacklog: number;
}

const MIB = 1024 * 1024;
const UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: MIB,
  mb: MIB,
  mib: MIB,
  g: 1024 * MIB,
  gb: 1024 * MIB,
  gib: 1024 * MIB,
};

/** A size: `64m`, `1g`, `512k`, `1048576`; a bare number counts in `bareUnit` bytes. */
function byteSize(bareUnit: number, what: string) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    let bytes: number | undefined;
    if (typeof value === 'number') {
      if (Number.isFinite(value) && value >= 0) bytes = Math.floor(value * bareUnit);
    } else {
      const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
      const unit = m === null ? undefined : m[2] === '' ? bareUnit : UNITS[m[2]!.toLowerCase()];
      if (m !== null && unit !== undefined) bytes = Math.floor(Number(m[1]) * unit);
    }
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid ${what} "${value}" (use e.g. 64m, 1g, 512k)` });
      return z.NEVER;
    }
    return bytes;
  });
}

/** Slab page size for an item size limit (mirrors the store: 1 MiB or the next power of two). */
function pageSizeFor(itemSizeMax: number): number {
  let size = MIB;
  while (size < itemSizeMax) size *= 2;
  return size;
}

export const memcachedSchema = z
  .strictObject({
    listen: hostPort(11211).default({ host: '127.0.0.1', port: 11211 }),
    /** memcached -m: a bare number is megabytes. */
    memory_limit: byteSize(MIB, 'memory_limit').default(64 * MIB),
    /** memcached -I: a bare number is bytes. */
    item_size_max: byteSize(1, 'item_size_max').default(MIB),
    max_connections: z.number().int().min(1).max(1_000_000).default(1024),
    reqs_per_event: z.number().int().min(1).max(1_000_000).default(20),
    growth_factor: z.number().min(1.01).max(8).default(1.25),
    chunk_size: z.number().int().min(8).max(4096).default(48),
    evictions: z.boolean().default(true),
    cas: z.boolean().default(true),
    flush_enabled: z.boolean().default(true),
    protocol: z.enum(['auto', 'ascii', 'binary']).default('auto'),
    output_limit: byteSize(1, 'output_limit').default(4 * MIB),
    idle_timeout: duration.default(0),
    lru_hot_pct: z.number().int().min(0).max(80).default(20),
    lru_warm_pct: z.number().int().min(0).max(80).default(40),
    hot_max_factor: z.number().positive().default(0.2),
    warm_max_factor: z.number().positive().default(2.0),
    maintenance_interval: duration.default(1000),
    tcp_backlog: z.number().int().min(1).max(65535).default(1024),
  })
  .superRefine((v, ctx) => {
    if (v.item_size_max < 1024 || v.item_size_max > 1024 * MIB)
      ctx.addIssue({
        code: 'custom',
        path: ['item_size_max'],
        message: 'item_size_max must be between 1k and 1g',
      });
    const page = pageSizeFor(v.item_size_max);
    if (v.memory_limit < page)
      ctx.addIssue({
        code: 'custom',
        path: ['memory_limit'],
        message: `memory_limit must hold at least one slab page (${page} bytes)`,
      });
    if (v.memory_limit > 16 * 1024 * MIB)
      ctx.addIssue({
        code: 'custom',
        path: ['memory_limit'],
        message: 'memory_limit above 16g is not supported',
      });
    if (v.lru_hot_pct + v.lru_warm_pct > 80)
      ctx.addIssue({
        code: 'custom',
        path: ['lru_warm_pct'],
        message: 'lru_hot_pct + lru_warm_pct must not exceed 80',
      });
    if (v.output_limit < 64 * 1024)
      ctx.addIssue({ code: 'custom', path: ['output_limit'], message: 'output_limit must be at least 64k' });
    if (v.maintenance_interval < 10)
      ctx.addIssue({
        code: 'custom',
        path: ['maintenance_interval'],
        message: 'maintenance_interval must be at least 10ms',
      });
  })
  .transform(
    (v): MemcachedConfig => ({
      listen: v.listen,
      memoryLimitBytes: v.memory_limit,
      itemSizeMax: v.item_size_max,
      maxConnections: v.max_connections,
      reqsPerEvent: v.reqs_per_event,
      growthFactor: v.growth_factor,
      chunkSize: v.chunk_size,
      evictions: v.evictions,
      casEnabled: v.cas,
      flushEnabled: v.flush_enabled,
      protocol: v.protocol,
      outputLimitBytes: v.output_limit,
      idleTimeoutMs: v.idle_timeout,
      lru: {
        hotPct: v.lru_hot_pct,
        warmPct: v.lru_warm_pct,
        hotMaxFactor: v.hot_max_factor,
        warmMaxFactor: v.warm_max_factor,
      },
      maintenanceIntervalMs: v.maintenance_interval,
      tcpBacklog: v.tcp_backlog,
    }),
  );
