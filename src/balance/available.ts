import type { Destination } from './types.ts';

/** May take new connections: not quiesced (weight 0) and not over its u_threshold. */
export function isAvailable(d: Destination): boolean {
  return d.weight > 0 && !d.overloaded;
}
