import { z } from 'zod';
import { SCHEDULER_NAMES } from './model.ts';
import { checkSchema, command, duration, hostPort } from './schema-parts.ts';
import { sectionSchemas } from './sections.ts';

export { checkSchema, type ParsedCheck, type RawCheck } from './schema-parts.ts';

/*
 * The YAML file's schema. Keys are snake_case and follow keepalived's names where
 * one exists (delay_loop, connect_timeout, lb_algo → scheduler...). Each field is
 * parsed into its model form here (durations → ms, addresses → host/port) so that
 * errors point at the exact key that is wrong.
 */

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
  ...sectionSchemas,
});

/** The raw (input) form: what a YAML file or the keepalived.conf converter produces. */
export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
