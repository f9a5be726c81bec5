import type { Scheduler } from '../balance/types.ts';
import { MAX_WEIGHT } from '../balance/validate-destinations.ts';
import type { RealServerConfig, VirtualServerConfig } from '../config/model.ts';
import { formatHostPort } from '../core/address.ts';
import { HastackError } from '../core/errors.ts';
import { StatsBlock } from './connection-stats.ts';
import { DestinationPool, type PoolMember, type PoolState } from './destination-pool.ts';
import { DEFAULT_MAX_TEMPLATES, type PersistenceOptions } from './persistence.ts';
import { SERVICE_SLOT, SlotCounters } from './slot-counters.ts';

/** Scripts keepalived runs for a virtual server. */
export type ScriptEvent = 'notify_up' | 'notify_down' | 'quorum_up' | 'quorum_down';

/** What the table wants done; the shell runs scripts and writes logs. */
export type TableAction =
  | { kind: 'script'; event: ScriptEvent; command: string; server?: string }
  | { kind: 'log'; level: 'info' | 'warn'; message: string; server?: string };

/** Health known for a server when it is registered (e.g. from HealthWatch.status). */
export interface KnownHealth {
  up: boolean;
  weight?: number;
}

export interface ServiceTableOptions {
  scheduler: Scheduler;
  /** Shared with worker threads when there are any; local otherwise. */
  counters?: SlotCounters;
  /** The main thread's stats writer. */
  stats?: StatsBlock;
  /** Slots for real servers over the service's life (slot 0 is the service). Default 1024. */
  capacity?: number;
  maxPersistenceTemplates?: number;
  /** A slot moves to another server: stats readers must start it from zero. */
  onSlotReused?: (slot: number) => void;
}

/** One real server as status shows it. */
export interface RealServerRow {
  key: string;
  host: string;
  port: number;
  slot: number;
  configuredWeight: number;
  /** The weight the scheduler uses now (0 when down-inhibited, drained, replaced by the sorry server). */
  weight: number;
  /** misc_dynamic weight, if a check set one. */
  dynamicWeight: number | undefined;
  /** Admin override (setWeight), if any. */
  adminWeight: number | undefined;
  up: boolean;
  /** In IPVS's destination list (down servers are not, unless inhibit_on_failure). */
  inTable: boolean;
  /** Admin drain, or removed from the config and waiting for its connections. */
  draining: boolean;
  removed: boolean;
  overloaded: boolean;
  activeConns: number;
  inactiveConns: number;
  config: RealServerConfig;
}

export interface SorryRow {
  key: string;
  host: string;
  port: number;
  slot: number;
  /** Replacing the real servers now (quorum lost). */
  active: boolean;
  inTable: boolean;
  weight: number;
  activeConns: number;
  inactiveConns: number;
}

interface Entry {
  key: string;
  config: RealServerConfig;
  slot: number;
  up: boolean;
  dynamicWeight: number | undefined;
  adminWeight: number | undefined;
  adminDrain: boolean;
  removed: boolean;
  /** A health report arrived since registration (keepalived's checker has_run). */
  reported: boolean;
}

/** "host:port" ("[v6]:port"): the key of a real server in its service. */
export function realServerKey(host: string, port: number): string {
  return formatHostPort(host, port);
}

/** A real server with no checks is always up; with checks it starts down under alpha. */
export function initiallyUp(vs: VirtualServerConfig, rs: RealServerConfig): boolean {
  if (rs.checks.length === 0) return true;
  return !(vs.startDown || rs.checks.some((c) => c.startDown));
}

function clampWeight(w: number): number {
  if (!Number.isFinite(w)) return 0;
  return Math.min(MAX_WEIGHT, Math.max(0, Math.trunc(w)));
}

function sameChecks(a: RealServerConfig, b: RealServerConfig): boolean {
  return JSON.stringify(a.checks) === JSON.stringify(b.checks);
}

const DEFAULT_CAPACITY = 1024;

