import { gcdOfPositive } from './gcd.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';
import { validateDestinations } from './validate-destinations.ts';

/**
 * Weighted round-robin, the kernel's algorithm (ip_vs_wrr.c). Passes over the list
 * with a current weight `cw` that starts at max weight and drops by
 * gcd(weights) after each pass; a pass picks every server with weight ≥ cw.
 * `mw` is max − (gcd − 1) so the last pass runs with cw = 1 and still finds a
 * server whose weight fell below the gcd. Weights 4,3,2 give A A B A B C A B C.
 */
export class WeightedRoundRobinScheduler implements Scheduler {
  readonly name = 'wrr' as const;
  #dests: readonly Destination[] = [];
  /** Index of the last pick; -1 = list head. */
  #cursor = -1;
  /** Current weight. */
  #cw = 0;
  /** Maximum weight − (di − 1). */
  #mw = 0;
  /** Decreasing interval: gcd of the positive weights (1 when there is none). */
  #di = 1;

  update(dests: readonly Destination[]): void {
    validateDestinations(dests);
    this.#dests = dests.slice();
    // ip_vs_wrr_dest_changed: restart from the head, keep cw where sensible.
    this.#cursor = -1;
    this.#di = gcdOfPositive(dests.map((d) => d.weight)) || 1;
    let max = 0;
    for (const d of dests) if (d.weight > max) max = d.weight;
    this.#mw = max - (this.#di - 1);
    if (this.#cw > this.#mw || this.#cw === 0) this.#cw = this.#mw;
    else if (this.#di > 1) this.#cw = Math.floor(this.#cw / this.#di) * this.#di + 1;
  }

  pick(_ctx: PickContext): Destination | undefined {
    if (this.#mw <= 0) return undefined;
    const dests = this.#dests;
    const n = dests.length;
    const last = this.#cursor;
    /** Index at which a full "weight ≥ 1" sweep is complete; -2 = not yet known. */
    let stop = -2;
    let lastPass = false;
    let restarted = false;
    let i = last;
    for (;;) {
      for (i = i + 1; i < n; i++) {
        const d = dests[i]!;
        if (!d.overloaded && d.weight >= this.#cw) {
          this.#cursor = i;
          return d;
        }
        if (i === stop) {
          this.#cursor = i;
          return undefined;
        }
      }
      // Back at the head: next pass with a lower weight.
      this.#cw -= this.#di;
      if (this.#cw <= 0) {
        this.#cw = this.#mw;
        // Every server was already checked for weight ≥ 1: nothing can take it.
        if (lastPass || last === -1) {
          this.#cursor = -1;
          return undefined;
        }
        restarted = true;
      }
      lastPass = this.#cw <= this.#di;
      // The weight ≥ 1 sweep began after `last`; finish it at `last`.
      if (lastPass && restarted && last !== -1) stop = last;
      i = -1;
    }
  }
}
