import type { Destination } from './types.ts';

/**
 * IPVS u_threshold / l_threshold rule (`ip_vs_bind_dest` / `ip_vs_unbind_dest`),
 * evaluated on the current counters. Call it whenever the connection counters of
 * `dest` change.
 *
 * - upper 0: no limit, the flag is always clear.
 * - active + inactive ≥ upper: overloaded.
 * - an overloaded server recovers below `lower`, or, when lower is 0, once
 *   4·total < 3·upper (below three quarters of upper).
 *
 * Returns whether `dest.overloaded` changed.
 */
export function updateOverload(dest: Destination, upperThreshold: number, lowerThreshold: number): boolean {
  const before = dest.overloaded;
  const total = dest.activeConns + dest.inactiveConns;
  let after = before;
  if (upperThreshold <= 0) {
    after = false;
  } else if (total >= upperThreshold) {
    after = true;
  } else if (before) {
    after = lowerThreshold > 0 ? total >= lowerThreshold : total * 4 >= upperThreshold * 3;
  }
  if (after === before) return false;
  dest.overloaded = after;
  return true;
}
