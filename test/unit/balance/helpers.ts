import type { Destination, PickContext, Scheduler } from '../../../src/balance/types.ts';

/** A destination named `key` (host 10.0.0.<n> from its position, port 80 unless given). */
export function dest(key: string, weight = 1, extra: Partial<Destination> = {}): Destination {
  return {
    key,
    host: extra.host ?? `10.0.0.${(hashKey(key) % 250) + 1}`,
    port: extra.port ?? 80,
    weight,
    activeConns: extra.activeConns ?? 0,
    inactiveConns: extra.inactiveConns ?? 0,
    overloaded: extra.overloaded ?? false,
  };
}

/** Destinations from { key: weight }, in insertion order; hosts 10.0.1.1, 10.0.1.2, ... */
export function dests(weights: Record<string, number>): Destination[] {
  return Object.entries(weights).map(([key, weight], i) => dest(key, weight, { host: `10.0.1.${i + 1}` }));
}

export function ctx(over: Partial<PickContext> = {}): PickContext {
  return {
    clientHost: '192.0.2.10',
    clientPort: 40000,
    destHost: '198.51.100.1',
    destPort: 80,
    now: 0,
    ...over,
  };
}

/** Keys of `count` consecutive picks, joined ('' for undefined shows as '-'). */
export function pickSequence(s: Scheduler, count: number, c: PickContext = ctx()): string {
  let out = '';
  for (let i = 0; i < count; i++) out += s.pick(c)?.key ?? '-';
  return out;
}

/** How often each key owns an entry of a table (undefined counted as '-'). */
export function shares(table: readonly (Destination | undefined)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of table) {
    const k = d?.key ?? '-';
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

/** The i-th of 65536 distinct client addresses 172.16.x.y. */
export function clientAddress(i: number): string {
  return `172.16.${(i >>> 8) & 255}.${i & 255}`;
}

function hashKey(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return h;
}
