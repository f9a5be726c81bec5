import { isAvailable } from './available.ts';
import { connOverhead } from './overhead.ts';
import type { Destination } from './types.ts';

/**
 * The wlc choice (also used by lblc and lblcr): the available server with the
 * lowest overhead/weight, compared as loh·w > doh·lw so no division is needed.
 * Ties keep the earlier server in the list, as the kernel does.
 */
export function pickWeightedLeastConn(dests: readonly Destination[]): Destination | undefined {
  let least: Destination | undefined;
  let loh = 0;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    if (!isAvailable(d)) continue;
    const doh = connOverhead(d);
    if (least === undefined || loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}