/**
 * The state of one virtual service as keepalived's checker and IPVS keep it:
 * real servers with configured, dynamic and admin weights, health, drain,
 * inhibit_on_failure, quorum with hysteresis, the sorry server, notify scripts.
 * Pure: it returns actions (run this script, log this) and pushes its decisions
 * into its DestinationPool; it never does I/O and has no timers.
 */
export class ServiceTable {
  #config: VirtualServerConfig;
  readonly #counters: SlotCounters;
  readonly #pool: DestinationPool;
  readonly #capacity: number;
  readonly #maxTemplates: number;
  readonly #onSlotReused: ((slot: number) => void) | undefined;
  /** In config order; removed servers stay until their connections are gone. */
  #entries = new Map<string, Entry>();
  readonly #slotByKey = new Map<string, number>();
  #nextSlot = SERVICE_SLOT + 1;
  #quorumUp = false;
  /** keepalived: the sorry server is "alive" in the pool. */
  #sorryInService = false;
  #started = false;
  #stopped = false;
  #version = 0;
  #lastState = '';

  constructor(config: VirtualServerConfig, options: ServiceTableOptions) {
    this.#config = config;
    this.#capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.#counters = options.counters ?? new SlotCounters(this.#capacity);
    if (this.#counters.capacity < this.#capacity) {
      throw new HastackError('HASTACK_L4_INVALID_CAPACITY', 'counter block smaller than the table capacity');
    }
    this.#maxTemplates = options.maxPersistenceTemplates ?? DEFAULT_MAX_TEMPLATES;
    this.#onSlotReused = options.onSlotReused;
    this.#pool = new DestinationPool({
      counters: this.#counters,
      stats: options.stats ?? new StatsBlock(this.#capacity),
      scheduler: options.scheduler,
      persistence: this.persistenceOptions(),
      vipHost: config.host,
      vipPort: config.port,
    });
    for (const rs of config.realServers) this.#addEntry(rs, undefined);
  }

  get config(): VirtualServerConfig {
    return this.#config;
  }

  /** The main thread's data plane, kept in sync with every decision. */
  get pool(): DestinationPool {
    return this.#pool;
  }

  get counters(): SlotCounters {
    return this.#counters;
  }

  get quorumUp(): boolean {
    return this.#quorumUp;
  }

  get sorryActive(): boolean {
    return this.#sorryInService;
  }

  /** Increments whenever the routing state (list, weights, sorry) changes. */
  get version(): number {
    return this.#version;
  }

  /** keepalived's weigh_live_realservers: sum of the weights of live servers. */
  get liveWeight(): number {
    let sum = 0;
    for (const e of this.#entries.values()) if (!e.removed && e.up) sum += this.#baseWeight(e);
    return sum;
  }

  persistenceOptions(): PersistenceOptions | undefined {
    const c = this.#config;
    if (c.persistenceTimeoutMs <= 0) return undefined;
    return {
      timeoutMs: c.persistenceTimeoutMs,
      granularity: c.persistenceGranularity,
      maxTemplates: this.#maxTemplates,
    };
  }

  /** Whether `key` is a configured (not removed) real server. */
  isActive(key: string): boolean {
    const e = this.#entries.get(key);
    return e !== undefined && !e.removed;
  }

  /**
   * Computes the starting state: health per alpha (or `known`), quorum as
   * keepalived's set_quorum_states, and the sorry server when starting without
   * quorum. Runs quorum_down only in that sorry-server case, as keepalived does.
   */
  start(known?: (key: string) => KnownHealth | undefined): TableAction[] {
    const actions: TableAction[] = [];
    if (known !== undefined) {
      for (const e of this.#entries.values()) this.#applyKnown(e, known(e.key));
    }
    this.#started = true;
    this.#quorumUp = this.liveWeight >= this.#config.quorum + this.#config.hysteresis;
    this.#evaluateQuorum(true, actions);
    this.#commit();
    return actions;
  }

  /** A health transition (or misc_dynamic weight) of one real server. */
  applyHealth(key: string, up: boolean, weight: number | undefined, reason: string): TableAction[] {
    const e = this.#entries.get(key);
    if (e === undefined || e.removed || this.#stopped) return [];
    const actions: TableAction[] = [];
    if (weight !== undefined) {
      const w = clampWeight(weight);
      if (w !== e.dynamicWeight) {
        const before = this.#baseWeight(e);
        e.dynamicWeight = w;
        const after = this.#baseWeight(e);
        if (before !== after) {
          actions.push({
            kind: 'log',
            level: 'info',
            server: key,
            message: `Changing weight from ${before} to ${after} for ${e.up ? '' : 'in'}active service ${key} of VS ${this.#config.name}`,
          });
        }
      }
    }
    if (up !== e.up) {
      e.up = up;
      this.#transition(e, up, reason, actions);
    } else if (!e.reported && !up) {
      // keepalived: the first failed check of a server that started down (alpha) still notifies.
      this.#notifyServer(e, false, actions);
    }
    e.reported = true;
    this.#evaluateQuorum(false, actions);
    this.#commit();
    return actions;
  }

  /**
   * Adopts the health a monitor already holds without notifying (used after
   * re-registering a server whose checks changed).
   */
  syncHealth(key: string, known: KnownHealth | undefined): TableAction[] {
    const e = this.#entries.get(key);
    if (e === undefined || e.removed || known === undefined) return [];
    return this.applyHealth(key, known.up, known.weight, 'checks changed');
  }

  /** Admin override of the weight (ipvsadm -e -w); also ends an admin drain. */
  setWeight(key: string, weight: number): TableAction[] {
    const e = this.#require(key);
    if (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
      throw new HastackError(
        'HASTACK_L4_INVALID_WEIGHT',
        `weight must be an integer 0..${MAX_WEIGHT}, got ${weight}`,
        {
          details: { realServer: key, weight },
        },
      );
    }
    const actions: TableAction[] = [];
    e.adminWeight = weight;
    e.adminDrain = false;
    actions.push({
      kind: 'log',
      level: 'info',
      server: key,
      message: `weight of ${key} set to ${weight} by admin`,
    });
    this.#evaluateQuorum(false, actions);
    this.#commit();
    return actions;
  }

  /** Weight 0 until told otherwise: no new connections, established ones finish. */
  drain(key: string): TableAction[] {
    const e = this.#require(key);
    const actions: TableAction[] = [];
    if (!e.adminDrain) {
      e.adminDrain = true;
      actions.push({ kind: 'log', level: 'info', server: key, message: `draining ${key} by admin` });
    }
    this.#evaluateQuorum(false, actions);
    this.#commit();
    return actions;
  }

  /**
   * A reload: new servers join (health per alpha or `known`), removed ones leave
   * the scheduler and drain, changed weights/thresholds apply. An admin weight
   * survives unless the configured weight of that server changed. Returns the
   * servers whose health registration must be dropped or renewed.
   */
  reconfigure(
    config: VirtualServerConfig,
    known?: (key: string) => KnownHealth | undefined,
  ): { actions: TableAction[]; removed: RealServerConfig[]; checksChanged: RealServerConfig[] } {
    const actions: TableAction[] = [];
    const removed: RealServerConfig[] = [];
    const checksChanged: RealServerConfig[] = [];
    const previous = this.#config;
    this.#config = config;
    const wanted = new Set<string>();
    const ordered = new Map<string, Entry>();
    for (const rs of config.realServers) {
      const key = realServerKey(rs.host, rs.port);
      wanted.add(key);
      let e = this.#entries.get(key);
      if (e === undefined) {
        e = this.#addEntry(rs, known?.(key));
        actions.push({
          kind: 'log',
          level: 'info',
          server: key,
          message: `Adding service ${key} to VS ${config.name}`,
        });
      } else if (e.removed) {
        e.removed = false;
        e.config = rs;
        e.up = initiallyUp(config, rs);
        e.reported = false;
        e.adminDrain = false;
        e.adminWeight = undefined;
        e.dynamicWeight = undefined;
        this.#applyKnown(e, known?.(key));
        actions.push({
          kind: 'log',
          level: 'info',
          server: key,
          message: `Adding service ${key} to VS ${config.name}`,
        });
      } else {
        if (!sameChecks(e.config, rs)) checksChanged.push(rs);
        if (e.config.weight !== rs.weight) {
          e.adminWeight = undefined;
          actions.push({
            kind: 'log',
            level: 'info',
            server: key,
            message: `configured weight of ${key} changed from ${e.config.weight} to ${rs.weight}`,
          });
        }
        e.config = rs;
      }
      ordered.set(key, e);
    }
    for (const [key, e] of this.#entries) {
      if (wanted.has(key)) continue;
      ordered.set(key, e);
      if (e.removed) continue;
      e.removed = true;
      removed.push(e.config);
      actions.push({ kind: 'log', level: 'info', server: key, message: `service ${key} no longer exist` });
      if (e.up) {
        e.up = false;
        this.#notifyServer(e, false, actions);
      }
    }
    this.#entries = ordered;
    const oldSorry = previous.sorryServer;
    const newSorry = config.sorryServer;
    if (
      this.#sorryInService &&
      (newSorry === undefined ||
        oldSorry === undefined ||
        realServerKey(oldSorry.host, oldSorry.port) !== realServerKey(newSorry.host, newSorry.port))
    ) {
      // The sorry server was replaced or dropped: take it out; alive servers return unless quorum says otherwise.
      this.#sorryInService = false;
      if (oldSorry !== undefined) {
        actions.push({
          kind: 'log',
          level: 'info',
          message: `Removing sorry server ${realServerKey(oldSorry.host, oldSorry.port)} from VS ${config.name}`,
        });
      }
    }
    this.#pool.setVip(config.host, config.port);
    this.#pool.setPersistence(this.persistenceOptions());
    if (this.#started) this.#evaluateQuorum(true, actions);
    this.#commit();
    return { actions, removed, checksChanged };
  }

  setScheduler(scheduler: Scheduler): void {
    this.#pool.setScheduler(scheduler);
  }

  /** Deletes removed servers whose last connection is gone; their slot may be reused. */
  reap(): TableAction[] {
    const actions: TableAction[] = [];
    for (const [key, e] of this.#entries) {
      if (!e.removed) continue;
      if (this.#counters.active(e.slot) + this.#counters.inactive(e.slot) > 0) continue;
      this.#entries.delete(key);
      actions.push({
        kind: 'log',
        level: 'info',
        server: key,
        message: `removed real server ${key} has no connections left`,
      });
    }
    return actions;
  }

  /**
   * Shutdown. With omega (notifyDownOnStop) the notify_down of every live server
   * and quorum_down run, as keepalived does on exit; without it nothing runs.
   */
  stop(): TableAction[] {
    if (this.#stopped) return [];
    this.#stopped = true;
    const actions: TableAction[] = [];
    const omega = this.#config.notifyDownOnStop;
    for (const e of this.#entries.values()) {
      if (e.removed || !e.up) continue;
      e.up = false;
      if (omega) this.#notifyServer(e, false, actions);
    }
    this.#quorumUp = false;
    if (omega && this.#config.quorumDown !== undefined) {
      actions.push({ kind: 'script', event: 'quorum_down', command: this.#config.quorumDown });
    }
    return actions;
  }

  /** The routing state for data planes (this table's pool and worker threads). */
  poolState(): PoolState {
    const members: PoolMember[] = [];
    for (const e of this.#entries.values()) {
      if (!this.#inTable(e)) continue;
      members.push({
        key: e.key,
        host: e.config.host,
        port: e.config.port,
        slot: e.slot,
        weight: this.#effectiveWeight(e),
        upperThreshold: e.config.upperThreshold,
        lowerThreshold: e.config.lowerThreshold,
      });
    }
    const sorry = this.#config.sorryServer;
    const state: PoolState = { members, sorryActive: this.#sorryInService };
    if (sorry !== undefined) {
      const key = realServerKey(sorry.host, sorry.port);
      state.sorry = {
        key,
        host: sorry.host,
        port: sorry.port,
        slot: this.#slotFor(`sorry/${key}`),
        weight: 1,
        upperThreshold: 0,
        lowerThreshold: 0,
      };
    }
    return state;
  }

  rows(): RealServerRow[] {
    const rows: RealServerRow[] = [];
    for (const e of this.#entries.values()) {
      rows.push({
        key: e.key,
        host: e.config.host,
        port: e.config.port,
        slot: e.slot,
        configuredWeight: e.config.weight,
        weight: this.#effectiveWeight(e),
        dynamicWeight: e.dynamicWeight,
        adminWeight: e.adminWeight,
        up: e.up,
        inTable: this.#inTable(e),
        draining: e.adminDrain || e.removed,
        removed: e.removed,
        overloaded: this.#counters.overloaded(e.slot),
        activeConns: this.#counters.active(e.slot),
        inactiveConns: this.#counters.inactive(e.slot),
        config: e.config,
      });
    }
    return rows;
  }

  sorryRow(): SorryRow | undefined {
    const sorry = this.#config.sorryServer;
    if (sorry === undefined) return undefined;
    const key = realServerKey(sorry.host, sorry.port);
    const slot = this.#slotFor(`sorry/${key}`);
    return {
      key,
      host: sorry.host,
      port: sorry.port,
      slot,
      active: this.#sorryInService,
      inTable: this.#sorryInService || this.#config.sorryServerInhibit,
      weight: this.#sorryInService ? 1 : 0,
      activeConns: this.#counters.active(slot),
      inactiveConns: this.#counters.inactive(slot),
    };
  }

  // --- internals -------------------------------------------------------------

  #addEntry(rs: RealServerConfig, known: KnownHealth | undefined): Entry {
    const key = realServerKey(rs.host, rs.port);
    const e: Entry = {
      key,
      config: rs,
      slot: this.#slotFor(key),
      up: initiallyUp(this.#config, rs),
      dynamicWeight: undefined,
      adminWeight: undefined,
      adminDrain: false,
      removed: false,
      reported: false,
    };
    this.#applyKnown(e, known);
    this.#entries.set(key, e);
    return e;
  }

  #applyKnown(e: Entry, known: KnownHealth | undefined): void {
    if (known === undefined) return;
    e.up = known.up;
    if (known.weight !== undefined) e.dynamicWeight = clampWeight(known.weight);
  }

  #require(key: string): Entry {
    const e = this.#entries.get(key);
    if (e === undefined || e.removed) {
      throw new HastackError(
        'HASTACK_L4_UNKNOWN_REAL_SERVER',
        `virtual server "${this.#config.name}" has no real server "${key}"`,
        { details: { virtualServer: this.#config.name, realServer: key } },
      );
    }
    return e;
  }

  /** Admin drain > admin weight > misc_dynamic weight > configured weight. */
  #baseWeight(e: Entry): number {
    if (e.adminDrain) return 0;
    return e.adminWeight ?? e.dynamicWeight ?? e.config.weight;
  }

  /**
   * In IPVS's list? Live servers are, unless the sorry server replaced the pool;
   * with inhibit_on_failure a server stays listed (weight 0) whatever happens.
   */
  #inTable(e: Entry): boolean {
    if (e.removed) return false;
    if (this.#config.inhibitOnFailure) return true;
    return e.up && !this.#sorryInService;
  }

  #effectiveWeight(e: Entry): number {
    if (e.removed || !e.up || this.#sorryInService) return 0;
    return this.#baseWeight(e);
  }

  #transition(e: Entry, up: boolean, reason: string, actions: TableAction[]): void {
    const inhibit = this.#config.inhibitOnFailure;
    const verb = up ? (inhibit ? 'Enabling' : 'Adding') : inhibit ? 'Disabling' : 'Removing';
    const prep = inhibit ? 'of' : up ? 'to' : 'from';
    actions.push({
      kind: 'log',
      level: up ? 'info' : 'warn',
      server: e.key,
      message: `${verb} service ${e.key} ${prep} VS ${this.#config.name}${reason ? ` (${reason})` : ''}`,
    });
    this.#notifyServer(e, up, actions);
  }

  #notifyServer(e: Entry, up: boolean, actions: TableAction[]): void {
    const command = up ? e.config.notifyUp : e.config.notifyDown;
    if (command !== undefined) {
      actions.push({ kind: 'script', event: up ? 'notify_up' : 'notify_down', command, server: e.key });
    }
  }

  /** keepalived's update_quorum_state (ipwrapper.c), including the sorry server swap. */
  #evaluateQuorum(init: boolean, actions: TableAction[]): void {
    if (!this.#started || this.#stopped) return;
    const c = this.#config;
    const sum = this.liveWeight;
    const threshold = c.quorum + (this.#quorumUp ? -1 : 1) * c.hysteresis;
    const sorry = c.sorryServer;
    if (!this.#quorumUp && sum >= threshold) {
      this.#quorumUp = true;
      actions.push({
        kind: 'log',
        level: 'info',
        message: `Gained quorum ${c.quorum}+${c.hysteresis}=${threshold} <= ${sum} for VS ${c.name}`,
      });
      if (this.#sorryInService && sorry !== undefined) {
        this.#sorryInService = false;
        actions.push({
          kind: 'log',
          level: 'info',
          message: `${c.sorryServerInhibit ? 'Disabling' : 'Removing'} sorry server ${realServerKey(sorry.host, sorry.port)} from VS ${c.name}`,
        });
      }
      if (c.quorumUp !== undefined) actions.push({ kind: 'script', event: 'quorum_up', command: c.quorumUp });
      return;
    }
    const lost = this.#quorumUp && (sum === 0 || sum < threshold);
    const startingWithSorry = init && !this.#quorumUp && sorry !== undefined && !this.#sorryInService;
    if (!lost && !startingWithSorry) return;
    this.#quorumUp = false;
    actions.push({
      kind: 'log',
      level: 'warn',
      message: `${init && !lost ? 'Starting with quorum down' : 'Lost quorum'} ${c.quorum}-${c.hysteresis}=${threshold} > ${sum} for VS ${c.name}`,
    });
    if (sorry !== undefined && !this.#sorryInService) {
      this.#sorryInService = true;
      actions.push({
        kind: 'log',
        level: 'warn',
        message: `${c.sorryServerInhibit ? 'Enabling' : 'Adding'} sorry server ${realServerKey(sorry.host, sorry.port)} to VS ${c.name}`,
      });
    }
    if (c.quorumDown !== undefined)
      actions.push({ kind: 'script', event: 'quorum_down', command: c.quorumDown });
  }

  /** Pushes the current decision into the pool; bumps the version when it changed. */
  #commit(): void {
    const state = this.poolState();
    const json = JSON.stringify(state);
    if (json === this.#lastState) return;
    this.#lastState = json;
    this.#version++;
    this.#pool.apply(state);
  }

  /** A slot per key for the service's life; slots of long-gone servers are reused when full. */
  #slotFor(key: string): number {
    const known = this.#slotByKey.get(key);
    if (known !== undefined) return known;
    let slot: number | undefined;
    if (this.#nextSlot < this.#capacity) {
      slot = this.#nextSlot++;
    } else {
      slot = this.#reclaimSlot();
    }
    this.#slotByKey.set(key, slot);
    return slot;
  }

  #reclaimSlot(): number {
    const inUse = new Set<number>();
    for (const e of this.#entries.values()) inUse.add(e.slot);
    const sorry = this.#config.sorryServer;
    if (sorry !== undefined) {
      const s = this.#slotByKey.get(`sorry/${realServerKey(sorry.host, sorry.port)}`);
      if (s !== undefined) inUse.add(s);
    }
    for (const [key, slot] of this.#slotByKey) {
      if (inUse.has(slot)) continue;
      if (this.#counters.active(slot) + this.#counters.inactive(slot) > 0) continue;
      this.#slotByKey.delete(key);
      this.#counters.reset(slot);
      this.#onSlotReused?.(slot);
      return slot;
    }
    throw new HastackError(
      'HASTACK_L4_TOO_MANY_SERVERS',
      `virtual server "${this.#config.name}" cannot track more than ${this.#capacity - 1} real servers at once`,
    );
  }
}
