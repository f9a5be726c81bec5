import { isAvailable } from './available.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';
import { validateDestinations } from './validate-destinations.ts';

/**
 * Round-robin (ip_vs_rr.c): the next available server after the last one picked,
 * wrapping once around the list. Quiesced (weight 0) and overloaded servers are
 * skipped.
 */
export class RoundRobinScheduler implements Scheduler {
  readonly name = 'rr' as const;
  #dests: readonly Destination[] = [];
  /** Index of the last pick; -1 = "list head" (start from the first). */
  #cursor = -1;

  update(dests: readonly Destination[]): void {
    validateDestinations(dests);
    const next = dests.slice();
    this.#cursor = carryCursor(this.#dests, this.#cursor, next);
    this.#dests = next;
  }

  pick(_ctx: PickContext): Destination | undefined {
    const dests = this.#dests;
    const n = dests.length;
    const start = this.#cursor;
    // From the last pick to the end, then from the start up to and including it.
    for (let step = 1; step <= n; step++) {
      const i = (start + step) % n;
      const d = dests[i]!;
      if (isAvailable(d)) {
        this.#cursor = i;
        return d;
      }
    }
    return undefined;
  }
}

/**
 * Where the cursor points in the new list, as the kernel's list pointer would:
 * still at the last-picked server if it remains; if it left, at the nearest
 * earlier server that remains (ip_vs_rr_del_dest steps back), else the head.
 */
function carryCursor(before: readonly Destination[], cursor: number, after: readonly Destination[]): number {
  if (cursor < 0 || cursor >= before.length) return -1;
  const indexByKey = new Map<string, number>();
  for (let i = 0; i < after.length; i++) indexByKey.set(after[i]!.key, i);
  for (let i = cursor; i >= 0; i--) {
    const found = indexByKey.get(before[i]!.key);
    if (found !== undefined) return found;
  }
  return -1;
}
