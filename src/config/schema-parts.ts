import { z } from 'zod';
import { parseHostPort } from '../core/address.ts';
import { parseDuration } from '../core/duration.ts';
import { DNS_QUERY_TYPES, type StatusRange } from './model.ts';

/*
 * Zod pieces shared by every section of hastack.yaml: durations, addresses,
 * status ranges and health checks. Component sections (http pools, memcached...)
 * build on these so every file reads the same way.
 */

export const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export function hostPort(defaultPort?: number) {
  return z.string().transform((value, ctx) => {
    try {
      return parseHostPort(value, defaultPort);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

export const port = z.number().int().min(0).max(65535);
export const positiveInt = z.number().int().min(1);
export const command = z.string().min(1);

/** "200-299", 200, or a list of those. */
export const statusRanges = z
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
export const checkCommon = {
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

export const httpUrl = z.strictObject({
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
