import { HastackError } from '../core/errors.ts';
import type { Destination } from './types.ts';

/** IPVS weights are 0..65535 (ipvsadm rejects anything else). */
export const MAX_WEIGHT = 65535;

/**
 * Checks what every scheduler assumes about its list: unique keys, integer
 * weights 0..65535, non-negative integer counters. Runs in update(), never in pick().
 */
export function validateDestinations(dests: readonly Destination[]): void {
  const seen = new Set<string>();
  for (const d of dests) {
    if (seen.has(d.key)) {
      throw new HastackError(
        'HASTACK_BALANCE_DUPLICATE_DESTINATION',
        `destination "${d.key}" is listed twice`,
        {
          details: { key: d.key },
        },
      );
    }
    seen.add(d.key);
    if (!Number.isInteger(d.weight) || d.weight < 0 || d.weight > MAX_WEIGHT) {
      throw new HastackError(
        'HASTACK_BALANCE_INVALID_WEIGHT',
        `destination "${d.key}": weight must be an integer 0..${MAX_WEIGHT}, got ${d.weight}`,
        { details: { key: d.key, weight: d.weight } },
      );
    }
    if (!isCount(d.activeConns) || !isCount(d.inactiveConns)) {
      throw new HastackError(
        'HASTACK_BALANCE_INVALID_COUNTER',
        `destination "${d.key}": connection counters must be non-negative integers`,
        { details: { key: d.key, activeConns: d.activeConns, inactiveConns: d.inactiveConns } },
      );
    }
  }
}

function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}
