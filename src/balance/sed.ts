import { DestinationListScheduler } from './destination-list.ts';
import { pickShortestExpectedDelay } from './shortest-expected-delay.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';

/** Shortest expected delay (ip_vs_sed.c): lowest (active + 1) / weight. */
export class ShortestExpectedDelayScheduler extends DestinationListScheduler implements Scheduler {
  readonly name = 'sed' as const;

  pick(_ctx: PickContext): Destination | undefined {
    return pickShortestExpectedDelay(this.dests);
  }
}
