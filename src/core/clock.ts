/**
 * Time source injected into every pure core. `now()` is monotonic milliseconds
 * (never jumps with wall-clock changes); `wallNow()` is Unix epoch milliseconds
 * for logs and expiry that must match other hosts.
 */
export interface Clock {
  now(): number;
  wallNow(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
};

/** A clock that only moves when told to: for tests of state machines. */
export class ManualClock implements Clock {
  #now: number;
  #wallOffset: number;

  constructor(startMs = 0, wallStartMs = 1_700_000_000_000) {
    this.#now = startMs;
    this.#wallOffset = wallStartMs - startMs;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#now + this.#wallOffset;
  }

  advance(ms: number): void {
    if (ms < 0) throw new RangeError('a clock cannot go back');
    this.#now += ms;
  }

  set(ms: number): void {
    if (ms < this.#now) throw new RangeError('a clock cannot go back');
    this.#now = ms;
  }
}

/** Random source injected into randomized schedulers and jittered timers. Returns [0, 1). */
export type RandomSource = () => number;

/** Deterministic PRNG (mulberry32) for reproducible tests. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
