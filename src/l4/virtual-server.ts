import { createScheduler } from '../balance/create-scheduler.ts';
import type { Scheduler } from '../balance/types.ts';
import type { RealServerConfig, VirtualServerConfig } from '../config/model.ts';
import { type Clock, type RandomSource, systemClock } from '../core/clock.ts';
import { errorMessage, HastackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { runScript } from '../core/run-script.ts';
import type { HealthChange, HealthWatch } from '../health/types.ts';
import { type SlotTotals, StatsBlock, StatsReader, trafficOf } from './connection-stats.ts';
import { RateEstimator, type TrafficRates, zeroRates } from './rate-estimator.ts';
import {
  initiallyUp,
  type KnownHealth,
  type RealServerRow,
  realServerKey,
  ServiceTable,
  type TableAction,
} from './service-table.ts';
import { SERVICE_SLOT, SlotCounters } from './slot-counters.ts';
import type { RealServerSnapshot, SorryServerSnapshot, VirtualServerSnapshot } from './snapshot.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { UdpProxy, udpSessionTimeout } from './udp-proxy.ts';
import { WorkerGroup } from './worker-group.ts';
import type { WorkerSettings } from './worker-protocol.ts';

export interface VirtualServerDeps {
  logger: Logger;
  health: HealthWatch;
  clock?: Clock;
  random?: RandomSource;
  runScript?: typeof runScript;
}

/** Slots per service: real servers (and the sorry server) over the service's life, reused when full. */
const SLOT_CAPACITY = 1024;
/** Housekeeping period: IPVS's estimator interval. */
const TICK_MS = 2000;
/** Notify scripts that run longer are killed. */
const SCRIPT_TIMEOUT_MS = 30_000;

type Front =
  | { kind: 'tcp'; proxy: TcpProxy }
  | { kind: 'udp'; proxy: UdpProxy }
  | { kind: 'workers'; group: WorkerGroup };

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * One L4 virtual server: keepalived's virtual_server with IPVS in NAT mode, done
 * as a userspace proxy. Owns the service table (health, weights, quorum, sorry
 * server), registers its real servers with the shared health monitor, listens on
 * the VIP (one thread, or N worker threads with SO_REUSEPORT), runs notify
 * scripts, and reloads without dropping established connections.
 */
export class VirtualServer {
  #config: VirtualServerConfig;
  readonly #deps: VirtualServerDeps;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #runScript: typeof runScript;
  readonly #counters: SlotCounters;
  readonly #mainStats: StatsBlock;
  /** Totals of worker threads that have ended. */
  readonly #retiredStats: StatsBlock;
  readonly #reader: StatsReader;
  readonly #estimators = new Map<number, RateEstimator>();
  /** Worker stats blocks already added into #retiredStats. */
  readonly #foldedBlocks = new WeakSet<StatsBlock>();
  readonly #table: ServiceTable;
  #front: Front | undefined;
  /** Earlier listeners still serving their connections after a rebind. */
  readonly #retiring = new Map<Front, Promise<void>>();
  #unsubscribe: (() => void) | undefined;
  #tick: NodeJS.Timeout | undefined;
  readonly #scripts = new Set<Promise<void>>();
  readonly #registered = new Set<string>();
  #state: State = 'idle';
  #stopping: Promise<void> | undefined;
  #pushedVersion = -1;

  constructor(config: VirtualServerConfig, deps: VirtualServerDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#logger = deps.logger;
    this.#clock = deps.clock ?? systemClock;
    this.#runScript = deps.runScript ?? runScript;
    // Shared memory from the start, so a reload may switch to worker threads.
    this.#counters = SlotCounters.shared(SLOT_CAPACITY);
    this.#mainStats = new StatsBlock(SLOT_CAPACITY);
    this.#retiredStats = new StatsBlock(SLOT_CAPACITY);
    this.#reader = new StatsReader(SLOT_CAPACITY);
    this.#reader.addBlock(this.#mainStats);
    this.#reader.addBlock(this.#retiredStats);
    this.#table = new ServiceTable(config, {
      scheduler: this.#newScheduler(config),
      counters: this.#counters,
      stats: this.#mainStats,
      capacity: SLOT_CAPACITY,
      onSlotReused: (slot) => {
        this.#reader.rebase(slot);
        this.#estimators.delete(slot);
      },
    });
  }

  get name(): string {
    return this.#config.name;
  }

  get config(): VirtualServerConfig {
    return this.#config;
  }

  /** Registers real servers with the health monitor and listens. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') {
      throw new HastackError('HASTACK_L4_STATE', `virtual server "${this.name}" was already started`);
    }
    this.#state = 'starting';
    this.#unsubscribe = this.#deps.health.subscribe((change) => this.#onHealth(change));
    for (const rs of this.#config.realServers) this.#register(rs);
    this.#execute(this.#table.start((key) => this.#known(key)));
    try {
      this.#front = await this.#openFront(this.#config, this.#config.port);
    } catch (err) {
      this.#unsubscribe();
      this.#unsubscribe = undefined;
      for (const id of this.#registered) this.#deps.health.remove(id);
      this.#registered.clear();
      this.#state = 'stopped';
      throw err;
    }
    if (this.#state !== 'starting') {
      // stop() was called while we were binding.
      await this.#closeFront(this.#front, 0);
      return;
    }
    this.#pushedVersion = this.#table.version;
    this.#state = 'running';
    this.#tick = setInterval(() => this.#housekeeping(), TICK_MS);
    this.#tick.unref();
    const a = this.address();
    this.#logger.info(
      {
        protocol: this.#config.protocol,
        address: realServerKey(a.host, a.port),
        scheduler: this.#config.scheduler,
        workers: this.#workerCount(this.#config),
        realServers: this.#config.realServers.length,
      },
      'virtual server listening',
    );
  }

  /** The bound address (port 0 in the config → the port the system chose). */
  address(): { host: string; port: number } {
    const f = this.#front;
    if (f === undefined) return { host: this.#config.host, port: this.#config.port };
    return f.kind === 'workers' ? f.group.address() : f.proxy.address();
  }

  /**
   * Applies a new config without dropping established connections: added real
   * servers join, removed ones drain, weights/scheduler/checks/timeouts apply; a
   * new listen address (or protocol, or worker count) opens the new listener
   * first, then the old one stops accepting and serves its connections to the end.
   */
  async update(config: VirtualServerConfig): Promise<void> {
    if (config.name !== this.#config.name) {
      throw new HastackError(
        'HASTACK_L4_RENAME',
        `virtual server "${this.#config.name}" cannot be renamed to "${config.name}" by a reload`,
      );
    }
    if (this.#state === 'idle') {
      this.#config = config;
      this.#table.reconfigure(config);
      return;
    }
    if (this.#state !== 'running') {
      throw new HastackError('HASTACK_L4_STATE', `virtual server "${this.name}" is not running`);
    }
    const old = this.#config;
    const current = this.address();
    const listenChanged =
      config.protocol !== old.protocol || config.host !== old.host || config.port !== old.port;
    const workersChanged = config.protocol === 'tcp' && this.#workerCount(config) !== this.#workerCount(old);
    let newFront: Front | undefined;
    if (listenChanged || workersChanged) {
      // Same address, other worker count: bind the port already in use (port 0 chose it).
      const port = listenChanged ? config.port : current.port;
      newFront = await this.#openFront(config, port);
    }

    for (const rs of config.realServers) {
      if (!this.#table.isActive(realServerKey(rs.host, rs.port))) this.#register(rs);
    }
    let result: ReturnType<ServiceTable['reconfigure']>;
    try {
      result = this.#table.reconfigure(config, (key) => this.#known(key));
    } catch (err) {
      if (newFront !== undefined) await this.#closeFront(newFront, 0);
      throw err;
    }
    this.#execute(result.actions);
    for (const rs of result.removed) this.#unregister(rs);
    for (const rs of result.checksChanged) {
      this.#unregister(rs);
      this.#register(rs);
      const key = realServerKey(rs.host, rs.port);
      this.#execute(this.#table.syncHealth(key, this.#known(key)));
    }
    if (
      config.scheduler !== old.scheduler ||
      JSON.stringify(config.schedulerFlags) !== JSON.stringify(old.schedulerFlags)
    ) {
      this.#table.setScheduler(this.#newScheduler(config));
    }
    this.#config = config;
    this.#applySettings();
    this.#pushState();

    if (newFront !== undefined) {
      const previous = this.#front!;
      this.#front = newFront;
      this.#pushedVersion = -1;
      this.#pushState();
      this.#retire(previous);
      const a = this.address();
      this.#logger.info(
        { address: realServerKey(a.host, a.port), protocol: config.protocol },
        'virtual server rebound',
      );
    }
  }

  /** Admin weight override (ipvsadm -e -w); key "host:port". */
  setWeight(realServerKey: string, weight: number): void {
    this.#execute(this.#table.setWeight(realServerKey, weight));
    this.#pushState();
  }

  /** Weight 0: no new connections, established ones finish. */
  drain(realServerKey: string): void {
    this.#execute(this.#table.drain(realServerKey));
    this.#pushState();
  }

  snapshot(): VirtualServerSnapshot {
    const c = this.#config;
    const now = this.#clock.now();
    const a = this.address();
    const service = this.#reader.read(SERVICE_SLOT);
    const realServers: RealServerSnapshot[] = this.#table
      .rows()
      .map((row) => this.#realServerSnapshot(row, now));
    const snapshot: VirtualServerSnapshot = {
      name: c.name,
      protocol: c.protocol,
      host: a.host,
      port: a.port,
      scheduler: c.scheduler,
      schedulerFlags: { ...c.schedulerFlags },
      flags: schedulerFlagNames(c),
      persistenceTimeoutMs: c.persistenceTimeoutMs,
      persistenceGranularity: c.persistenceGranularity,
      persistenceTemplates: this.#table.pool.persistenceSize,
      quorum: c.quorum,
      hysteresis: c.hysteresis,
      quorumUp: this.#table.quorumUp,
      liveWeight: this.#table.liveWeight,
      sorryActive: this.#table.sorryActive,
      listening: this.#state === 'running',
      workers: this.#workerCount(c),
      idleTimeoutMs: c.idleTimeoutMs,
      connectTimeoutMs: c.connectTimeoutMs,
      connections: {
        active: this.#counters.active(SERVICE_SLOT),
        inactive: this.#counters.inactive(SERVICE_SLOT),
        ...(this.#front?.kind === 'udp' && { udpSessions: this.#front.proxy.sessionCount }),
      },
      connectFailures: service.connectFailures,
      noDestination: service.noDestination,
      backpressurePauses: service.pauses,
      stats: trafficOf(service),
      rates: this.#rates(SERVICE_SLOT, service, now),
      realServers,
    };
    if (this.#front?.kind === 'workers') {
      snapshot.workerConns = this.#front.group.statsBlocks.map((b) => b.connections(SERVICE_SLOT));
    }
    const sorry = this.#table.sorryRow();
    if (sorry !== undefined) {
      const totals = this.#reader.read(sorry.slot);
      const row: SorryServerSnapshot = {
        key: sorry.key,
        host: sorry.host,
        port: sorry.port,
        forward: 'Masq',
        active: sorry.active,
        inTable: sorry.inTable,
        weight: sorry.weight,
        activeConns: sorry.activeConns,
        inactiveConns: sorry.inactiveConns,
        connectFailures: totals.connectFailures,
        stats: trafficOf(totals),
        rates: this.#rates(sorry.slot, totals, now),
      };
      snapshot.sorryServer = row;
    }
    return snapshot;
  }

  /**
   * Stops accepting, lets connections finish for up to `graceMs`, then cuts the
   * rest; runs omega notifiers; unregisters from the health monitor.
   */
  stop(graceMs: number): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    this.#stopping = this.#stop(graceMs);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    clearInterval(this.#tick);
    this.#tick = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const drains: Promise<void>[] = [];
    if (this.#front !== undefined) drains.push(this.#closeFront(this.#front, graceMs));
    for (const [front] of this.#retiring) drains.push(this.#closeFront(front, graceMs));
    if (wasRunning) this.#execute(this.#table.stop());
    await Promise.allSettled(drains);
    await Promise.allSettled([...this.#retiring.values()]);
    for (const id of this.#registered) this.#deps.health.remove(id);
    this.#registered.clear();
    await Promise.allSettled([...this.#scripts]);
    this.#state = 'stopped';
    this.#logger.info('virtual server stopped');
  }

  // --- health --------------------------------------------------------------------

  #healthId(rs: { host: string; port: number }): string {
    return `${this.#config.name}/${realServerKey(rs.host, rs.port)}`;
  }

  #register(rs: RealServerConfig): void {
    const id = this.#healthId(rs);
    if (this.#registered.has(id)) return;
    try {
      const startDown = !initiallyUp(this.#config, rs) && rs.checks.length > 0;
      this.#deps.health.add(id, { host: rs.host, port: rs.port }, rs.checks, startDown);
      this.#registered.add(id);
    } catch (err) {
      this.#logger.error({ err, realServer: id }, 'cannot register real server with the health monitor');
    }
  }

  #unregister(rs: RealServerConfig): void {
    const id = this.#healthId(rs);
    if (!this.#registered.delete(id)) return;
    try {
      this.#deps.health.remove(id);
    } catch (err) {
      this.#logger.warn({ err, realServer: id }, 'cannot unregister real server from the health monitor');
    }
  }

  #known(key: string): KnownHealth | undefined {
    const status = this.#deps.health.status(`${this.#config.name}/${key}`);
    if (status === undefined) return undefined;
    return status.weight === undefined ? { up: status.up } : { up: status.up, weight: status.weight };
  }

  #onHealth(change: HealthChange): void {
    const prefix = `${this.#config.name}/`;
    if (!change.id.startsWith(prefix) || !this.#registered.has(change.id)) return;
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    const key = change.id.slice(prefix.length);
    this.#execute(this.#table.applyHealth(key, change.up, change.weight, change.reason));
    this.#pushState();
  }

  // --- actions -------------------------------------------------------------------

  #execute(actions: TableAction[]): void {
    for (const a of actions) {
      if (a.kind === 'log') {
        const fields = a.server === undefined ? {} : { realServer: a.server };
        if (a.level === 'warn') this.#logger.warn(fields, a.message);
        else this.#logger.info(fields, a.message);
        continue;
      }
      const started = this.#runScript(a.command, { timeoutMs: SCRIPT_TIMEOUT_MS }).then(
        (r) => {
          const fields = {
            event: a.event,
            command: a.command,
            realServer: a.server,
            exitCode: r.exitCode,
            timedOut: r.timedOut,
            ...(r.spawnError !== undefined && { spawnError: r.spawnError }),
          };
          if (r.exitCode === 0) this.#logger.info(fields, `${a.event} script finished`);
          else this.#logger.warn({ ...fields, stderr: r.stderr.slice(0, 500) }, `${a.event} script failed`);
        },
        (err: unknown) =>
          this.#logger.warn({ event: a.event, command: a.command, err: errorMessage(err) }, 'script error'),
      );
      this.#scripts.add(started);
      void started.finally(() => this.#scripts.delete(started));
    }
  }

  // --- fronts (listeners) --------------------------------------------------------

  #workerCount(config: VirtualServerConfig): number {
    return config.protocol === 'tcp' ? Math.max(1, config.workers) : 1;
  }

  #workerSettings(config: VirtualServerConfig): WorkerSettings {
    return {
      idleTimeoutMs: config.idleTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
      scheduler: config.scheduler,
      schedulerFlags: { ...config.schedulerFlags },
      persistence: this.#table.persistenceOptions(),
    };
  }

  async #openFront(config: VirtualServerConfig, port: number): Promise<Front> {
    const now = () => this.#clock.now();
    if (config.protocol === 'udp') {
      if (config.workers > 1)
        this.#logger.warn('workers apply to TCP only: this UDP service runs on one thread');
      const proxy = new UdpProxy(this.#table.pool, {
        host: config.host,
        port,
        sessionTimeoutMs: udpSessionTimeout(config.idleTimeoutMs),
        now,
        logger: this.#logger,
      });
      await proxy.bind();
      return { kind: 'udp', proxy };
    }
    if (this.#workerCount(config) > 1) {
      const group = new WorkerGroup({
        name: config.name,
        count: this.#workerCount(config),
        host: config.host,
        port,
        settings: this.#workerSettings(config),
        state: this.#table.poolState(),
        counters: this.#counters,
        logger: this.#logger,
        onWorkerExit: (block) => this.#retireStatsBlock(block),
      });
      await group.start();
      for (const block of group.statsBlocks) this.#reader.addBlock(block);
      return { kind: 'workers', group };
    }
    const proxy = new TcpProxy(this.#table.pool, {
      host: config.host,
      port,
      idleTimeoutMs: config.idleTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
      reusePort: true,
      now,
      logger: this.#logger,
    });
    await proxy.listen();
    return { kind: 'tcp', proxy };
  }

  /** An old listener stops accepting and keeps serving its connections until they end. */
  #retire(front: Front): void {
    const done = this.#closeFront(front, Number.POSITIVE_INFINITY).finally(() =>
      this.#retiring.delete(front),
    );
    this.#retiring.set(front, done);
  }

  async #closeFront(front: Front, graceMs: number): Promise<void> {
    switch (front.kind) {
      case 'tcp':
        await front.proxy.drain(graceMs);
        return;
      case 'udp':
        await front.proxy.close();
        return;
      case 'workers': {
        front.group.stopAccepting();
        const blocks = front.group.statsBlocks;
        await front.group.drain(graceMs);
        for (const block of blocks) this.#retireStatsBlock(block);
        return;
      }
    }
  }

  /**
   * A worker thread ended: keep its totals, and give back the connection counts
   * it still held (a crashed thread's connections are gone with it).
   */
  #retireStatsBlock(block: StatsBlock): void {
    if (this.#foldedBlocks.has(block)) return;
    this.#foldedBlocks.add(block);
    for (let slot = SERVICE_SLOT + 1; slot < SLOT_CAPACITY; slot++) {
      const active = block.ownActive(slot);
      const inactive = block.ownInactive(slot);
      if (active !== 0 || inactive !== 0) this.#counters.add(slot, -active, -inactive);
    }
    block.addAllTo(this.#retiredStats);
    this.#reader.removeBlock(block);
  }

  #applySettings(): void {
    const c = this.#config;
    const apply = (front: Front) => {
      if (front.kind === 'tcp') front.proxy.setTimeouts(c.idleTimeoutMs, c.connectTimeoutMs);
      else if (front.kind === 'udp') front.proxy.setSessionTimeout(udpSessionTimeout(c.idleTimeoutMs));
      else front.group.pushSettings(this.#workerSettings(c));
    };
    if (this.#front !== undefined) apply(this.#front);
    for (const front of this.#retiring.keys()) apply(front);
  }

  /** Sends a changed routing state to worker threads (the main thread's pool is already current). */
  #pushState(): void {
    const version = this.#table.version;
    if (version === this.#pushedVersion) return;
    this.#pushedVersion = version;
    if (this.#front?.kind === 'workers') this.#front.group.pushState(this.#table.poolState());
  }

  #newScheduler(config: VirtualServerConfig): Scheduler {
    return createScheduler(config.scheduler, {
      flags: config.schedulerFlags,
      ...(this.#deps.random !== undefined && { random: this.#deps.random }),
    });
  }

  // --- housekeeping, stats -----------------------------------------------------------

  #housekeeping(): void {
    const now = this.#clock.now();
    this.#rates(SERVICE_SLOT, this.#reader.read(SERVICE_SLOT), now);
    for (const row of this.#table.rows()) this.#rates(row.slot, this.#reader.read(row.slot), now);
    const sorry = this.#table.sorryRow();
    if (sorry !== undefined) this.#rates(sorry.slot, this.#reader.read(sorry.slot), now);
    this.#table.pool.sweep(now);
    this.#execute(this.#table.reap());
  }

  /** Feeds the slot's estimator (a no-op inside the 2 s interval) and returns its rates. */
  #rates(slot: number, totals: SlotTotals, now: number): TrafficRates {
    let est = this.#estimators.get(slot);
    if (est === undefined) {
      est = new RateEstimator(now, totals);
      this.#estimators.set(slot, est);
      return zeroRates();
    }
    est.update(totals, now);
    return est.rates();
  }

  #realServerSnapshot(row: RealServerRow, now: number): RealServerSnapshot {
    const totals = this.#reader.read(row.slot);
    const snap: RealServerSnapshot = {
      key: row.key,
      host: row.host,
      port: row.port,
      forward: 'Masq',
      weight: row.weight,
      configuredWeight: row.configuredWeight,
      up: row.up,
      inTable: row.inTable,
      draining: row.draining,
      removed: row.removed,
      overloaded: row.overloaded,
      activeConns: row.activeConns,
      inactiveConns: row.inactiveConns,
      connectFailures: totals.connectFailures,
      stats: trafficOf(totals),
      rates: this.#rates(row.slot, totals, now),
      health: row.removed ? undefined : this.#deps.health.status(`${this.#config.name}/${row.key}`),
    };
    if (row.dynamicWeight !== undefined) snap.dynamicWeight = row.dynamicWeight;
    if (row.adminWeight !== undefined) snap.adminWeight = row.adminWeight;
    return snap;
  }
}

/** ipvsadm's names for the scheduler flags in force. */
function schedulerFlagNames(c: VirtualServerConfig): string[] {
  if (c.scheduler !== 'sh' && c.scheduler !== 'mh') return [];
  const flags: string[] = [];
  if (c.schedulerFlags.fallback) flags.push(`${c.scheduler}-fallback`);
  if (c.schedulerFlags.hashPort) flags.push(`${c.scheduler}-port`);
  return flags;
}
