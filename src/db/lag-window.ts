import type { LagSummary } from './status-types.ts';

/** The last N commit-to-apply delays (µs) and their percentiles. */
export class LagWindow {
  readonly #samples: Float64Array;
  #next = 0;
  #count = 0;

  constructor(size = 10_000) {
    this.#samples = new Float64Array(size);
  }

  add(values: readonly number[]): void {
    for (const v of values) {
      this.#samples[this.#next] = v;
      this.#next = (this.#next + 1) % this.#samples.length;
      if (this.#count < this.#samples.length) this.#count++;
    }
  }

  reset(): void {
    this.#count = 0;
    this.#next = 0;
  }

  summary(): LagSummary {
    if (this.#count === 0) return { samples: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
    const sorted = Array.from(this.#samples.subarray(0, this.#count)).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! / 1000;
    return {
      samples: this.#count,
      p50Ms: round(at(0.5)),
      p99Ms: round(at(0.99)),
      maxMs: round(sorted[sorted.length - 1]! / 1000),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
