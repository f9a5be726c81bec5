import { updateOverload } from '../balance/overload.ts';
import type { Destination, PickContext, Scheduler } from '../balance/types.ts';
import type { StatsBlock } from './connection-stats.ts';
import { type PersistenceOptions, PersistenceTable, type PersistenceTemplate } from './persistence.ts';
import type { SlotCounters } from './slot-counters.ts';

/** One schedulable server as the control plane describes it (plain data: crosses thread boundaries). */
export interface PoolMember {
  key: string;
  host: string;
  port: number;
  slot: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
}

/** What a data plane needs to route new connections; sent to workers on every change. */
export interface PoolState {
  /** The scheduler's list (IPVS's destinations of the service), in config order. */
  members: PoolMember[];
  /** The configured sorry server, if any. */
  sorry?: PoolMember;
  /** Quorum is lost and the sorry server replaces the real servers. */
  sorryActive: boolean;
}

/**
 * A real server as schedulers see it. The counters live in a (possibly shared)
 * slot so every thread's scheduler reads global numbers; weight and thresholds
 * are this thread's copy of the control plane's decision.
 */
export class PoolDestination implements Destination {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  readonly slot: number;
  weight = 0;
  upperThreshold = 0;
  lowerThreshold = 0;
  /** Currently in the scheduler's list. */
  inService = false;
  readonly #counters: SlotCounters;

  constructor(member: PoolMember, counters: SlotCounters) {
    this.key = member.key;
    this.host = member.host;
    this.port = member.port;
    this.slot = member.slot;
    this.#counters = counters;
  }

  get activeConns(): number {
    return this.#counters.active(this.slot);
  }

  set activeConns(value: number) {
    this.#counters.setActive(this.slot, value);
  }

  get inactiveConns(): number {
    return this.#counters.inactive(this.slot);
  }

  set inactiveConns(value: number) {
    this.#counters.setInactive(this.slot, value);
  }

  get overloaded(): boolean {
    return this.#counters.overloaded(this.slot);
  }

  set overloaded(value: boolean) {
    this.#counters.setOverloaded(this.slot, value);
  }
}

/** Connection states as IPVS counts them. */
export const NOT_COUNTED = 0;
/** Connecting, half-closed or closing (IPVS inactconns; every UDP session). */
export const INACTIVE = 1;
/** Established both ways (IPVS activeconns). */
export const ACTIVE = 2;

/** The routing facts a proxy keeps per connection; the pool reads and writes them. */
export interface RoutedConnection {
  clientHost: string;
  clientPort: number;
  dest: PoolDestination | undefined;
  template: PersistenceTemplate<PoolDestination> | undefined;
  /** NOT_COUNTED, INACTIVE or ACTIVE. */
  counted: number;
  /** Servers that refused this connection, avoided by the retry. */
  failed: PoolDestination[] | undefined;
}

export interface DestinationPoolOptions {
  counters: SlotCounters;
  stats: StatsBlock;
  scheduler: Scheduler;
  /** Omitted or timeout 0 = no persistence. */
  persistence?: PersistenceOptions | undefined;
  vipHost: string;
  vipPort: number;
}

/**
 * The data-plane half of a virtual service for one thread: the scheduler with its
 * stable Destination objects, persistence templates, the sorry server, and the
 * bookkeeping of every connection (IPVS bind/unbind, active/inactive, overload,
 * stats). The control plane (ServiceTable) decides membership and weights and
 * hands them over with `apply()`.
 */
export class DestinationPool {
  readonly #counters: SlotCounters;
  readonly #stats: StatsBlock;
  #scheduler: Scheduler;
  #persistence: PersistenceTable<PoolDestination> | undefined;
  #persistenceOptions: PersistenceOptions | undefined;
  /** By slot: a sorry server may share its address with a real server. */
  readonly #bySlot = new Map<number, PoolDestination>();
  #members: PoolDestination[] = [];
  #sorry: PoolDestination | undefined;
  #sorryActive = false;
  /** Reused for every pick: no allocation per connection. */
  readonly #ctx: PickContext;
  readonly #isAvailable = (d: PoolDestination): boolean => d.inService && d.weight > 0;

