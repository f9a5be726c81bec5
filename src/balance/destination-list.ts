import type { Destination } from './types.ts';
import { validateDestinations } from './validate-destinations.ts';

/**
 * Base of the schedulers whose only state is the destination list (fo, lc, nq,
 * ovf, sed, wlc, twos): update() validates the list and keeps a copy, and each
 * scheduler's own pick() walks `dests` its own way.
 */
export class DestinationListScheduler {
  protected dests: readonly Destination[] = [];

  update(dests: readonly Destination[]): void {
    validateDestinations(dests);
    this.dests = dests.slice();
  }
}
