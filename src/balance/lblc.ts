import { isLocalityOverloaded } from './locality-overload.ts';
import { type LocalityEntry, type LocalityOptions, LocalityTable } from './locality-table.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';
import { validateDestinations } from './validate-destinations.ts';
import { pickWeightedLeastConn } from './weighted-least-conn.ts';

interface LblcEntry extends LocalityEntry {
  dest: Destination;
}

/**
 * Locality-based least-connection (ip_vs_lblc.c), for cache clusters: each
 * destination IP (ctx.destHost) sticks to the server it was last given. It is
 * re-chosen by wlc when that server is gone or quiesced, or when it has more
 * active connections than its weight while another server has fewer than half
 * of its weight. As in the kernel, the u_threshold `overloaded` flag of the cached
 * server is not consulted (only wlc's choice of a new server honours it).
 * Entries not looked up for 24 h (lblc_expiration) expire.
 *
 * pick() allocates only when it meets a destination IP with no entry.
 */
export class LocalityLeastConnectionScheduler implements Scheduler {
  readonly name = 'lblc' as const;
  #dests: readonly Destination[] = [];
  /** Current servers by key: entries point at servers that may have left (the kernel's trash). */
  #byKey = new Map<string, Destination>();
  readonly #table: LocalityTable<LblcEntry>;

  constructor(options: LocalityOptions = {}) {
    this.#table = new LocalityTable<LblcEntry>(options);
  }

  /** Number of destination IPs remembered. */
  get entryCount(): number {
    return this.#table.size;
  }

  /** The server a destination IP is cached on (no touch), for inspection. */
  cachedServerOf(destHost: string): Destination | undefined {
    return this.#table.peek(destHost)?.dest;
  }

  update(dests: readonly Destination[]): void {
    validateDestinations(dests);
    this.#dests = dests.slice();
    this.#byKey = new Map(dests.map((d) => [d.key, d]));
  }

  pick(ctx: PickContext): Destination | undefined {
    const entry = this.#table.lookup(ctx.destHost, ctx.now);
    if (entry !== undefined) {
      // A server that left and came back (same key) is the same server again.
      const live = this.#byKey.get(entry.dest.key);
      if (live !== undefined) {
        entry.dest = live;
        if (live.weight > 0 && !isLocalityOverloaded(live, this.#dests)) return live;
      }
    }
    const dest = pickWeightedLeastConn(this.#dests);
    if (dest === undefined) return undefined;
    if (entry !== undefined) {
      entry.dest = dest;
      entry.lastUse = ctx.now;
    } else {
      this.#table.insert(ctx.destHost, { dest, lastUse: ctx.now });
    }
    return dest;
  }
}