  constructor(options: DestinationPoolOptions) {
    this.#counters = options.counters;
    this.#stats = options.stats;
    this.#scheduler = options.scheduler;
    this.#ctx = {
      clientHost: '',
      clientPort: 0,
      destHost: options.vipHost,
      destPort: options.vipPort,
      now: 0,
    };
    this.setPersistence(options.persistence);
    this.#scheduler.update(this.#members);
  }

  get members(): readonly PoolDestination[] {
    return this.#members;
  }

  get sorry(): PoolDestination | undefined {
    return this.#sorry;
  }

  get sorryActive(): boolean {
    return this.#sorryActive;
  }

  get stats(): StatsBlock {
    return this.#stats;
  }

  get counters(): SlotCounters {
    return this.#counters;
  }

  get scheduler(): Scheduler {
    return this.#scheduler;
  }

  get persistenceSize(): number {
    return this.#persistence?.size ?? 0;
  }

  setVip(host: string, port: number): void {
    this.#ctx.destHost = host;
    this.#ctx.destPort = port;
  }

  setScheduler(scheduler: Scheduler): void {
    this.#scheduler = scheduler;
    scheduler.update(this.#members);
  }

  /** Changing timeout or granularity starts with an empty template table (ipvsadm -E does the same). */
  setPersistence(options: PersistenceOptions | undefined): void {
    const enabled = options !== undefined && options.timeoutMs > 0 ? options : undefined;
    const prev = this.#persistenceOptions;
    if (
      prev !== undefined &&
      enabled !== undefined &&
      prev.timeoutMs === enabled.timeoutMs &&
      prev.granularity === enabled.granularity &&
      prev.maxTemplates === enabled.maxTemplates
    ) {
      return;
    }
    this.#persistence?.clear();
    this.#persistenceOptions = enabled;
    this.#persistence = enabled === undefined ? undefined : new PersistenceTable(enabled);
  }

  /**
   * Takes the control plane's decision. Calls `scheduler.update()` only when the
   * list or a weight changed; Destination objects stay the same while listed.
   * Returns whether the scheduler's view changed.
   */
  apply(state: PoolState): boolean {
    let changed = state.members.length !== this.#members.length;
    const next: PoolDestination[] = [];
    for (let i = 0; i < state.members.length; i++) {
      const m = state.members[i]!;
      const d = this.#ensure(m);
      if (this.#members[i] !== d) changed = true;
      if (d.weight !== m.weight) {
        d.weight = m.weight;
        changed = true;
      }
      if (d.upperThreshold !== m.upperThreshold || d.lowerThreshold !== m.lowerThreshold) {
        d.upperThreshold = m.upperThreshold;
        d.lowerThreshold = m.lowerThreshold;
        updateOverload(d, d.upperThreshold, d.lowerThreshold);
      }
      next.push(d);
    }
    for (const d of this.#members) d.inService = false;
    for (const d of next) d.inService = true;
    this.#sorry = state.sorry === undefined ? undefined : this.#ensure(state.sorry);
    if (this.#sorry !== undefined) this.#sorry.weight = state.sorry!.weight;
    this.#sorryActive = state.sorryActive && this.#sorry !== undefined;
    // Forget objects nobody schedules any more; open connections keep their own reference.
    for (const [slot, d] of this.#bySlot) {
      if (!d.inService && d !== this.#sorry) this.#bySlot.delete(slot);
    }
    if (changed) {
      this.#members = next;
      this.#scheduler.update(next);
    }
    return changed;
  }

  /**
   * Chooses the server for a new connection: the sorry server while it replaces
   * the pool, else the client's persistence template, else the scheduler. Sets
   * `conn.template` when persistence applies. Undefined = nobody can take it.
   */
  pick(conn: RoutedConnection, now: number): PoolDestination | undefined {
    conn.template = undefined;
    if (this.#sorryActive) {
      const sorry = this.#sorry!;
      return conn.failed?.includes(sorry) ? undefined : sorry;
    }
    const persistence = this.#persistence;
    if (persistence !== undefined) {
      const t = persistence.lookup(conn.clientHost, now, this.#isAvailable);
      if (t !== undefined) {
        if (conn.failed === undefined || !conn.failed.includes(t.target)) {
          conn.template = t;
          return t.target;
        }
        persistence.remove(t);
      }
    }
    const ctx = this.#ctx;
    ctx.clientHost = conn.clientHost;
    ctx.clientPort = conn.clientPort;
    ctx.now = now;
    const d = conn.failed === undefined ? this.#pickScheduled() : this.#pickAvoiding(conn.failed);
    if (d !== undefined && persistence !== undefined) conn.template = persistence.create(conn.clientHost, d);
    return d;
  }

  /** Counts a scheduled connection on `dest` (inactive until established, as IPVS's SYN_RECV). */
  bind(conn: RoutedConnection, dest: PoolDestination, newForService: boolean): void {
    conn.dest = dest;
    conn.counted = INACTIVE;
    this.#count(dest.slot, 0, 1);
    this.#stats.countConnection(dest.slot, newForService);
    updateOverload(dest, dest.upperThreshold, dest.lowerThreshold);
    if (conn.template !== undefined) this.#persistence?.attach(conn.template);
  }

  /** Both directions are open: inactive → active. */
  establish(conn: RoutedConnection): void {
    if (conn.counted !== INACTIVE || conn.dest === undefined) return;
    conn.counted = ACTIVE;
    this.#count(conn.dest.slot, 1, -1);
  }

  /** A FIN went one way: active → inactive until both sides are closed. */
  finish(conn: RoutedConnection): void {
    if (conn.counted !== ACTIVE || conn.dest === undefined) return;
    conn.counted = INACTIVE;
    this.#count(conn.dest.slot, -1, 1);
  }

  /** The connection is gone. */
  unbind(conn: RoutedConnection, now: number): void {
    const dest = conn.dest;
    if (dest === undefined) return;
    if (conn.counted === ACTIVE) this.#count(dest.slot, -1, 0);
    else if (conn.counted === INACTIVE) this.#count(dest.slot, 0, -1);
    conn.counted = NOT_COUNTED;
    updateOverload(dest, dest.upperThreshold, dest.lowerThreshold);
    if (conn.template !== undefined) {
      this.#persistence?.detach(conn.template, now);
      conn.template = undefined;
    }
    conn.dest = undefined;
  }

  /** The chosen server refused or did not answer: forget the template, remember to avoid it. */
  connectFailed(conn: RoutedConnection, now: number): void {
    const dest = conn.dest;
    if (dest === undefined) return;
    this.#stats.countConnectFailure(dest.slot);
    if (conn.template !== undefined) this.#persistence?.remove(conn.template);
    this.unbind(conn, now);
    if (conn.failed === undefined) conn.failed = [dest];
    else conn.failed.push(dest);
  }

  countIn(conn: RoutedConnection, bytes: number): void {
    if (conn.dest !== undefined) this.#stats.countIn(conn.dest.slot, bytes);
  }

  countOut(conn: RoutedConnection, bytes: number): void {
    if (conn.dest !== undefined) this.#stats.countOut(conn.dest.slot, bytes);
  }

  /** Drops expired persistence templates (call periodically). */
  sweep(now: number): void {
    this.#persistence?.sweep(now);
  }

  /** Shared counters (global view) plus this thread's own share of them. */
  #count(slot: number, activeDelta: number, inactiveDelta: number): void {
    this.#counters.add(slot, activeDelta, inactiveDelta);
    this.#stats.trackOwn(slot, activeDelta, inactiveDelta);
  }

  #pickScheduled(): PoolDestination | undefined {
    return this.#scheduler.pick(this.#ctx) as PoolDestination | undefined;
  }

  /** A retry: hide the servers that failed by zeroing their local weight for this one pick. */
  #pickAvoiding(failed: PoolDestination[]): PoolDestination | undefined {
    const saved = failed.map((d) => d.weight);
    for (const d of failed) d.weight = 0;
    let d: PoolDestination | undefined;
    try {
      d = this.#pickScheduled();
    } finally {
      for (let i = 0; i < failed.length; i++) failed[i]!.weight = saved[i]!;
    }
    return d !== undefined && failed.includes(d) ? undefined : d;
  }

  #ensure(m: PoolMember): PoolDestination {
    const existing = this.#bySlot.get(m.slot);
    if (existing !== undefined && existing.key === m.key) return existing;
    const d = new PoolDestination(m, this.#counters);
    this.#bySlot.set(m.slot, d);
    return d;
  }
}
