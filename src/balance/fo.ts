import { DestinationListScheduler } from './destination-list.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';

/**
 * Weighted failover (ip_vs_fo.c): always the available server with the highest
 * weight; connection counts are ignored. Ties → first in list.
 */
export class FailoverScheduler extends DestinationListScheduler implements Scheduler {
  readonly name = 'fo' as const;

  pick(_ctx: PickContext): Destination | undefined {
    const dests = this.dests;
    let best: Destination | undefined;
    let bestWeight = 0;
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i]!;
      if (!d.overloaded && d.weight > bestWeight) {
        best = d;
        bestWeight = d.weight;
      }
    }
    return best;
  }
}
