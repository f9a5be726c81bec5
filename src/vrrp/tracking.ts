import type { TrackedInterface, TrackedScript, VrrpScriptConfig } from './config-schema.ts';

/*
 * How trackers (track_interface, track_script, track_file, track_process) set an
 * instance's effective priority or put it in FAULT, as keepalived does. Pure.
 *  - weight 0: FAULT while the tracked thing is down/failing;
 *  - weight > 0: added while up/succeeding; weight < 0: added while down/failing;
 *  - reverse: up counts as down and the other way round.
 * The sum is clamped to 1..254; an address owner (255) never changes.
 */

export interface TrackerEffect {
  /** Added to the priority. */
  delta: number;
  /** Set when this tracker puts the instance in FAULT. */
  fault?: string;
}

export function trackerEffect(what: string, up: boolean, weight: number, reverse: boolean): TrackerEffect {
  const good = reverse ? !up : up;
  if (weight === 0)
    return good ? { delta: 0 } : { delta: 0, fault: `${what} is ${up ? 'up (reverse)' : 'down'}` };
  if (weight > 0) return { delta: good ? weight : 0 };
  return { delta: good ? 0 : weight };
}

export function interfaceEffect(track: TrackedInterface, up: boolean): TrackerEffect {
  return trackerEffect(`interface ${track.interface}`, up, track.weight, track.reverse);
}

export function scriptEffect(track: TrackedScript, script: VrrpScriptConfig, ok: boolean): TrackerEffect {
  return trackerEffect(
    `script ${script.name}`,
    ok,
    track.weight ?? script.weight,
    track.reverse ?? script.weightReverse,
  );
}

/**
 * track_file: the file's value × weight (× −1 when reversed) is added. With weight 0
 * a non-zero value (reversed: zero) is FAULT; a product of −254 or less is FAULT
 * too, and more than 253 counts as 253 (keepalived's limits).
 */
export function fileEffect(name: string, value: number, weight: number, reverse: boolean): TrackerEffect {
  if (weight === 0) {
    const failing = reverse ? value === 0 : value !== 0;
    return failing
      ? { delta: 0, fault: `file ${name} reads ${value}${reverse ? ' (reverse)' : ''}` }
      : { delta: 0 };
  }
  const status = value * weight * (reverse ? -1 : 1);
  if (status <= -254) return { delta: 0, fault: `file ${name} reads ${value} (weighted ${status})` };
  return { delta: Math.min(253, status) };
}

/** track_process: up = the process quorum is met; weights as for scripts. */
export function processEffect(name: string, up: boolean, weight: number, reverse: boolean): TrackerEffect {
  return trackerEffect(`process ${name}`, up, weight, reverse);
}

export function effectivePriority(configured: number, deltas: Iterable<number>): number {
  if (configured === 255) return 255;
  let total = configured;
  for (const d of deltas) total += d;
  return Math.min(254, Math.max(1, total));
}

/** A vrrp_script's state after rise/fall damping. */
export class ScriptDamper {
  #ok: boolean;
  #consecutiveOk = 0;
  #consecutiveFail = 0;
  readonly #rise: number;
  readonly #fall: number;

  constructor(rise: number, fall: number, initFail: boolean) {
    this.#rise = rise;
    this.#fall = fall;
    this.#ok = !initFail;
  }

  get ok(): boolean {
    return this.#ok;
  }

  get consecutiveOk(): number {
    return this.#consecutiveOk;
  }

  get consecutiveFail(): number {
    return this.#consecutiveFail;
  }

  /** Records one result; returns true when the damped state changed. */
  record(success: boolean): boolean {
    if (success) {
      this.#consecutiveOk++;
      this.#consecutiveFail = 0;
      if (!this.#ok && this.#consecutiveOk >= this.#rise) {
        this.#ok = true;
        return true;
      }
    } else {
      this.#consecutiveFail++;
      this.#consecutiveOk = 0;
      if (this.#ok && this.#consecutiveFail >= this.#fall) {
        this.#ok = false;
        return true;
      }
    }
    return false;
  }
}
