import { HastackError } from '../core/errors.ts';

/** sysctl lblc_expiration / lblcr_expiration default: 24 hours. */
export const LOCALITY_DEFAULT_EXPIRATION_MS = 24 * 60 * 60 * 1000;
/** ENTRY_TIMEOUT: idle time after which an entry may be collected when the table is over-full. */
export const LOCALITY_ENTRY_TIMEOUT_MS = 6 * 60 * 1000;
/** CHECK_EXPIRE_INTERVAL: how often the kernel's collector runs. */
export const LOCALITY_CHECK_INTERVAL_MS = 60 * 1000;
/** COUNT_FOR_FULL_EXPIRATION × CHECK_EXPIRE_INTERVAL: the full expiry sweep period. */
export const LOCALITY_FULL_CHECK_INTERVAL_MS = 30 * LOCALITY_CHECK_INTERVAL_MS;
/** max_size: IP_VS_LBLC_TAB_SIZE × 16. */
export const LOCALITY_MAX_ENTRIES = 1024 * 16;

export interface LocalityOptions {
  /** lblc_expiration / lblcr_expiration in ms (default 24 h). */
  expirationMs?: number;
  /** Entries kept before idle ones (6 min+) are collected early (default 16384). */
  maxEntries?: number;
}

/** What the collector needs from an entry. */
export interface LocalityEntry {
  /** ctx.now of the last lookup that found it. */
  lastUse: number;
}

/**
 * The per-destination-IP table of lblc and lblcr, with the kernel's expiry:
 * an entry not looked up for `expirationMs` is gone. The kernel finds such entries
 * in a sweep every 30 minutes; here a lookup also treats them as gone at once,
 * so expiry is exact. The periodic sweeps run from lookups (there are no timers in
 * a pure core): every 30 min a full sweep of expired entries, and every minute,
 * when the table holds more than `maxEntries`, entries idle for 6 minutes or more
 * are dropped (up to 4/3 of the excess, at most half the maximum), as the kernel does.
 */
export class LocalityTable<E extends LocalityEntry> {
  readonly expirationMs: number;
  readonly maxEntries: number;
  readonly #entries = new Map<string, E>();
  #nextCheckAt: number | undefined;
  #nextFullCheckAt: number | undefined;

  constructor(options: LocalityOptions = {}) {
    this.expirationMs = options.expirationMs ?? LOCALITY_DEFAULT_EXPIRATION_MS;
    this.maxEntries = options.maxEntries ?? LOCALITY_MAX_ENTRIES;
    if (!(this.expirationMs > 0) || !Number.isFinite(this.expirationMs)) {
      throw new HastackError('HASTACK_BALANCE_INVALID_OPTION', `expirationMs must be a positive number`, {
        details: { expirationMs: options.expirationMs },
      });
    }
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new HastackError('HASTACK_BALANCE_INVALID_OPTION', `maxEntries must be a positive integer`, {
        details: { maxEntries: options.maxEntries },
      });
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live entry for `key`, touched (lastUse = now); undefined when absent or expired. */
  lookup(key: string, now: number): E | undefined {
    this.#collect(now);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now - entry.lastUse >= this.expirationMs) {
      this.#entries.delete(key);
      return undefined;
    }
    entry.lastUse = now;
    return entry;
  }

  /** Read-only peek for inspection: no touch, no expiry. */
  peek(key: string): E | undefined {
    return this.#entries.get(key);
  }

  insert(key: string, entry: E): void {
    this.#entries.set(key, entry);
  }

  /** The kernel's periodic check, run when due. Allocates an iterator at most once a minute. */
  #collect(now: number): void {
    if (this.#nextCheckAt === undefined || this.#nextFullCheckAt === undefined) {
      this.#nextCheckAt = now + LOCALITY_CHECK_INTERVAL_MS;
      this.#nextFullCheckAt = now + LOCALITY_FULL_CHECK_INTERVAL_MS;
      return;
    }
    if (now < this.#nextCheckAt) return;
    this.#nextCheckAt = now + LOCALITY_CHECK_INTERVAL_MS;
    if (now >= this.#nextFullCheckAt) {
      this.#nextFullCheckAt = now + LOCALITY_FULL_CHECK_INTERVAL_MS;
      for (const [key, entry] of this.#entries) {
        if (now - entry.lastUse >= this.expirationMs) this.#entries.delete(key);
      }
      return;
    }
    const excess = this.#entries.size - this.maxEntries;
    if (excess <= 0) return;
    let goal = Math.min(Math.floor((excess * 4) / 3), Math.floor(this.maxEntries / 2));
    for (const [key, entry] of this.#entries) {
      if (now - entry.lastUse < LOCALITY_ENTRY_TIMEOUT_MS) continue;
      this.#entries.delete(key);
      if (--goal <= 0) break;
    }
  }
}
