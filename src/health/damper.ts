import { HastackError } from '../core/errors.ts';

export interface DamperOptions {
  /** Consecutive successes needed to go up. */
  rise: number;
  /** Consecutive failures needed to go down. */
  fall: number;
  /** alpha: start down (and need `rise` successes) instead of up. */
  startDown: boolean;
}

/**
 * Rise/fall damping of one check, as HAProxy's `rise`/`fall`: a single flapping
 * probe does not move the server. Pure: no clock, no I/O.
 */
export class Damper {
  readonly rise: number;
  readonly fall: number;
  #up: boolean;
  #consecutiveOk = 0;
  #consecutiveFail = 0;

  constructor(options: DamperOptions) {
    this.rise = positiveCount(options.rise, 'rise');
    this.fall = positiveCount(options.fall, 'fall');
    this.#up = !options.startDown;
  }

  get up(): boolean {
    return this.#up;
  }

  get consecutiveOk(): number {
    return this.#consecutiveOk;
  }

  get consecutiveFail(): number {
    return this.#consecutiveFail;
  }

  /** Records one probe result; returns true when the damped state flipped. */
  record(ok: boolean): boolean {
    if (ok) {
      this.#consecutiveFail = 0;
      this.#consecutiveOk++;
      if (!this.#up && this.#consecutiveOk >= this.rise) {
        this.#up = true;
        return true;
      }
      return false;
    }
    this.#consecutiveOk = 0;
    this.#consecutiveFail++;
    if (this.#up && this.#consecutiveFail >= this.fall) {
      this.#up = false;
      return true;
    }
    return false;
  }
}

function positiveCount(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new HastackError(
      'HASTACK_HEALTH_INVALID_DAMPING',
      `check ${name} must be a whole number of at least 1, got ${value}`,
      { details: { [name]: value } },
    );
  }
  return value;
}
