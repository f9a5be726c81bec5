import { isAvailable } from './available.ts';
import type { Destination } from './types.ts';

/**
 * The sed choice (shared with nq): lowest (active + 1) / weight, where the + 1 is
 * the connection being placed; inactive connections are ignored. Compared as
 * loh·w > doh·lw. Ties → first in list.
 */
export function pickShortestExpectedDelay(dests: readonly Destination[]): Destination | undefined {
  let least: Destination | undefined;
  let loh = 0;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    if (!isAvailable(d)) continue;
    const doh = d.activeConns + 1;
    if (least === undefined || loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}
