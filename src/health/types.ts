import type { CheckSpec } from '../config/model.ts';

/** Where a probe connects: the real server, unless the check overrides it. */
export interface ProbeTarget {
  host: string;
  port: number;
}

/** The outcome of one probe (after its retries). */
export interface ProbeResult {
  ok: boolean;
  /** misc_dynamic: the weight the exit code asked for (exit code − 2). */
  weight?: number;
  /** Short human reason: "connect ECONNREFUSED", "status 503 not in 200-299"... */
  message: string;
  /** Stable machine code for failures: HASTACK_CHECK_TIMEOUT, ECONNREFUSED... */
  code?: string;
  durationMs: number;
  /** How many attempts this probe took (1 + retries used). */
  attempts?: number;
}

/** One attempt of a check against a target; must settle by itself within spec.timeoutMs (+ small slack) and honour `signal`. */
export type Prober = (spec: CheckSpec, target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>;

/** A health transition of one real server (all its checks combined). */
export interface HealthChange {
  /** The id the owner registered the server under. */
  id: string;
  up: boolean;
  /** Set when a misc_dynamic check asked for a weight. */
  weight?: number;
  /** The failing (or recovering) check's reason. */
  reason: string;
  /** Wall-clock ms. */
  at: number;
}

/** Per-check state as shown by `hastack status`. */
export interface CheckStatus {
  type: CheckSpec['type'];
  /** Damped state of this check. */
  up: boolean;
  consecutiveOk: number;
  consecutiveFail: number;
  lastResult?: ProbeResult;
  /** Wall-clock ms of the last finished probe. */
  lastCheckedAt?: number;
}

export interface ServerHealthStatus {
  id: string;
  target: ProbeTarget;
  /** Up when every check is up (no checks = always up). */
  up: boolean;
  /** Weight requested by misc_dynamic, if any. */
  weight?: number;
  checks: CheckStatus[];
  /** Per-server counters since it was added. */
  counters?: HealthCounters;
}

/** Counters of one server (or one check type): probes run, probes failed, damped transitions. */
export interface HealthCounters {
  probes: number;
  failures: number;
  transitions: number;
}

/** Totals for metrics; monotonic (removed servers keep counting in them). */
export interface HealthTotals {
  probes: number;
  failures: number;
  /** Server transitions (all checks combined). */
  transitions: { up: number; down: number };
  /** Per check type; `transitions` there counts damped check-level transitions. */
  byType: Record<CheckSpec['type'], HealthCounters>;
}

/**
 * What the L4 (and later L7) components need from health checking: register real
 * servers, hear about transitions, read state for status output.
 */
export interface HealthWatch {
  /** Start checking. `startDown` (alpha) makes the server down until its checks pass. */
  add(id: string, target: ProbeTarget, checks: readonly CheckSpec[], startDown: boolean): void;
  /** Stop checking and forget the server. */
  remove(id: string): void;
  /** Listen to transitions; returns the unsubscribe function. */
  subscribe(listener: (change: HealthChange) => void): () => void;
  status(id: string): ServerHealthStatus | undefined;
}
