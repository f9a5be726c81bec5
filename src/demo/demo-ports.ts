import { HastackError } from '../core/errors.ts';

/**
 * The demo's port plan. Without a base port the demo uses the well-known ports
 * (8080, 9090, memcached's 11211); `--base-port N` moves every listener into
 * N..N+DEMO_PORT_SPAN so the demo can run next to a local memcached, or twice.
 * The database section places its servers at `port + 310 .. port + 331`.
 */
export interface DemoPortPlan {
  /** The L4 virtual server; the L7 proxy listens on the next port. */
  port: number;
  adminPort: number;
  memcachedPort: number;
}

/** Highest offset from `port` that a demo listener uses (the last database API). */
export const DEMO_PORT_SPAN = 331;

export const DEMO_DEFAULT_PORTS: DemoPortPlan = { port: 8080, adminPort: 9090, memcachedPort: 11211 };

/** Where each listener goes relative to `--base-port`. */
const BASE_OFFSETS = { port: 0, memcachedPort: 2, adminPort: 9 } as const;

export interface DemoPortOptions {
  basePort?: string | undefined;
  port?: string | undefined;
  adminPort?: string | undefined;
  memcachedPort?: string | undefined;
}

/** Resolves the flags (any may be absent) into a full plan; explicit ports win over the base. */
export function resolveDemoPorts(o: DemoPortOptions): DemoPortPlan {
  const base = o.basePort === undefined ? undefined : parsePort('--base-port', o.basePort, DEMO_PORT_SPAN);
  const fallback = (key: keyof DemoPortPlan) =>
    base === undefined ? DEMO_DEFAULT_PORTS[key] : base + BASE_OFFSETS[key];
  const plan: DemoPortPlan = {
    port: o.port === undefined ? fallback('port') : parsePort('--port', o.port, DEMO_PORT_SPAN),
    adminPort: o.adminPort === undefined ? fallback('adminPort') : parsePort('--admin-port', o.adminPort),
    memcachedPort:
      o.memcachedPort === undefined
        ? fallback('memcachedPort')
        : parsePort('--memcached-port', o.memcachedPort),
  };
  const taken = new Set(PORT_OFFSETS_OF_PORT.map((offset) => plan.port + offset));
  for (const [flag, p] of [
    ['--admin-port', plan.adminPort],
    ['--memcached-port', plan.memcachedPort],
  ] as const) {
    if (taken.has(p))
      throw new HastackError('HASTACK_DEMO_BAD_PORT', `${flag} ${p} collides with another demo listener`);
    taken.add(p);
  }
  return plan;
}

/** Listeners placed relative to `port`: L4, L7, then each database server's replication and HTTP API. */
const PORT_OFFSETS_OF_PORT = [0, 1, 310, 311, 320, 321, 330, 331];

function parsePort(flag: string, text: string, headroom = 0): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  const max = 65535 - headroom;
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new HastackError(
      'HASTACK_DEMO_BAD_PORT',
      `${flag} must be a port number 1..${max} (got "${text}")`,
    );
  return n;
}

export interface DemoListenPort {
  port: number;
  /** Which listener, as `section key` of the demo config (e.g. `memcached listen`). */
  what: string;
}

/**
 * Every loopback port the demo config listens on, read from its YAML text so a
 * section added later is covered without a second list to keep in sync. `source:`
 * (a replica's upstream) and `address:` (real servers) are peers, not listeners.
 */
export function demoListenPorts(yaml: string): DemoListenPort[] {
  const found = new Map<number, DemoListenPort>();
  let section = '';
  for (const line of yaml.split('\n')) {
    const top = /^([a-z_]+):/.exec(line);
    if (top !== null) section = top[1]!;
    const m = /^\s*(?:- )?(listen|http):\s*127\.0\.0\.1:(\d+)\s*$/.exec(line);
    if (m === null) continue;
    const port = Number(m[2]);
    if (!found.has(port)) found.set(port, { port, what: `${section} ${m[1]}` });
  }
  return [...found.values()];
}
