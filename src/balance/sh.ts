import type { SchedulerFlags } from '../config/model.ts';
import { isAvailable } from './available.ts';
import { hash32 } from './hash32.ts';
import { foldHost } from './host-fold.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';
import { validateDestinations } from './validate-destinations.ts';

const SH_TAB_BITS = 8;
const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

/**
 * Source hashing (ip_vs_sh.c): a 256-bucket table maps hash_32(client address
 * [+ client port with sh-port]) to a server. The table is filled by walking the
 * list and giving each server `weight` consecutive buckets, wrapping around until
 * all 256 are assigned; a weight-0 server still holds one bucket per round.
 * When the server found is quiesced or overloaded, the result is "none" unless
 * sh-fallback is set, which then walks the table from there to the next usable one.
 */
export class SourceHashScheduler implements Scheduler {
  readonly name = 'sh' as const;
  readonly #hashPort: boolean;
  readonly #fallback: boolean;
  readonly #buckets: (Destination | undefined)[] = new Array<Destination | undefined>(SH_TAB_SIZE).fill(
    undefined,
  );

  constructor(flags: Partial<SchedulerFlags> = {}) {
    this.#hashPort = flags.hashPort ?? false;
    this.#fallback = flags.fallback ?? false;
  }

  /** The 256 buckets (read-only view, for inspection and tests). */
  get buckets(): readonly (Destination | undefined)[] {
    return this.#buckets;
  }

  update(dests: readonly Destination[]): void {
    validateDestinations(dests);
    // ip_vs_sh_reassign
    let p = 0;
    let count = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) {
      if (dests.length === 0) {
        this.#buckets[i] = undefined;
        continue;
      }
      const d = dests[p]!;
      this.#buckets[i] = d;
      if (++count >= d.weight) {
        p = (p + 1) % dests.length;
        count = 0;
      }
    }
  }

  pick(ctx: PickContext): Destination | undefined {
    const port = this.#hashPort ? ctx.clientPort : 0;
    const base = hash32((foldHost(ctx.clientHost) + port) | 0, SH_TAB_BITS);
    const first = this.#buckets[base];
    if (first === undefined) return undefined;
    if (isAvailable(first)) return first;
    if (!this.#fallback) return undefined;
    // ip_vs_sh_get_fallback: deterministic walk starting from the original hash.
    for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
      const roffset = (offset + base) % SH_TAB_SIZE;
      const d = this.#buckets[(roffset + base) & SH_TAB_MASK];
      if (d === undefined) break;
      if (isAvailable(d)) return d;
    }
    return undefined;
  }
}
