import { z } from 'zod';
import { SCHEDULER_NAMES } from '../config/model.ts';
import { normalizeCheck } from '../config/normalize-check.ts';
import { checkSchema, duration, hostPort } from '../config/schema-parts.ts';
import type {
  HeaderRules,
  HttpSectionConfig,
  ListenerConfig,
  PoolConfig,
  RetryCondition,
  RouteAction,
  RouteConfig,
  RouteMatch,
} from './model.ts';

/*
 * The `http` section of hastack.yaml: listeners with their routes, and pools.
 * The output is already the model (model.ts). Cross-field rules (one action per
 * route, pools that exist, valid regexes and prefixes) are checked here so that
 * errors point at the key and line.
 */

/** Bytes as a number or with a unit: 512, "16k", "1m", "2g" (binary multiples, as nginx). */
export const byteSize = z.union([z.number().int().min(0), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+)\s*([kmg]?)i?b?\s*$/i.exec(value);
  if (m === null) {
    ctx.addIssue({ code: 'custom', message: `invalid size "${value}" (use 512, 16k, 1m)` });
    return z.NEVER;
  }
  const unit = m[2]!.toLowerCase();
  return Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
});

const patternValue = z.union([z.string(), z.boolean()]);
const stringList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

function regexIssue(source: string): string | undefined {
  const body = source.startsWith('~*') ? source.slice(2) : source.startsWith('~') ? source.slice(1) : source;
  try {
    new RegExp(body);
    return undefined;
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message}`;
  }
}

function checkRegex(source: string, ctx: z.RefinementCtx, path: (string | number)[]): void {
  const issue = regexIssue(source);
  if (issue !== undefined) ctx.addIssue({ code: 'custom', message: issue, path });
}

const CIDR = /^([0-9a-fA-F:.]+)(\/\d{1,3})?$/;

const matchSchema = z.strictObject({
  host: stringList.optional(),
  path: z.string().startsWith('/').optional(),
  path_prefix: z.string().startsWith('/').optional(),
  path_regex: z.string().min(1).optional(),
  method: stringList.optional(),
  header: z
    .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'invalid header name'), patternValue)
    .optional(),
  query: z.record(z.string().min(1), patternValue).optional(),
  client_ip: stringList.optional(),
});

const headerMap = z.record(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'invalid header name'),
  z.string().regex(/^[^\r\n\0]*$/, 'header values cannot hold CR, LF or NUL'),
);

const headerRulesSchema = z
  .strictObject({
    set: headerMap.default({}),
    add: headerMap.default({}),
    remove: z.array(z.string().min(1)).default([]),
  })
  .transform(
    (r): HeaderRules => ({
      set: Object.entries(r.set).map(([k, v]) => [k.toLowerCase(), v]),
      add: Object.entries(r.add).map(([k, v]) => [k.toLowerCase(), v]),
      remove: r.remove.map((k) => k.toLowerCase()),
    }),
  );

const EMPTY_RULES: HeaderRules = { set: [], add: [], remove: [] };

const routeSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'name may use letters, digits and _.:-')
    .optional(),
  match: matchSchema.default({}),
  rewrite: z
    .strictObject({ regex: z.string().min(1).optional(), path: z.string().startsWith('/') })
    .optional(),
  request_headers: headerRulesSchema.optional(),
  response_headers: headerRulesSchema.optional(),
  pool: z.string().min(1).optional(),
  redirect: z
    .strictObject({
      to: z.string().min(1),
      status: z
        .union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)])
        .default(302),
    })
    .optional(),
  static: z
    .strictObject({
      root: z.string().min(1),
      index: z.string().min(1).default('index.html'),
      strip_prefix: z.boolean().default(false),
    })
    .optional(),
  respond: z
    .strictObject({
      status: z.number().int().min(200).max(599).default(200),
      body: z.string().default(''),
      content_type: z.string().default('text/plain; charset=utf-8'),
      headers: headerMap.default({}),
    })
    .optional(),
  buffering: z.boolean().default(true),
  max_body_size: byteSize.optional(),
});
type RawRoute = z.output<typeof routeSchema>;

const certificateSchema = z.strictObject({
  cert: z.string().min(1),
  key: z.string().min(1),
  names: stringList.default([]),
});

const listenerSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'name may use letters, digits and _.:-')
    .optional(),
  listen: hostPort(),
  tls: z
    .strictObject({ certificates: z.array(certificateSchema).min(1), http2: z.boolean().default(true) })
    .optional(),
  routes: z.array(routeSchema).min(1),
  trusted_proxies: stringList.default([]),
  x_forwarded: z.boolean().default(true),
  forwarded: z.boolean().default(false),
  via: z.boolean().default(true),
  limits: z
    .strictObject({
      max_request_line: byteSize.default(8192),
      max_header_size: byteSize.default(32768),
      max_headers: z.number().int().min(1).max(10_000).default(100),
      max_body_size: byteSize.default(1024 * 1024),
    })
    .default({
      max_request_line: 8192,
      max_header_size: 32768,
      max_headers: 100,
      max_body_size: 1024 * 1024,
    }),
  timeouts: z
    .strictObject({
      client_header: duration.default(10_000),
      client_body: duration.default(60_000),
      send: duration.default(60_000),
      tunnel: duration.default(3_600_000),
    })
    .default({ client_header: 10_000, client_body: 60_000, send: 60_000, tunnel: 3_600_000 }),
  keepalive: z
    .union([
      z.boolean(),
      z.strictObject({
        idle_timeout: duration.default(75_000),
        max_requests: z.number().int().min(1).default(1000),
      }),
    ])
    .default(true),
  buffer_size: byteSize.default(1024 * 1024),
  max_temp_file_size: byteSize.default(1024 ** 3),
});
type RawListener = z.output<typeof listenerSchema>;

const RETRY_WORDS = ['connect-failure', 'empty-response', 'timeout'] as const;

const poolSchema = z.strictObject({
  scheduler: z.enum(SCHEDULER_NAMES).default('wrr'),
  hash_port: z.boolean().default(false),
  fallback: z.boolean().default(false),
  servers: z
    .array(
      z.strictObject({
        address: hostPort(),
        weight: z.number().int().min(0).max(65535).default(1),
      }),
    )
    .min(1),
  health_check: checkSchema.optional(),
  checks: z.array(checkSchema).optional(),
  keepalive: z
    .union([
      z.boolean(),
      z.strictObject({
        max_idle: z.number().int().min(0).default(64),
        idle_timeout: duration.default(60_000),
        max_requests: z.number().int().min(1).default(10_000),
      }),
    ])
    .default(true),
  connect_timeout: duration.default(5_000),
  response_timeout: duration.default(60_000),
  read_timeout: duration.default(60_000),
  retries: z.number().int().min(0).max(10).default(2),
  redispatch: z.boolean().default(true),
  retry_on: z
    .array(z.union([z.enum(RETRY_WORDS), z.number().int().min(500).max(599)]))
    .default(['connect-failure', 'empty-response']),
  outlier: z
    .strictObject({
      consecutive_failures: z.number().int().min(0).default(5),
      ejection_time: duration.default(30_000),
      max_ejection_percent: z.number().int().min(0).max(100).default(50),
    })
    .default({ consecutive_failures: 5, ejection_time: 30_000, max_ejection_percent: 50 }),
  slow_start: duration.default(0),
});
type RawPool = z.output<typeof poolSchema>;

export const httpSectionSchema = z
  .strictObject({
    workers: z.number().int().min(1).max(64).default(1),
    access_log: z
      .union([
        z.literal(false),
        z.strictObject({
          path: z.string().min(1).default('stdout'),
          format: z.enum(['combined', 'json']).default('combined'),
        }),
      ])
      .default(false),
    listeners: z.array(listenerSchema).min(1),
    pools: z
      .record(z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'pool names use letters, digits and _.:-'), poolSchema)
      .default({}),
  })
  .superRefine((raw, ctx) => {
    const names = new Set<string>();
    raw.listeners.forEach((l, li) => {
      const name = listenerName(l);
      if (names.has(name))
        ctx.addIssue({
          code: 'custom',
          message: `duplicate listener name "${name}"`,
          path: ['listeners', li, 'name'],
        });
      names.add(name);
      for (const p of l.trusted_proxies) {
        if (!CIDR.test(p.trim()))
          ctx.addIssue({
            code: 'custom',
            message: `invalid address or prefix "${p}"`,
            path: ['listeners', li, 'trusted_proxies'],
          });
      }
      l.routes.forEach((r, ri) => {
        checkRoute(r, raw.pools, ctx, ['listeners', li, 'routes', ri]);
      });
    });
    for (const [name, pool] of Object.entries(raw.pools)) {
      if (pool.health_check !== undefined && pool.checks !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: 'use either health_check or checks',
          path: ['pools', name, 'checks'],
        });
      }
      const seen = new Set<string>();
      pool.servers.forEach((s, si) => {
        const key = `${s.address.host}:${s.address.port}`;
        if (seen.has(key))
          ctx.addIssue({
            code: 'custom',
            message: `duplicate server ${key}`,
            path: ['pools', name, 'servers', si],
          });
        seen.add(key);
      });
    }
  })
  .transform((raw): HttpSectionConfig => {
    const pools: Record<string, PoolConfig> = {};
    for (const [name, pool] of Object.entries(raw.pools)) pools[name] = toPool(name, pool);
    return {
      workers: raw.workers,
      accessLog:
        raw.access_log === false
          ? { format: 'combined' }
          : { path: raw.access_log.path, format: raw.access_log.format },
      listeners: raw.listeners.map(toListener),
      pools,
    };
  });

export type RawHttpSection = z.input<typeof httpSectionSchema>;

function listenerName(l: RawListener): string {
  return l.name ?? `${l.listen.host}:${l.listen.port}`;
}

function checkRoute(
  r: RawRoute,
  pools: Record<string, RawPool>,
  ctx: z.RefinementCtx,
  path: (string | number)[],
): void {
  const actions = [r.pool, r.redirect, r.static, r.respond].filter((a) => a !== undefined).length;
  if (actions !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: 'a route needs exactly one of pool, redirect, static, respond',
      path,
    });
  }
  if (r.pool !== undefined && pools[r.pool] === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown pool "${r.pool}"`, path: [...path, 'pool'] });
  }
  const m = r.match;
  const pathKinds = [m.path, m.path_prefix, m.path_regex].filter((x) => x !== undefined).length;
  if (pathKinds > 1)
    ctx.addIssue({
      code: 'custom',
      message: 'use one of path, path_prefix, path_regex',
      path: [...path, 'match'],
    });
  if (m.path_regex !== undefined) checkRegex(m.path_regex, ctx, [...path, 'match', 'path_regex']);
  for (const h of m.host ?? []) if (h.startsWith('~')) checkRegex(h, ctx, [...path, 'match', 'host']);
  for (const [k, v] of Object.entries(m.header ?? {})) {
    if (typeof v === 'string' && v.startsWith('~')) checkRegex(v, ctx, [...path, 'match', 'header', k]);
  }
  for (const [k, v] of Object.entries(m.query ?? {})) {
    if (typeof v === 'string' && v.startsWith('~')) checkRegex(v, ctx, [...path, 'match', 'query', k]);
  }
  for (const ip of m.client_ip ?? []) {
    if (!CIDR.test(ip.trim()))
      ctx.addIssue({
        code: 'custom',
        message: `invalid address or prefix "${ip}"`,
        path: [...path, 'match', 'client_ip'],
      });
  }
  if (r.rewrite !== undefined) {
    if (r.rewrite.regex !== undefined) checkRegex(r.rewrite.regex, ctx, [...path, 'rewrite', 'regex']);
    else if (m.path_regex === undefined && /\$\d/.test(r.rewrite.path)) {
      ctx.addIssue({
        code: 'custom',
        message: 'captures ($1...) need rewrite.regex or match.path_regex',
        path: [...path, 'rewrite', 'path'],
      });
    }
    if (r.pool === undefined)
      ctx.addIssue({
        code: 'custom',
        message: 'rewrite applies to pool routes only',
        path: [...path, 'rewrite'],
      });
  }
}

