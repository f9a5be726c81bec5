import { isAvailable } from './available.ts';
import { DestinationListScheduler } from './destination-list.ts';
import { connOverhead } from './overhead.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';

/**
 * Least-connection (ip_vs_lc.c): the available server with the lowest
 * active·256 + inactive; weights only matter as on/off. Ties → first in list.
 */
export class LeastConnectionScheduler extends DestinationListScheduler implements Scheduler {
  readonly name = 'lc' as const;

  pick(_ctx: PickContext): Destination | undefined {
    const dests = this.dests;
    let least: Destination | undefined;
    let loh = 0;
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i]!;
      if (!isAvailable(d)) continue;
      const doh = connOverhead(d);
      if (least === undefined || doh < loh) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
}
