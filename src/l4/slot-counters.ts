import { HastackError } from '../core/errors.ts';

/** Slot 0 holds the totals of the whole virtual service; real and sorry servers use 1.. */
export const SERVICE_SLOT = 0;

const ACTIVE = 0;
const INACTIVE = 1;
const OVERLOADED = 2;
const FIELDS = 4; // one spare keeps a slot 16 bytes wide

/**
 * IPVS's per-destination connection counters (activeconns, inactconns and the
 * overload flag), one slot per real server. The buffer may be a SharedArrayBuffer
 * so that worker threads update the same numbers and least-connection schedulers
 * in every thread see global counts. All access goes through Atomics.
 */
export class SlotCounters {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly capacity: number;
  readonly #view: Int32Array;

  constructor(capacity: number, buffer?: ArrayBuffer | SharedArrayBuffer) {
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new HastackError(
        'HASTACK_L4_INVALID_CAPACITY',
        `slot capacity must be an integer ≥ 2, got ${capacity}`,
      );
    }
    const bytes = capacity * FIELDS * Int32Array.BYTES_PER_ELEMENT;
    this.buffer = buffer ?? new ArrayBuffer(bytes);
    if (this.buffer.byteLength < bytes) {
      throw new HastackError('HASTACK_L4_INVALID_CAPACITY', 'counter buffer is smaller than its capacity');
    }
    this.capacity = capacity;
    this.#view = new Int32Array(this.buffer, 0, capacity * FIELDS);
  }

  /** A counter block whose memory can be handed to worker threads. */
  static shared(capacity: number): SlotCounters {
    return new SlotCounters(
      capacity,
      new SharedArrayBuffer(capacity * FIELDS * Int32Array.BYTES_PER_ELEMENT),
    );
  }

  active(slot: number): number {
    return Atomics.load(this.#view, slot * FIELDS + ACTIVE);
  }

  inactive(slot: number): number {
    return Atomics.load(this.#view, slot * FIELDS + INACTIVE);
  }

  setActive(slot: number, value: number): void {
    Atomics.store(this.#view, slot * FIELDS + ACTIVE, value);
  }

  setInactive(slot: number, value: number): void {
    Atomics.store(this.#view, slot * FIELDS + INACTIVE, value);
  }

  /** Adds to a server's counters and to the service totals in one step. */
  add(slot: number, activeDelta: number, inactiveDelta: number): void {
    const base = slot * FIELDS;
    if (activeDelta !== 0) {
      Atomics.add(this.#view, base + ACTIVE, activeDelta);
      Atomics.add(this.#view, SERVICE_SLOT * FIELDS + ACTIVE, activeDelta);
    }
    if (inactiveDelta !== 0) {
      Atomics.add(this.#view, base + INACTIVE, inactiveDelta);
      Atomics.add(this.#view, SERVICE_SLOT * FIELDS + INACTIVE, inactiveDelta);
    }
  }

  overloaded(slot: number): boolean {
    return Atomics.load(this.#view, slot * FIELDS + OVERLOADED) !== 0;
  }

  setOverloaded(slot: number, value: boolean): void {
    Atomics.store(this.#view, slot * FIELDS + OVERLOADED, value ? 1 : 0);
  }

  /** Zeroes a slot before it is given to another server. */
  reset(slot: number): void {
    const base = slot * FIELDS;
    for (let i = 0; i < FIELDS; i++) Atomics.store(this.#view, base + i, 0);
  }
}
