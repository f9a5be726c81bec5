import type { Clock } from '../core/clock.ts';

/*
 * Semi-synchronous commit bookkeeping (pure). A commit ending at a binlog
 * position waits until `waitForReplicaCount` replicas have acknowledged a
 * position at or past it (they have it fsynced in their relay log). If the
 * oldest waiter passes `timeoutMs`, the source falls back to asynchronous
 * replication (status OFF, as Rpl_semi_sync_source_status) and releases every
 * waiter; it switches back ON once enough replicas have caught up with the
 * latest commit.
 */

export interface SemiSyncOptions {
  enabled: boolean;
  waitForReplicaCount: number;
  timeoutMs: number;
}

/** acked: enough replicas have it; async: released by the fallback; off: semi-sync disabled. */
export type SemiSyncOutcome = 'acked' | 'async' | 'off';

interface Waiter {
  key: number;
  since: number;
  resolve: (outcome: SemiSyncOutcome) => void;
}

export interface SemiSyncStatus {
  enabled: boolean;
  /** ON while commits wait for acknowledgements; OFF after a timeout fell back to async. */
  status: 'ON' | 'OFF';
  waitForReplicaCount: number;
  timeoutMs: number;
  /** Connected semi-sync replicas. */
  clients: number;
  /** Commits acknowledged by enough replicas (Rpl_semi_sync_source_yes_tx). */
  yesTx: number;
  /** Commits released without enough acknowledgements (Rpl_semi_sync_source_no_tx). */
  noTx: number;
  /** Times the source fell back to async. */
  timeouts: number;
  waiting: number;
  /** Mean wait of acknowledged commits, µs. */
  avgWaitUs: number;
}

export class SemiSyncTracker {
  #options: SemiSyncOptions;
  readonly #clock: Clock;
  #on: boolean;
  readonly #acks = new Map<string, number>();
  #waiters: Waiter[] = [];
  #head = 0;
  #latest = 0;
  #yes = 0;
  #no = 0;
  #timeouts = 0;
  #waitTotalMs = 0;

  constructor(options: SemiSyncOptions, clock: Clock) {
    this.#options = options;
    this.#clock = clock;
    this.#on = options.enabled;
  }

  update(options: SemiSyncOptions): void {
    const wasEnabled = this.#options.enabled;
    this.#options = options;
    if (!options.enabled) {
      this.#on = false;
      this.#releaseAll('off');
    } else if (!wasEnabled) this.#on = true;
    else this.#resolveAcked();
  }

  /** A replica that speaks semi-sync connected (its acks count from now on). */
  replicaConnected(uuid: string): void {
    if (!this.#acks.has(uuid)) this.#acks.set(uuid, 0);
  }

  replicaGone(uuid: string): void {
    this.#acks.delete(uuid);
  }

  /** Registers a commit whose events end at position `key` (see positionKey). */
  waitFor(key: number, resolve: (outcome: SemiSyncOutcome) => void): void {
    if (key > this.#latest) this.#latest = key;
    if (!this.#options.enabled) {
      resolve('off');
      return;
    }
    if (!this.#on) {
      this.#no++;
      resolve('async');
      return;
    }
    if (this.#quorumKey() >= key) {
      this.#yes++;
      resolve('acked');
      return;
    }
    this.#waiters.push({ key, since: this.#clock.now(), resolve });
  }

  ack(uuid: string, key: number): void {
    const prev = this.#acks.get(uuid);
    if (prev === undefined || key <= prev) return;
    this.#acks.set(uuid, key);
    if (!this.#on && this.#options.enabled && this.#quorumKey() >= this.#latest) this.#on = true;
    this.#resolveAcked();
  }

  /** Applies timeouts; the shell calls it at nextDeadline(). */
  tick(): void {
    const oldest = this.#waiters[this.#head];
    if (oldest === undefined || !this.#on) return;
    if (this.#clock.now() - oldest.since >= this.#options.timeoutMs) {
      this.#on = false;
      this.#timeouts++;
      this.#releaseAll('async');
    }
  }

  /** When tick() must run next (monotonic ms), or undefined when nothing waits. */
  nextDeadline(): number | undefined {
    const oldest = this.#waiters[this.#head];
    return oldest === undefined ? undefined : oldest.since + this.#options.timeoutMs;
  }

  /** Releases every waiter (shutdown, promotion): they were not acknowledged. */
  releaseAll(): void {
    this.#releaseAll('async');
  }

  status(): SemiSyncStatus {
    return {
      enabled: this.#options.enabled,
      status: this.#options.enabled && this.#on ? 'ON' : 'OFF',
      waitForReplicaCount: this.#options.waitForReplicaCount,
      timeoutMs: this.#options.timeoutMs,
      clients: this.#acks.size,
      yesTx: this.#yes,
      noTx: this.#no,
      timeouts: this.#timeouts,
      waiting: this.#waiters.length - this.#head,
      avgWaitUs: this.#yes === 0 ? 0 : Math.round((this.#waitTotalMs / this.#yes) * 1000),
    };
  }

  /** The highest position that at least N replicas have acknowledged. */
  #quorumKey(): number {
    const n = this.#options.waitForReplicaCount;
    if (this.#acks.size < n) return -1;
    if (n === 1) {
      let max = -1;
      for (const v of this.#acks.values()) if (v > max) max = v;
      return max;
    }
    const sorted = [...this.#acks.values()].sort((a, b) => b - a);
    return sorted[n - 1]!;
  }

  #resolveAcked(): void {
    const q = this.#quorumKey();
    const now = this.#clock.now();
    while (this.#head < this.#waiters.length && this.#waiters[this.#head]!.key <= q) {
      const w = this.#waiters[this.#head++]!;
      this.#yes++;
      this.#waitTotalMs += now - w.since;
      w.resolve('acked');
    }
    this.#compact();
  }

  #releaseAll(outcome: SemiSyncOutcome): void {
    while (this.#head < this.#waiters.length) {
      const w = this.#waiters[this.#head++]!;
      if (outcome === 'async') this.#no++;
      w.resolve(outcome);
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#head > 0 && (this.#head === this.#waiters.length || this.#head > 1024)) {
      this.#waiters = this.#waiters.slice(this.#head);
      this.#head = 0;
    }
  }
}