function toRoute(r: RawRoute, index: number): RouteConfig {
  const m = r.match;
  const match: RouteMatch = {
    hosts: m.host ?? [],
    ...(m.path !== undefined && { path: m.path }),
    ...(m.path_prefix !== undefined && { pathPrefix: m.path_prefix }),
    ...(m.path_regex !== undefined && { pathRegex: m.path_regex }),
    methods: (m.method ?? []).map((x) => x.toUpperCase()),
    headers: Object.fromEntries(Object.entries(m.header ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    query: m.query ?? {},
    clientIps: m.client_ip ?? [],
  };
  let action: RouteAction;
  if (r.pool !== undefined) action = { type: 'pool', pool: r.pool };
  else if (r.redirect !== undefined)
    action = { type: 'redirect', to: r.redirect.to, status: r.redirect.status };
  else if (r.static !== undefined)
    action = {
      type: 'static',
      root: r.static.root,
      index: r.static.index,
      stripPrefix: r.static.strip_prefix,
    };
  else {
    const x = r.respond!;
    action = {
      type: 'respond',
      status: x.status,
      body: x.body,
      contentType: x.content_type,
      headers: Object.entries(x.headers).map(([k, v]) => [k.toLowerCase(), v]),
    };
  }
  return {
    name: r.name ?? `#${index}`,
    match,
    ...(r.rewrite !== undefined && {
      rewrite: { to: r.rewrite.path, ...(r.rewrite.regex !== undefined && { regex: r.rewrite.regex }) },
    }),
    requestHeaders: r.request_headers ?? EMPTY_RULES,
    responseHeaders: r.response_headers ?? EMPTY_RULES,
    action,
    buffering: r.buffering,
    ...(r.max_body_size !== undefined && { maxBodySize: r.max_body_size }),
  };
}

function toListener(l: RawListener): ListenerConfig {
  const keepalive =
    l.keepalive === false
      ? { enabled: false, idleTimeoutMs: 0, maxRequests: 1 }
      : l.keepalive === true
        ? { enabled: true, idleTimeoutMs: 75_000, maxRequests: 1000 }
        : { enabled: true, idleTimeoutMs: l.keepalive.idle_timeout, maxRequests: l.keepalive.max_requests };
  return {
    name: listenerName(l),
    host: l.listen.host,
    port: l.listen.port,
    ...(l.tls !== undefined && {
      tls: {
        certificates: l.tls.certificates.map((c) => ({ cert: c.cert, key: c.key, names: c.names })),
        http2: l.tls.http2,
      },
    }),
    routes: l.routes.map(toRoute),
    trustedProxies: l.trusted_proxies,
    xForwarded: l.x_forwarded,
    forwarded: l.forwarded,
    via: l.via,
    limits: {
      maxRequestLine: l.limits.max_request_line,
      maxHeaderBytes: l.limits.max_header_size,
      maxHeaders: l.limits.max_headers,
      maxBodySize: l.limits.max_body_size,
    },
    timeouts: {
      clientHeaderMs: l.timeouts.client_header,
      clientBodyMs: l.timeouts.client_body,
      sendMs: l.timeouts.send,
      tunnelMs: l.timeouts.tunnel,
    },
    keepalive,
    bufferSize: l.buffer_size,
    maxTempFileSize: l.max_temp_file_size,
  };
}

function toPool(name: string, p: RawPool): PoolConfig {
  const rawChecks = p.checks ?? (p.health_check !== undefined ? [p.health_check] : []);
  const keepalive =
    p.keepalive === false
      ? { enabled: false, maxIdle: 0, idleTimeoutMs: 0, maxRequests: 1 }
      : p.keepalive === true
        ? { enabled: true, maxIdle: 64, idleTimeoutMs: 60_000, maxRequests: 10_000 }
        : {
            enabled: true,
            maxIdle: p.keepalive.max_idle,
            idleTimeoutMs: p.keepalive.idle_timeout,
            maxRequests: p.keepalive.max_requests,
          };
  return {
    name,
    scheduler: p.scheduler,
    schedulerFlags: { hashPort: p.hash_port, fallback: p.fallback },
    servers: p.servers.map((s) => ({ host: s.address.host, port: s.address.port, weight: s.weight })),
    checks: rawChecks.map((c) => normalizeCheck(c)),
    keepalive,
    connectTimeoutMs: p.connect_timeout,
    responseTimeoutMs: p.response_timeout,
    readTimeoutMs: p.read_timeout,
    retries: p.retries,
    redispatch: p.redispatch,
    retryOn: p.retry_on.filter((x): x is RetryCondition => typeof x === 'string'),
    retryStatuses: p.retry_on.filter((x): x is number => typeof x === 'number'),
    outlier: {
      consecutiveFailures: p.outlier.consecutive_failures,
      ejectionTimeMs: p.outlier.ejection_time,
      maxEjectionPercent: p.outlier.max_ejection_percent,
    },
    slowStartMs: p.slow_start,
  };
}
