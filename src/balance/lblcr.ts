import { isLocalityOverloaded } from './locality-overload.ts';
import { type LocalityEntry, type LocalityOptions, LocalityTable } from './locality-table.ts';
import { connOverhead } from './overhead.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';
import { validateDestinations } from './validate-destinations.ts';
import { pickWeightedLeastConn } from './weighted-least-conn.ts';

interface LblcrEntry extends LocalityEntry {
  /** The server set, newest first (the kernel adds at the list head). */
  members: Destination[];
  /** ctx.now of the last change to `members`. */
  lastMod: number;
}

/**
 * Locality-based least-connection with replication (ip_vs_lblcr.c): each
 * destination IP (ctx.destHost) has a *set* of servers. A pick takes the set
 * member with the lowest overhead/weight; when there is none usable, or it is
 * "overloaded" in lblc's sense (active > weight while some server has active <
 * weight/2), wlc picks a server from the whole service and it joins the set.
 * When the set has more than one member and has not changed for lblcr_expiration
 * (24 h by default), its most loaded member is dropped, one per pick. Entries not
 * looked up for the same period expire.
 *
 * pick() allocates only when a destination IP or a set member is new.
 */
export class LocalityLeastConnectionReplicationScheduler implements Scheduler {
  readonly name = 'lblcr' as const;
  #dests: readonly Destination[] = [];
  #byKey = new Map<string, Destination>();
  readonly #table: LocalityTable<LblcrEntry>;

  constructor(options: LocalityOptions = {}) {
    this.#table = new LocalityTable<LblcrEntry>(options);
  }

  /** Number of destination IPs remembered. */
  get entryCount(): number {
    return this.#table.size;
  }

  /** The server set of a destination IP (no touch), for inspection. */
  serverSetOf(destHost: string): readonly Destination[] | undefined {
    return this.#table.peek(destHost)?.members;
  }

  update(dests: readonly Destination[]): void {
    validateDestinations(dests);
    this.#dests = dests.slice();
    this.#byKey = new Map(dests.map((d) => [d.key, d]));
  }

  pick(ctx: PickContext): Destination | undefined {
    const now = ctx.now;
    const entry = this.#table.lookup(ctx.destHost, now);
    if (entry === undefined) {
      const dest = pickWeightedLeastConn(this.#dests);
      if (dest === undefined) return undefined;
      this.#table.insert(ctx.destHost, { members: [dest], lastUse: now, lastMod: now });
      return dest;
    }
    let dest = this.#leastLoadedMember(entry);
    // Shrink a set that has been stable long enough (time_after: strictly later).
    if (entry.members.length > 1 && now > entry.lastMod + this.#table.expirationMs) {
      const most = mostLoadedMemberIndex(entry.members);
      if (most >= 0) {
        removeAt(entry.members, most);
        entry.lastMod = now;
      }
    }
    if (dest !== undefined && !isLocalityOverloaded(dest, this.#dests)) return dest;
    dest = pickWeightedLeastConn(this.#dests);
    if (dest === undefined) return undefined;
    if (!hasMember(entry.members, dest)) {
      entry.members.unshift(dest);
      entry.lastMod = now;
    }
    return dest;
  }

  /**
   * ip_vs_dest_set_min: the member with the lowest overhead/weight among those
   * still in the service, not quiesced and not overloaded. Members that left stay
   * in the set (as the kernel keeps them in its trash) and are rebound if they return.
   */
  #leastLoadedMember(entry: LblcrEntry): Destination | undefined {
    const members = entry.members;
    let least: Destination | undefined;
    let loh = 0;
    for (let i = 0; i < members.length; i++) {
      const live = this.#byKey.get(members[i]!.key);
      if (live === undefined) continue;
      members[i] = live;
      if (live.overloaded || live.weight <= 0) continue;
      const doh = connOverhead(live);
      if (least === undefined || loh * live.weight > doh * least.weight) {
        least = live;
        loh = doh;
      }
    }
    return least;
  }
}

/**
 * ip_vs_dest_set_max: the member with the highest overhead/weight among those
 * with weight > 0 (availability and the overload flag are not consulted). -1 if none.
 */
function mostLoadedMemberIndex(members: readonly Destination[]): number {
  let most = -1;
  let moh = 0;
  for (let i = 0; i < members.length; i++) {
    const d = members[i]!;
    if (d.weight <= 0) continue;
    const doh = connOverhead(d);
    if (most < 0 || moh * d.weight < doh * members[most]!.weight) {
      most = i;
      moh = doh;
    }
  }
  return most;
}

function hasMember(members: readonly Destination[], dest: Destination): boolean {
  for (let i = 0; i < members.length; i++) if (members[i]!.key === dest.key) return true;
  return false;
}

/** Removes members[index] in place (splice would allocate the removed part). */
function removeAt(members: Destination[], index: number): void {
  for (let i = index; i < members.length - 1; i++) members[i] = members[i + 1]!;
  members.length--;
}
