import { DestinationListScheduler } from './destination-list.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';
import { pickWeightedLeastConn } from './weighted-least-conn.ts';

/**
 * Weighted least-connection (ip_vs_wlc.c), the IPVS default: lowest
 * (active·256 + inactive) / weight. Ties → first in list.
 */
export class WeightedLeastConnectionScheduler extends DestinationListScheduler implements Scheduler {
  readonly name = 'wlc' as const;

  pick(_ctx: PickContext): Destination | undefined {
    return pickWeightedLeastConn(this.dests);
  }
}
