import { z } from 'zod';
import { parseHostPort } from '../core/address.ts';
import { parseDuration } from '../core/duration.ts';
import { DNS_QUERY_TYPES, SCHEDULER_NAMES, type StatusRange } from './model.ts';

/*
 * The YAML file's schema. Keys are snake_case and follow keepalived's names where
 * one exists (delay_loop, connect_timeout, lb_algo → scheduler...). Each field is
 * parsed into its model form here (durations → ms, addresses → host/port) so that
 * errors point at the exact key that is wrong.
 */

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

function hostPort(defaultPort?: number) {
  return z.string().transform((value, ctx) => {
    try {
      return parseHostPort(value, defaultPort);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().min(1);
const command = z.string().min(1);

/** "200-299", 200, or a list of those. */
const statusRanges = z
  .union([z.number().int(), z.string(), z.array(z.union([z.number().int(), z.string()]))])
  .transform((value, ctx): StatusRange[] => {
    const items = Array.isArray(value) ? value : [value];
    const out: StatusRange[] = [];
    for (const item of items) {
      for (const part of String(item).split(',')) {
        const m = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
        if (m === null) {
          ctx.addIssue({
            code: 'custom',
            message: `invalid status code or range "${part}" (use 200 or 200-299)`,
          });
          return z.NEVER;
        }
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : Number(m[2]);
        if (min < 100 || max > 599 || max < min) {
          ctx.addIssue({ code: 'custom', message: `status range "${part}" must lie within 100-599` });
          return z.NEVER;
        }
        out.push({ min, max });
      }
    }
    return out;
  });

/** Timing/damping keys any check accepts; all optional so defaults can cascade. */
const checkCommon = {
  interval: duration.optional(),
  timeout: duration.optional(),
  retries: z.number().int().min(0).max(100).optional(),
  retry_delay: duration.optional(),
  rise: positiveInt.max(1000).optional(),
  fall: positiveInt.max(1000).optional(),
  alpha: z.boolean().optional(),
  warmup: duration.optional(),
  connect_host: z.string().min(1).optional(),
  connect_port: port.optional(),
  bind_host: z.string().min(1).optional(),
  bind_port: port.optional(),
};

const httpUrl = z.strictObject({
  path: z.string().startsWith('/'),
  status: statusRanges.optional(),
  digest: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, 'digest must be 32 hex digits (MD5)')
    .optional(),
  body_regex: z.string().optional(),
  virtualhost: z.string().optional(),
});

export const checkSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('tcp'), ...checkCommon }),
  z.strictObject({
    type: z.enum(['http', 'https']),
    ...checkCommon,
    /** Shorthand for a single URL. */
    path: z.string().startsWith('/').optional(),
    status: statusRanges.optional(),
    digest: httpUrl.shape.digest,
    body_regex: z.string().optional(),
    urls: z.array(httpUrl).min(1).optional(),
    virtualhost: z.string().optional(),
    sni: z.string().optional(),
    http_version: z.enum(['1.0', '1.0C', '1.1']).optional(),
    verify_tls: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('smtp'), ...checkCommon, helo: z.string().min(1).optional() }),
  z.strictObject({
    type: z.literal('dns'),
    ...checkCommon,
    query_type: z.enum(DNS_QUERY_TYPES).optional(),
    name: z.string().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal('misc'),
    ...checkCommon,
    command,
    dynamic: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('icmp'), ...checkCommon }),
]);
export type RawCheck = z.input<typeof checkSchema>;
export type ParsedCheck = z.output<typeof checkSchema>;

const realServer = z.strictObject({
  address: hostPort(),
  weight: z.number().int().min(0).max(65535).default(1),
  uthreshold: z.number().int().min(0).default(0),
  lthreshold: z.number().int().min(0).default(0),
  notify_up: command.optional(),
  notify_down: command.optional(),
  checks: z.array(checkSchema).optional(),
});

/** Persistence granularity: prefix length (24) or netmask ("255.255.255.0"). */
const granularity = z.union([z.number().int().min(0).max(32), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(value.trim());
  if (m !== null) {
    const n = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
    const bits = n.toString(2).padStart(32, '0');
    if (/^1*0*$/.test(bits)) return bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
  }
  ctx.addIssue({ code: 'custom', message: `invalid netmask "${value}"` });
  return z.NEVER;
});

export const virtualServerSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.:[\]-]+$/, 'name may use letters, digits and _.:-')
    .optional(),
  listen: hostPort(),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  scheduler: z.enum(SCHEDULER_NAMES).default('wlc'),
  hash_port: z.boolean().default(false),
  fallback: z.boolean().default(false),
  persistence_timeout: duration.default(0),
  persistence_granularity: granularity.default(32),
  sorry_server: hostPort().optional(),
  sorry_server_inhibit: z.boolean().default(false),
  quorum: z.number().int().min(1).default(1),
  hysteresis: z.number().int().min(0).default(0),
  quorum_up: command.optional(),
  quorum_down: command.optional(),
  alpha: z.boolean().default(false),
  omega: z.boolean().default(false),
  inhibit_on_failure: z.boolean().default(false),
  /** Default timing for this server's checks (keepalived delay_loop). */
  delay_loop: duration.optional(),
  idle_timeout: duration.default(900_000),
  connect_timeout: duration.default(5_000),
  workers: z.number().int().min(1).max(64).default(1),
  checks: z.array(checkSchema).default([]),
  real_servers: z.array(realServer).default([]),
});
export type RawVirtualServer = z.input<typeof virtualServerSchema>;

export const configSchema = z.strictObject({
  admin: z
    .union([
      z.literal(false),
      z.strictObject({
        listen: hostPort(9090).default({ host: '127.0.0.1', port: 9090 }),
        token: z.string().min(16, 'admin token must be at least 16 characters').optional(),
      }),
    ])
    .default({ listen: { host: '127.0.0.1', port: 9090 } }),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    })
    .default({ level: 'info' }),
  shutdown_grace: duration.default(10_000),
  virtual_servers: z.array(virtualServerSchema).default([]),
});

/** The raw (input) form: what a YAML file or the keepalived.conf converter produces. */
export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
