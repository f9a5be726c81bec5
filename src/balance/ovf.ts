import { DestinationListScheduler } from './destination-list.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';

/**
 * Overflow (ip_vs_ovf.c): the highest-weight server whose active connections do
 * not exceed its weight (active ≤ weight: the kernel skips only active > weight),
 * so traffic spills to the next server once the first holds `weight` connections.
 * Only active connections count, which makes it a poor fit for UDP (as in IPVS).
 * Ties → first in list.
 */
export class OverflowScheduler extends DestinationListScheduler implements Scheduler {
  readonly name = 'ovf' as const;

  pick(_ctx: PickContext): Destination | undefined {
    const dests = this.dests;
    let best: Destination | undefined;
    let bestWeight = 0;
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i]!;
      const w = d.weight;
      if (d.overloaded || w === 0 || d.activeConns > w) continue;
      if (best === undefined || w > bestWeight) {
        best = d;
        bestWeight = w;
      }
    }
    return best;
  }
}
