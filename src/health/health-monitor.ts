import type { CheckSpec, CheckType } from '../config/model.ts';
import { formatHostPort } from '../core/address.ts';
import { type Clock, type RandomSource, systemClock } from '../core/clock.ts';
import { errorCode, errorMessage, HastackError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { Damper } from './damper.ts';
import { probe, probeWithRetries, type Sleep } from './probe.ts';
import type {
  CheckStatus,
  HealthChange,
  HealthCounters,
  HealthTotals,
  HealthWatch,
  ProbeResult,
  Prober,
  ProbeTarget,
  ServerHealthStatus,
} from './types.ts';

export interface HealthMonitorOptions {
  logger?: Logger;
  prober?: Prober;
  clock?: Clock;
  random?: RandomSource;
  /** Timer functions (tests inject manual ones); default the global setTimeout/clearTimeout. */
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

interface CheckState {
  readonly spec: CheckSpec;
  readonly damper: Damper;
  lastResult?: ProbeResult;
  lastCheckedAt?: number;
  timer?: unknown;
  controller?: AbortController;
}

interface ServerState {
  readonly id: string;
  readonly target: ProbeTarget;
  readonly checks: CheckState[];
  up: boolean;
  weight?: number;
  removed: boolean;
  readonly counters: HealthCounters;
}

const CHECK_TYPES: readonly CheckType[] = ['tcp', 'http', 'smtp', 'dns', 'misc', 'icmp'];

/**
 * Runs the checks of every registered real server on their own schedule, damps
 * each check with rise/fall, and reports server transitions (up only when all
 * checks are up). The I/O shell around `Damper` and the probers.
 */
export class HealthMonitor implements HealthWatch {
  readonly #logger: Logger;
  readonly #prober: Prober;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #setTimer: (callback: () => void, ms: number) => unknown;
  readonly #clearTimer: (handle: unknown) => void;
  readonly #servers = new Map<string, ServerState>();
  readonly #listeners = new Set<(change: HealthChange) => void>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #totals: HealthTotals = {
    probes: 0,
    failures: 0,
    transitions: { up: 0, down: 0 },
    byType: Object.fromEntries(
      CHECK_TYPES.map((t) => [t, { probes: 0, failures: 0, transitions: 0 }]),
    ) as Record<CheckType, HealthCounters>,
  };
  #closed = false;

  constructor(options: HealthMonitorOptions = {}) {
    this.#logger = (options.logger ?? silentLogger()).child({ component: 'health' });
    this.#prober = options.prober ?? probe;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.#clearTimer =
      options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined));
  }

  add(id: string, target: ProbeTarget, checks: readonly CheckSpec[], startDown: boolean): void {
    if (this.#closed) throw new HastackError('HASTACK_HEALTH_CLOSED', 'the health monitor is closed');
    if (this.#servers.has(id)) {
      throw new HastackError('HASTACK_HEALTH_DUPLICATE_ID', `real server ${id} is already being checked`, {
        details: { id },
      });
    }
    const states = checks.map((spec): CheckState => {
      validateTiming(spec, id);
      return {
        spec,
        damper: new Damper({ rise: spec.rise, fall: spec.fall, startDown: startDown || spec.startDown }),
      };
    });
    const server: ServerState = {
      id,
      target: { host: target.host, port: target.port },
      checks: states,
      up: states.every((c) => c.damper.up),
      removed: false,
      counters: { probes: 0, failures: 0, transitions: 0 },
    };
    this.#servers.set(id, server);
    this.#logger.debug(
      {
        id,
        target: formatHostPort(target.host, target.port),
        checks: checks.map((c) => c.type),
        up: server.up,
      },
      'health checks started',
    );
    for (const check of states) {
      const warmup = check.spec.warmupMs;
      const first = warmup > 0 ? Math.min(warmup, Math.floor(this.#random() * (warmup + 1))) : 0;
      this.#schedule(server, check, first);
    }
  }

  remove(id: string): void {
    const server = this.#servers.get(id);
    if (server === undefined) return;
    this.#servers.delete(id);
    this.#stop(server);
    this.#logger.debug({ id }, 'health checks stopped');
  }

  subscribe(listener: (change: HealthChange) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  status(id: string): ServerHealthStatus | undefined {
    const server = this.#servers.get(id);
    return server === undefined ? undefined : statusOf(server);
  }

  /** Every registered server's status, in registration order. */
  list(): ServerHealthStatus[] {
    return [...this.#servers.values()].map(statusOf);
  }

  /** Monotonic totals for metrics. */
  counters(): HealthTotals {
    return {
      probes: this.#totals.probes,
      failures: this.#totals.failures,
      transitions: { ...this.#totals.transitions },
      byType: Object.fromEntries(CHECK_TYPES.map((t) => [t, { ...this.#totals.byType[t] }])) as Record<
        CheckType,
        HealthCounters
      >,
    };
  }

  /** Stops every check; resolves once in-flight probes have settled (they are aborted). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const server of this.#servers.values()) this.#stop(server);
    this.#servers.clear();
    this.#listeners.clear();
    await Promise.allSettled([...this.#inFlight]);
  }

  #stop(server: ServerState): void {
    server.removed = true;
    for (const check of server.checks) {
      if (check.timer !== undefined) {
        this.#clearTimer(check.timer);
        check.timer = undefined;
      }
      check.controller?.abort();
    }
  }

  #schedule(server: ServerState, check: CheckState, delayMs: number): void {
    check.timer = this.#setTimer(() => {
      check.timer = undefined;
      this.#run(server, check);
    }, delayMs);
  }

  #run(server: ServerState, check: CheckState): void {
    if (server.removed) return;
    const controller = new AbortController();
    check.controller = controller;
    // keepalived retries only while the check is up; a down check is just probed again next interval.
    const retries = check.damper.up ? check.spec.retries : 0;
    const running = probeWithRetries(check.spec, server.target, controller.signal, this.#sleep, {
      prober: this.#prober,
      retries,
    })
      .catch(
        (err: unknown): ProbeResult => ({
          ok: false,
          code: errorCode(err),
          message: `prober failed: ${errorMessage(err)}`,
          durationMs: 0,
        }),
      )
      .then((result) => {
        if (check.controller === controller) check.controller = undefined;
        if (server.removed || controller.signal.aborted) return;
        try {
          this.#record(server, check, result);
        } catch (err) {
          // Never let a bookkeeping bug stop the check loop.
          this.#logger.error({ id: server.id, err }, 'recording a probe result failed');
        }
        this.#schedule(server, check, check.spec.intervalMs);
      });
    this.#inFlight.add(running);
    void running.finally(() => this.#inFlight.delete(running));
  }

  #record(server: ServerState, check: CheckState, result: ProbeResult): void {
    const type = check.spec.type;
    const byType = this.#totals.byType[type];
    check.lastResult = result;
    check.lastCheckedAt = this.#clock.wallNow();
    server.counters.probes++;
    this.#totals.probes++;
    byType.probes++;
    if (!result.ok) {
      server.counters.failures++;
      this.#totals.failures++;
      byType.failures++;
    }
    const reason = `${type} check: ${result.message}`;
    const checkFlipped = check.damper.record(result.ok);
    if (checkFlipped) {
      byType.transitions++;
      this.#logger.debug({ id: server.id, check: type, up: check.damper.up, reason }, 'check state changed');
    } else if (!result.ok) {
      this.#logger.debug(
        {
          id: server.id,
          check: type,
          code: result.code,
          reason,
          consecutiveFail: check.damper.consecutiveFail,
        },
        'probe failed',
      );
    }

    const previousWeight = server.weight;
    if (result.ok && result.weight !== undefined) server.weight = result.weight;
    const up = server.checks.every((c) => c.damper.up);
    if (up !== server.up) {
      server.up = up;
      server.counters.transitions++;
      if (up) this.#totals.transitions.up++;
      else this.#totals.transitions.down++;
      this.#emit(server, reason);
    } else if (up && server.weight !== previousWeight) {
      this.#emit(server, `${reason} (weight ${previousWeight ?? 'unset'} -> ${server.weight})`);
    }
  }

  #emit(server: ServerState, reason: string): void {
    const change: HealthChange = {
      id: server.id,
      up: server.up,
      reason,
      at: this.#clock.wallNow(),
      ...(server.weight !== undefined && { weight: server.weight }),
    };
    const fields = {
      id: server.id,
      target: formatHostPort(server.target.host, server.target.port),
      up: server.up,
      reason,
      ...(server.weight !== undefined && { weight: server.weight }),
    };
    if (server.up) this.#logger.info(fields, 'real server up');
    else this.#logger.warn(fields, 'real server down');
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.#logger.error({ id: server.id, err }, 'health listener threw');
      }
    }
  }

  readonly #sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const onAbort = () => {
        this.#clearTimer(handle);
        resolve();
      };
      const handle = this.#setTimer(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
}

function statusOf(server: ServerState): ServerHealthStatus {
  return {
    id: server.id,
    target: { ...server.target },
    up: server.up,
    ...(server.weight !== undefined && { weight: server.weight }),
    checks: server.checks.map(
      (c): CheckStatus => ({
        type: c.spec.type,
        up: c.damper.up,
        consecutiveOk: c.damper.consecutiveOk,
        consecutiveFail: c.damper.consecutiveFail,
        ...(c.lastResult !== undefined && { lastResult: c.lastResult }),
        ...(c.lastCheckedAt !== undefined && { lastCheckedAt: c.lastCheckedAt }),
      }),
    ),
    counters: { ...server.counters },
  };
}

function validateTiming(spec: CheckSpec, id: string): void {
  const bad = (field: string, value: number) =>
    new HastackError(
      'HASTACK_HEALTH_INVALID_CHECK',
      `${spec.type} check of ${id}: invalid ${field} ${value}`,
      {
        details: { id, field, value },
      },
    );
  if (!Number.isFinite(spec.intervalMs) || spec.intervalMs <= 0) throw bad('intervalMs', spec.intervalMs);
  if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) throw bad('timeoutMs', spec.timeoutMs);
  if (!Number.isInteger(spec.retries) || spec.retries < 0) throw bad('retries', spec.retries);
  if (!Number.isFinite(spec.retryDelayMs) || spec.retryDelayMs < 0)
    throw bad('retryDelayMs', spec.retryDelayMs);
  if (!Number.isFinite(spec.warmupMs) || spec.warmupMs < 0) throw bad('warmupMs', spec.warmupMs);
}
