import type { SchedulerFlags } from '../config/model.ts';
import { HastackError } from '../core/errors.ts';
import { isAvailable } from './available.ts';
import { gcdOfPositive } from './gcd.ts';
import { foldHost } from './host-fold.ts';
import { SipHash13 } from './siphash.ts';
import type { Destination, PickContext, Scheduler } from './types.ts';
import { validateDestinations } from './validate-destinations.ts';

/** IPVS's default table size (CONFIG_IP_VS_MH_TAB_INDEX 12). */
export const DEFAULT_MH_TABLE_SIZE = 4093;
/** The largest prime IPVS offers; bounds memory per service. */
export const MAX_MH_TABLE_SIZE = 131071;

/**
 * The kernel's fixed hsiphash keys (generate_hash_secret in ip_vs_mh.c): one for
 * the offsets and lookups, one for the skips. Fixed keys keep the mapping stable
 * across restarts and equal to a 64-bit Linux host's for the same list order.
 */
const HASH1_KEY = 2654435761;
const HASH2_KEY = 2654446892;

/**
 * Maglev hashing (ip_vs_mh.c; Eisenbud et al., NSDI 2016). Every server gets a
 * permutation of the M table slots (offset, skip from two hashes of its address
 * and port); servers take turns claiming their next free preferred slot until the
 * table is full. A server claims weight/gcd slots per turn (scaled down by a
 * shift when weights are large, as the kernel does), so shares follow weights,
 * and when one of N servers leaves only about 1/N of the slots change owner.
 *
 * Lookups hash the client address (+ port with mh-port) to a slot. A quiesced or
 * overloaded owner means no destination, unless mh-fallback is set, which rehashes
 * with growing offsets until a usable server turns up.
 *
 * As in the kernel, the table is built from each server's last non-zero weight:
 * setting a weight to 0 keeps its slots (lookups there fail or fall back) so the
 * rest of the mapping does not move; a server added with weight 0 gets no slot.
 */
export class MaglevHashScheduler implements Scheduler {
  readonly name = 'mh' as const;
  readonly #size: number;
  /** IP_VS_MH_TAB_BITS: half the bits of the table size; bounds the turns per round. */
  readonly #tabBits: number;
  readonly #hashPort: boolean;
  readonly #fallback: boolean;
  readonly #hash1 = new SipHash13(0, HASH1_KEY, 0, HASH1_KEY);
  readonly #hash2 = new SipHash13(0, HASH2_KEY, 0, HASH2_KEY);
  #lookup: (Destination | undefined)[];
  #dests: readonly Destination[] = [];
  /** last_weight by key: the latest non-zero weight (or the weight at addition). */
  #lastWeight = new Map<string, number>();

  constructor(flags: Partial<SchedulerFlags> = {}, tableSize: number = DEFAULT_MH_TABLE_SIZE) {
    if (
      !Number.isInteger(tableSize) ||
      tableSize < 3 ||
      tableSize > MAX_MH_TABLE_SIZE ||
      !isPrime(tableSize)
    ) {
      throw new HastackError(
        'HASTACK_BALANCE_INVALID_OPTION',
        `mh table size must be a prime between 3 and ${MAX_MH_TABLE_SIZE} (IPVS uses 251, 509, 1021, 2039, 4093, ...), got ${tableSize}`,
        { details: { mhTableSize: tableSize } },
      );
    }
    this.#size = tableSize;
    this.#tabBits = Math.floor(Math.ceil(Math.log2(tableSize)) / 2);
    this.#hashPort = flags.hashPort ?? false;
    this.#fallback = flags.fallback ?? false;
    this.#lookup = new Array<Destination | undefined>(tableSize).fill(undefined);
  }

  /** The lookup table (read-only view, for inspection and tests). */
  get lookupTable(): readonly (Destination | undefined)[] {
    return this.#lookup;
  }

  update(dests: readonly Destination[]): void {
    validateDestinations(dests);
    if (dests.length > this.#size) {
      throw new HastackError(
        'HASTACK_BALANCE_MH_TOO_MANY_DESTINATIONS',
        `mh: ${dests.length} destinations do not fit a table of ${this.#size} slots`,
        { details: { destinations: dests.length, mhTableSize: this.#size } },
      );
    }
    const lastWeight = new Map<string, number>();
    for (const d of dests) {
      const before = this.#lastWeight.get(d.key);
      lastWeight.set(d.key, before === undefined || d.weight !== 0 ? d.weight : before);
    }
    this.#lastWeight = lastWeight;
    this.#dests = dests.slice();
    this.#lookup = this.#populate(dests, lastWeight);
  }

  #populate(dests: readonly Destination[], lastWeight: Map<string, number>): (Destination | undefined)[] {
    const m = this.#size;
    const lookup = new Array<Destination | undefined>(m).fill(undefined);
    const g = gcdOfPositive(lastWeight.values());
    if (g < 1) return lookup;
    let maxWeight = 0;
    for (const w of lastWeight.values()) if (w > maxWeight) maxWeight = w;
    // ip_vs_mh_shift_weight: keep weight/gcd within IP_VS_MH_TAB_BITS bits.
    const shift = Math.max(0, fls(Math.floor(maxWeight / g)) - this.#tabBits);

    const n = dests.length;
    const perm = new Int32Array(n);
    const skip = new Int32Array(n);
    const turns = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const d = dests[i]!;
      const seed = (foldHost(d.host) + d.port) | 0;
      perm[i] = this.#hash1.hashWordModulo(seed, m);
      skip[i] = this.#hash2.hashWordModulo(seed, m - 1) + 1;
      const lw = lastWeight.get(d.key)!;
      turns[i] = Math.floor(lw / g) >> shift || (lw !== 0 ? 1 : 0);
    }

    const taken = new Uint8Array(m);
    let filled = 0;
    let turn = 0;
    while (filled < m) {
      let p = 0;
      while (p < n) {
        if (turns[p]! < 1) {
          p++;
          continue;
        }
        let c = perm[p]!;
        while (taken[c] === 1) {
          c += skip[p]!;
          if (c >= m) c -= m;
        }
        perm[p] = c;
        taken[c] = 1;
        lookup[c] = dests[p];
        if (++filled === m) return lookup;
        if (++turn >= turns[p]!) {
          turn = 0;
          p++;
        }
      }
    }
    return lookup;
  }

  pick(ctx: PickContext): Destination | undefined {
    const m = this.#size;
    const addr = foldHost(ctx.clientHost);
    const port = this.#hashPort ? ctx.clientPort : 0;
    const ihash = this.#hash1.hashWordModulo((addr + port) | 0, m);
    const first = this.#lookup[ihash];
    if (first === undefined) return undefined;
    if (isAvailable(first)) return first;
    if (!this.#fallback || !this.#anyAvailable()) return undefined;
    // ip_vs_mh_get_fallback: rehash with offsets ihash, ihash+1, ... until usable.
    for (let offset = 0; offset < m; offset++) {
      const roffset = (offset + ihash) % m;
      const d = this.#lookup[this.#hash1.hashWordModulo((roffset + port + addr) | 0, m)];
      if (d === undefined) break;
      if (isAvailable(d)) return d;
    }
    return undefined;
  }

  /** Skips a futile walk of the whole table when nothing can take the connection. */
  #anyAvailable(): boolean {
    const dests = this.#dests;
    for (let i = 0; i < dests.length; i++) if (isAvailable(dests[i]!)) return true;
    return false;
  }
}

/** Index of the highest set bit, 1-based (Linux fls); 0 for 0. */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let f = 2; f * f <= n; f++) if (n % f === 0) return false;
  return true;
}
