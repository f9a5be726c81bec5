import { isAvailable } from './available.ts';
import { knuthLowBits } from './hash32.ts';
import { foldHost } from './host-fold.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';
import { validateDestinations } from './validate-destinations.ts';

const DH_TAB_SIZE = 256;
const DH_TAB_MASK = DH_TAB_SIZE - 1;

/**
 * Destination hashing (ip_vs_dh.c): a 256-bucket table maps the address the client
 * connected to (ctx.destHost) to a server. As in the kernel the buckets are dealt
 * one per server in turn, so weights do not shape the table: they only switch a
 * server on (> 0) or off (0 → no destination). There is no fallback: a quiesced or
 * overloaded server means no destination. The kernel's hash keeps the low 8 bits
 * of addr·2654435761, i.e. for IPv4 only the last octet decides.
 */
export class DestinationHashScheduler implements Scheduler {
  readonly name = 'dh' as const;
  readonly #buckets: (Destination | undefined)[] = new Array<Destination | undefined>(DH_TAB_SIZE).fill(
    undefined,
  );

  /** The 256 buckets (read-only view, for inspection and tests). */
  get buckets(): readonly (Destination | undefined)[] {
    return this.#buckets;
  }

  update(dests: readonly Destination[]): void {
    validateDestinations(dests);
    for (let i = 0; i < DH_TAB_SIZE; i++) {
      this.#buckets[i] = dests.length === 0 ? undefined : dests[i % dests.length];
    }
  }

  pick(ctx: PickContext): Destination | undefined {
    const d = this.#buckets[knuthLowBits(foldHost(ctx.destHost), DH_TAB_MASK)];
    return d !== undefined && isAvailable(d) ? d : undefined;
  }
}
