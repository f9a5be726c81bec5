import type { Clock } from '../../core/clock.ts';
import { KetamaRing, type RingServer } from './ketama.ts';

/**
 * The client's view of its servers: a ketama ring over the live ones. A server
 * that fails `failureLimit` times in a row is ejected from the ring (its keys
 * move to the next servers on the ring) and tried again after `retryDelayMs`,
 * as libmemcached's auto-eject and the `memcached` client's retry do. Pure: time
 * comes from the injected clock.
 */
export interface ServerPoolOptions {
  failureLimit: number;
  retryDelayMs: number;
  /** Keep dead servers in the ring (fail fast instead of remapping keys). */
  remapOnFailure: boolean;
}

interface ServerHealth {
  server: RingServer;
  failures: number;
  /** Monotonic ms until which the server is out of the ring (0 = alive). */
  deadUntil: number;
}

export class ServerPool {
  readonly #health: ServerHealth[];
  readonly #clock: Clock;
  readonly #options: ServerPoolOptions;
  #ring: KetamaRing;
  #liveKey = '';

  constructor(servers: readonly RingServer[], clock: Clock, options: ServerPoolOptions) {
    this.#health = servers.map((server) => ({ server, failures: 0, deadUntil: 0 }));
    this.#clock = clock;
    this.#options = options;
    this.#ring = new KetamaRing(servers);
    this.#rebuild();
  }

  /** The server for a key among the servers currently in the ring. */
  pick(key: string | Buffer): RingServer | undefined {
    this.#rebuild();
    return this.#ring.get(key);
  }

  /** A request to this server failed (connect error, timeout, reset). */
  failure(address: string): void {
    const h = this.#find(address);
    if (h === undefined) return;
    h.failures++;
    if (h.failures >= this.#options.failureLimit) {
      h.deadUntil = this.#clock.now() + this.#options.retryDelayMs;
      h.failures = 0;
    }
  }

  success(address: string): void {
    const h = this.#find(address);
    if (h !== undefined) {
      h.failures = 0;
      h.deadUntil = 0;
    }
  }

  isDead(address: string): boolean {
    const h = this.#find(address);
    return h !== undefined && h.deadUntil > this.#clock.now();
  }

  get servers(): readonly RingServer[] {
    return this.#health.map((h) => h.server);
  }

  #find(address: string): ServerHealth | undefined {
    return this.#health.find((h) => h.server.address === address);
  }

  /** Rebuilds the ring when the set of live servers changed (a death, or a retry time that came). */
  #rebuild(): void {
    const now = this.#clock.now();
    const live = this.#options.remapOnFailure
      ? this.#health.filter((h) => h.deadUntil <= now).map((h) => h.server)
      : this.#health.map((h) => h.server);
    const key = live.map((s) => s.address).join(',');
    if (key === this.#liveKey) return;
    this.#liveKey = key;
    this.#ring = new KetamaRing(live);
  }
}
