import type { Destination, PickContext, Scheduler } from './types.ts';
import { validateDestinations } from './validate-destinations.ts';
import { pickWeightedLeastConn } from './weighted-least-conn.ts';

/**
 * Weighted least-connection (ip_vs_wlc.c), the IPVS default: lowest
 * (active·256 + inactive) / weight. Ties → first in list.
 */
export class WeightedLeastConnectionScheduler implements Scheduler {
  readonly name = 'wlc' as const;
  #dests: readonly Destination[] = [];

  update(dests: readonly Destination[]): void {
    validateDestinations(dests);
    this.#dests = dests.slice();
  }

  pick(_ctx: PickContext): Destination | undefined {
    return pickWeightedLeastConn(this.#dests);
  }
}
