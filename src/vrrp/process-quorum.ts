import type { TrackProcessConfig } from './process-match.ts';

/*
 * One vrrp_track_process tracker's up/down state from its count of matching
 * processes. Pure: time comes in as `now` (ms), and the caller arms one timer at
 * nextDeadline() and calls tick() then.
 *  - up iff quorum <= count <= quorum_max;
 *  - the first count decides the state at once (keepalived's initial scan);
 *  - afterwards a change towards up waits fork_delay and one towards down waits
 *    terminate_delay, so a fork/exec or a reload (stop+start) does not bounce the
 *    instance; when the delay ends the condition is checked again;
 *  - a pending change that becomes moot (the count is back on the current
 *    state's side) is cancelled; further counts on the pending side keep its deadline.
 */

export type QuorumConfig = Pick<
  TrackProcessConfig,
  'quorum' | 'quorumMax' | 'forkDelayMs' | 'terminateDelayMs'
>;

export class ProcessQuorum {
  readonly #config: QuorumConfig;
  #started = false;
  #up = false;
  #count = 0;
  #pending: { up: boolean; at: number } | undefined;

  constructor(config: QuorumConfig) {
    this.#config = config;
  }

  get up(): boolean {
    return this.#up;
  }

  get count(): number {
    return this.#count;
  }

  /** Whether a first count was given (before it, `up` is false and means nothing). */
  get started(): boolean {
    return this.#started;
  }

  /** The direction of a change waiting for its delay. */
  get pending(): 'up' | 'down' | undefined {
    return this.#pending === undefined ? undefined : this.#pending.up ? 'up' : 'down';
  }

  inQuorum(count: number): boolean {
    return count >= this.#config.quorum && count <= this.#config.quorumMax;
  }

  /**
   * A new count. Returns the new state when it changed by this call (a delay
   * that had ended included), else undefined; the first count sets the state
   * and returns undefined (nothing changed: it was unknown).
   */
  update(count: number, now: number): boolean | undefined {
    const before = this.#up;
    if (!this.#started) {
      this.#count = count;
      this.#started = true;
      this.#up = this.inQuorum(count);
      return undefined;
    }
    // A deadline already passed happened before this count: apply it first.
    if (this.#pending !== undefined && now >= this.#pending.at) this.#fire();
    this.#count = count;
    const want = this.inQuorum(count);
    if (want === this.#up) {
      this.#pending = undefined;
    } else if (this.#pending === undefined) {
      const delay = want ? this.#config.forkDelayMs : this.#config.terminateDelayMs;
      if (delay > 0) this.#pending = { up: want, at: now + delay };
      else this.#up = want;
    }
    return this.#up === before ? undefined : this.#up;
  }

  /** Ends a delay whose deadline has come; returns the new state when it changed. */
  tick(now: number): boolean | undefined {
    if (this.#pending === undefined || now < this.#pending.at) return undefined;
    const before = this.#up;
    this.#fire();
    return this.#up === before ? undefined : this.#up;
  }

  /** When tick() has something to do, if ever. */
  nextDeadline(): number | undefined {
    return this.#pending?.at;
  }

  #fire(): void {
    this.#pending = undefined;
    // Checked again, as keepalived's timers do: the count decides, not the plan.
    this.#up = this.inQuorum(this.#count);
  }
}
