import type { Destination } from './types.ts';

/**
 * lblc/lblcr's own notion of "overloaded" (is_overloaded in ip_vs_lblc.c): the
 * cached server has more active connections than its weight while some server
 * in the service has fewer than half its weight. Then the cache is bypassed.
 */
export function isLocalityOverloaded(dest: Destination, dests: readonly Destination[]): boolean {
  if (dest.activeConns <= dest.weight) return false;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    if (d.activeConns * 2 < d.weight) return true;
  }
  return false;
}
