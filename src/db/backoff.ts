import type { RandomSource } from '../core/clock.ts';

/*
 * Reconnect delays for the replica I/O thread: exponential from minMs to maxMs
 * with jitter in [delay/2, delay], so replicas of a restarted source do not
 * reconnect in lockstep. Pure: the caller owns the timer.
 */
export class Backoff {
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #random: RandomSource;
  #attempt = 0;

  constructor(minMs: number, maxMs: number, random: RandomSource) {
    this.#minMs = Math.max(1, minMs);
    this.#maxMs = Math.max(this.#minMs, maxMs);
    this.#random = random;
  }

  get attempts(): number {
    return this.#attempt;
  }

  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#minMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + (ceiling / 2) * this.#random());
  }

  reset(): void {
    this.#attempt = 0;
  }
}
