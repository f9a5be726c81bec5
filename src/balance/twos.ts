import type { RandomSource } from '../core/clock.ts';
import { isAvailable } from './available.ts';
import { DestinationListScheduler } from './destination-list.ts';
import { connOverhead } from './overhead.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';

/**
 * Power of two choices (ip_vs_twos.c): two servers drawn at random in proportion
 * to their weights; the one with the lower overhead/weight wins (the first on a
 * tie). As in the kernel each draw is uniform over 0..total weight inclusive and
 * takes the first server whose running weight sum reaches it, so the first
 * available server gets one extra chance in total+1.
 */
export class TwoChoicesScheduler extends DestinationListScheduler implements Scheduler {
  readonly name = 'twos' as const;
  readonly #random: RandomSource;

  constructor(random: RandomSource = Math.random) {
    super();
    this.#random = random;
  }

  pick(_ctx: PickContext): Destination | undefined {
    const dests = this.dests;
    let total = 0;
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i]!;
      if (isAvailable(d)) total += d.weight;
    }
    if (total === 0) return undefined;
    // Clamped so a random source that breaks its [0, 1) contract cannot leave a choice unset.
    let r1 = Math.min(total, Math.floor(this.#random() * (total + 1)));
    let r2 = Math.min(total, Math.floor(this.#random() * (total + 1)));
    let choice1: Destination | undefined;
    let choice2: Destination | undefined;
    for (let i = 0; i < dests.length && (choice1 === undefined || choice2 === undefined); i++) {
      const d = dests[i]!;
      if (!isAvailable(d)) continue;
      r1 -= d.weight;
      r2 -= d.weight;
      if (r1 <= 0 && choice1 === undefined) choice1 = d;
      if (r2 <= 0 && choice2 === undefined) choice2 = d;
    }
    // Both are set: r ≤ total, and the sum of the available weights is total.
    const a = choice1!;
    const b = choice2!;
    return b.weight * connOverhead(a) > a.weight * connOverhead(b) ? b : a;
  }
}
