import type { SchedulerFlags, SchedulerName } from '../config/model.ts';
import type { RandomSource } from '../core/clock.ts';

/**
 * A real server as a scheduler sees it: the fields IPVS's `struct ip_vs_dest`
 * exposes to its schedulers. The owner (the L4 service table) mutates the counters
 * in place; schedulers only read them, so picking allocates nothing.
 */
export interface Destination {
  /** Unique in its service: "host:port". */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** Effective weight. 0 = quiesced: no new connections, existing ones stay. */
  weight: number;
  /** Established connections (IPVS activeconns). */
  activeConns: number;
  /** Connections in other states: half-closed, closing (IPVS inactconns). */
  inactiveConns: number;
  /** Set while u/lthreshold says the server is full (IP_VS_DEST_F_OVERLOAD). */
  overloaded: boolean;
}

/** What is known about the connection being scheduled. */
export interface PickContext {
  clientHost: string;
  clientPort: number;
  /** The address the client connected to (the VIP): hashed by dh, lblc, lblcr. */
  destHost: string;
  destPort: number;
  /** Monotonic ms, for schedulers with expiring state (lblc, lblcr). */
  now: number;
}

export interface Scheduler {
  readonly name: SchedulerName;
  /**
   * Called whenever the destination list or any weight changes (not for counter
   * changes). Schedulers rebuild derived state here (wrr's gcd, mh's table...).
   * The array and its objects stay owned by the caller and may be kept by reference.
   */
  update(dests: readonly Destination[]): void;
  /** The destination for a new connection, or undefined when none can take it. */
  pick(ctx: PickContext): Destination | undefined;
}

export interface SchedulerOptions {
  flags?: Partial<SchedulerFlags>;
  /** For twos (and any randomized choice): defaults to Math.random. */
  random?: RandomSource;
  /** mh: lookup table size, a prime (IPVS default 4093). */
  mhTableSize?: number;
}
