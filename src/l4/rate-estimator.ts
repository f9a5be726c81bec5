import type { TrafficStats } from './connection-stats.ts';

/** `ipvsadm -L --rate` columns, per second. */
export interface TrafficRates {
  cps: number;
  inPps: number;
  outPps: number;
  inBps: number;
  outBps: number;
}

/** IPVS samples its counters every 2 seconds (`ip_vs_est.c`). */
export const ESTIMATOR_INTERVAL_MS = 2000;
/** After this many missed intervals the average has decayed to nothing anyway. */
const MAX_CATCH_UP = 64;

const N = 5;

/**
 * The IPVS rate estimator, in the kernel's own fixed-point form so numbers match
 * `ipvsadm --rate`: every 2 s the difference of each counter becomes a rate
 * (connections and packets scaled by 2^10, bytes by 2^5), folded into an
 * exponentially weighted average with weight 1/4. Pure: `now` is passed in.
 * Intervals missed by a late caller are replayed one by one with the difference
 * spread evenly over them.
 */
export class RateEstimator {
  readonly #last = new Float64Array(N);
  readonly #avg = new Float64Array(N);
  #lastTick: number;

  constructor(now: number, totals?: TrafficStats) {
    this.#lastTick = now;
    if (totals !== undefined) this.#remember(totals);
  }

  /** Feeds the current cumulative totals; applies one averaging step per elapsed 2 s interval. */
  update(totals: TrafficStats, now: number): void {
    const elapsed = now - this.#lastTick;
    if (elapsed < ESTIMATOR_INTERVAL_MS) return;
    const intervals = Math.floor(elapsed / ESTIMATOR_INTERVAL_MS);
    this.#lastTick += intervals * ESTIMATOR_INTERVAL_MS;
    const steps = Math.min(intervals, MAX_CATCH_UP);
    const current = [totals.conns, totals.inPkts, totals.outPkts, totals.inBytes, totals.outBytes];
    for (let i = 0; i < N; i++) {
      // Counters and packets: << 9 is "×2^10 / 2 s"; bytes: << 4 is "×2^5 / 2 s".
      const scale = i < 3 ? 512 : 16;
      const perInterval = Math.max(0, current[i]! - this.#last[i]!) / intervals;
      const rate = Math.floor(perInterval * scale);
      let avg = this.#avg[i]!;
      for (let s = 0; s < steps; s++) avg += Math.floor((rate - avg) / 4);
      this.#avg[i] = avg;
      this.#last[i] = current[i]!;
    }
  }

  /** Rates as ipvsadm prints them (rounded as `ip_vs_read_estimator` does). */
  rates(): TrafficRates {
    const a = this.#avg;
    return {
      cps: Math.floor((a[0]! + 0x1ff) / 1024),
      inPps: Math.floor((a[1]! + 0x1ff) / 1024),
      outPps: Math.floor((a[2]! + 0x1ff) / 1024),
      inBps: Math.floor((a[3]! + 0xf) / 32),
      outBps: Math.floor((a[4]! + 0xf) / 32),
    };
  }

  /** Forgets the history (ipvsadm --zero). */
  reset(totals: TrafficStats, now: number): void {
    this.#avg.fill(0);
    this.#lastTick = now;
    this.#remember(totals);
  }

  #remember(t: TrafficStats): void {
    this.#last[0] = t.conns;
    this.#last[1] = t.inPkts;
    this.#last[2] = t.outPkts;
    this.#last[3] = t.inBytes;
    this.#last[4] = t.outBytes;
  }
}

export function zeroRates(): TrafficRates {
  return { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
}
