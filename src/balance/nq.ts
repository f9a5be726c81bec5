import { isAvailable } from './available.ts';
import { DestinationListScheduler } from './destination-list.ts';
import { pickShortestExpectedDelay } from './shortest-expected-delay.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';

/**
 * Never queue (ip_vs_nq.c): the first available server with no active
 * connection, whatever its weight; when none is idle, sed.
 */
export class NeverQueueScheduler extends DestinationListScheduler implements Scheduler {
  readonly name = 'nq' as const;

  pick(_ctx: PickContext): Destination | undefined {
    const dests = this.dests;
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i]!;
      if (d.activeConns === 0 && isAvailable(d)) return d;
    }
    return pickShortestExpectedDelay(dests);
  }
}
