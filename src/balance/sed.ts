import { pickShortestExpectedDelay } from './shortest-expected-delay.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';
import { validateDestinations } from './validate-destinations.ts';

/** Shortest expected delay (ip_vs_sed.c): lowest (active + 1) / weight. */
export class ShortestExpectedDelayScheduler implements Scheduler {
  readonly name = 'sed' as const;
  #dests: readonly Destination[] = [];

  update(dests: readonly Destination[]): void {
    validateDestinations(dests);
    this.#dests = dests.slice();
  }

  pick(_ctx: PickContext): Destination | undefined {
    return pickShortestExpectedDelay(this.#dests);
  }
}
