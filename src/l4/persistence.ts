import { isIP } from 'node:net';
import { ipToInt } from '../core/address.ts';
import { HastackError } from '../core/errors.ts';

export interface PersistenceOptions {
  /** persistence_timeout: how long a template outlives its last connection. */
  timeoutMs: number;
  /** persistence_granularity as an IPv4 prefix length (32 = one template per client address). */
  granularity: number;
  /** Upper bound on templates; the least recently used one is evicted beyond it. */
  maxTemplates: number;
}

export const DEFAULT_MAX_TEMPLATES = 65_536;

/** An IPVS persistence template: "clients of this network go to that server". */
export class PersistenceTemplate<T> {
  readonly key: number | string;
  readonly target: T;
  /** Connections currently using the template; it cannot expire while > 0. */
  connections = 0;
  /** Monotonic ms after which the template is gone (Infinity while in use). */
  expiresAt = Number.POSITIVE_INFINITY;
  /** False once dropped from the table (a connection may still hold it). */
  listed = true;

  constructor(key: number | string, target: T) {
    this.key = key;
    this.target = target;
  }
}

/**
 * Client affinity as IPVS persistence templates (`ip_vs_sched_persist`). The key
 * is the client address masked by the granularity (IPv4 and IPv4-mapped IPv6;
 * plain IPv6 clients use their full address). A template expires `timeoutMs`
 * after its last connection ended; a template whose server is no longer
 * available is dropped on lookup (as IPVS with expire_quiescent_template=1).
 * Size is bounded: a flood of clients evicts the least recently used templates
 * instead of growing memory. Pure: time is passed in.
 */
export class PersistenceTable<T> {
  readonly #timeoutMs: number;
  readonly #mask: number;
  readonly #max: number;
  /** Insertion order = least recently used first. */
  readonly #templates = new Map<number | string, PersistenceTemplate<T>>();

  constructor(options: PersistenceOptions) {
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new HastackError('HASTACK_L4_INVALID_PERSISTENCE', 'persistence timeout must be > 0');
    }
    if (!Number.isInteger(options.granularity) || options.granularity < 0 || options.granularity > 32) {
      throw new HastackError(
        'HASTACK_L4_INVALID_PERSISTENCE',
        'persistence granularity must be a prefix length 0..32',
      );
    }
    if (!Number.isInteger(options.maxTemplates) || options.maxTemplates < 1) {
      throw new HastackError('HASTACK_L4_INVALID_PERSISTENCE', 'maxTemplates must be ≥ 1');
    }
    this.#timeoutMs = options.timeoutMs;
    this.#mask = options.granularity === 0 ? 0 : (0xffffffff << (32 - options.granularity)) >>> 0;
    this.#max = options.maxTemplates;
  }

  get size(): number {
    return this.#templates.size;
  }

  /** The template key for a client address. */
  keyFor(clientHost: string): number | string {
    const family = isIP(clientHost);
    if (
      family === 4 ||
      (family === 6 && clientHost.toLowerCase().startsWith('::ffff:') && clientHost.includes('.'))
    ) {
      return (ipToInt(clientHost) & this.#mask) >>> 0;
    }
    return clientHost.toLowerCase();
  }

  /**
   * The live template for this client, or undefined. Expired templates and those
   * whose target `isAvailable` rejects are dropped here.
   */
  lookup(
    clientHost: string,
    now: number,
    isAvailable: (target: T) => boolean,
  ): PersistenceTemplate<T> | undefined {
    const key = this.keyFor(clientHost);
    const t = this.#templates.get(key);
    if (t === undefined) return undefined;
    if (t.expiresAt <= now || !isAvailable(t.target)) {
      this.#drop(t);
      return undefined;
    }
    return t;
  }

  /** Records that this client's network now goes to `target` (replacing any older template). */
  create(clientHost: string, target: T): PersistenceTemplate<T> {
    const key = this.keyFor(clientHost);
    const old = this.#templates.get(key);
    if (old !== undefined) this.#drop(old);
    while (this.#templates.size >= this.#max) {
      const oldest = this.#templates.values().next().value as PersistenceTemplate<T>;
      this.#drop(oldest);
    }
    const t = new PersistenceTemplate(key, target);
    this.#templates.set(key, t);
    return t;
  }

  /** A connection starts using the template: it stays alive and becomes most recently used. */
  attach(t: PersistenceTemplate<T>): void {
    t.connections++;
    t.expiresAt = Number.POSITIVE_INFINITY;
    if (t.listed) {
      this.#templates.delete(t.key);
      this.#templates.set(t.key, t);
    }
  }

  /** A connection using the template ended; the last one starts the expiry clock. */
  detach(t: PersistenceTemplate<T>, now: number): void {
    if (t.connections > 0) t.connections--;
    if (t.connections === 0) t.expiresAt = now + this.#timeoutMs;
  }

  /** Forgets a template (e.g. its server refused the connection). */
  remove(t: PersistenceTemplate<T>): void {
    if (t.listed) this.#drop(t);
  }

  /** Drops every template pointing at `target` (server removed). Returns how many. */
  removeTarget(target: T): number {
    let n = 0;
    for (const t of this.#templates.values()) {
      if (t.target === target) {
        this.#drop(t);
        n++;
      }
    }
    return n;
  }

  /** Removes expired templates; returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const t of this.#templates.values()) {
      if (t.expiresAt <= now) {
        this.#drop(t);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    for (const t of this.#templates.values()) t.listed = false;
    this.#templates.clear();
  }

  #drop(t: PersistenceTemplate<T>): void {
    t.listed = false;
    this.#templates.delete(t.key);
  }
}
