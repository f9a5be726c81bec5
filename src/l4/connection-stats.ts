import { HastackError } from '../core/errors.ts';
import { SERVICE_SLOT } from './slot-counters.ts';

/**
 * Cumulative counters as `ipvsadm -L --stats` shows them. A userspace proxy does
 * not see packets: InPkts/OutPkts count socket reads (TCP chunks, UDP datagrams)
 * per direction. "In" is client → real server, "Out" is real server → client.
 */
export interface TrafficStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

const CONNS = 0;
const IN_PKTS = 1;
const OUT_PKTS = 2;
const IN_BYTES = 3;
const OUT_BYTES = 4;
const CONNECT_FAILURES = 5;
const NO_DESTINATION = 6;
const PAUSES = 7;
/** This thread's share of the shared active/inactive counters (to release them if the thread dies). */
const OWN_ACTIVE = 8;
const OWN_INACTIVE = 9;
/** Fields per slot. */
export const STAT_FIELDS = 10;

/**
 * The counters written by one thread: one slot per real server plus the service
 * slot 0. Exactly one thread writes a block, so plain stores suffice; the main
 * thread reads the blocks of every worker and adds them up.
 */
export class StatsBlock {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly capacity: number;
  readonly #v: Float64Array;

  constructor(capacity: number, buffer?: ArrayBuffer | SharedArrayBuffer) {
    const bytes = capacity * STAT_FIELDS * Float64Array.BYTES_PER_ELEMENT;
    this.buffer = buffer ?? new ArrayBuffer(bytes);
    if (this.buffer.byteLength < bytes) {
      throw new HastackError('HASTACK_L4_INVALID_CAPACITY', 'stats buffer is smaller than its capacity');
    }
    this.capacity = capacity;
    this.#v = new Float64Array(this.buffer, 0, capacity * STAT_FIELDS);
  }

  static shared(capacity: number): StatsBlock {
    return new StatsBlock(
      capacity,
      new SharedArrayBuffer(capacity * STAT_FIELDS * Float64Array.BYTES_PER_ELEMENT),
    );
  }

  /** A new connection scheduled to `slot`; `newForService` is false for a retry of the same client connection. */
  countConnection(slot: number, newForService: boolean): void {
    this.#v[slot * STAT_FIELDS + CONNS]++;
    if (newForService) this.#v[SERVICE_SLOT * STAT_FIELDS + CONNS]++;
  }

  countIn(slot: number, bytes: number): void {
    const v = this.#v;
    const b = slot * STAT_FIELDS;
    v[b + IN_PKTS]++;
    v[b + IN_BYTES] += bytes;
    v[IN_PKTS]++;
    v[IN_BYTES] += bytes;
  }

  countOut(slot: number, bytes: number): void {
    const v = this.#v;
    const b = slot * STAT_FIELDS;
    v[b + OUT_PKTS]++;
    v[b + OUT_BYTES] += bytes;
    v[OUT_PKTS]++;
    v[OUT_BYTES] += bytes;
  }

  /** A connect to a real server failed (refused, timed out): not an IPVS counter. */
  countConnectFailure(slot: number): void {
    this.#v[slot * STAT_FIELDS + CONNECT_FAILURES]++;
    if (slot !== SERVICE_SLOT) this.#v[CONNECT_FAILURES]++;
  }

  /** A client arrived and no server at all could take it. */
  countNoDestination(): void {
    this.#v[NO_DESTINATION]++;
  }

  /** The proxy paused a reader because the other side's buffer was full (backpressure). */
  countPause(): void {
    this.#v[PAUSES]++;
  }

  /** Mirrors a change this thread made to the shared connection counters. */
  trackOwn(slot: number, activeDelta: number, inactiveDelta: number): void {
    const b = slot * STAT_FIELDS;
    this.#v[b + OWN_ACTIVE] += activeDelta;
    this.#v[b + OWN_INACTIVE] += inactiveDelta;
  }

  ownActive(slot: number): number {
    return this.#v[slot * STAT_FIELDS + OWN_ACTIVE];
  }

  ownInactive(slot: number): number {
    return this.#v[slot * STAT_FIELDS + OWN_INACTIVE];
  }

  /** Connections this block's thread scheduled to `slot` (SERVICE_SLOT: client connections). */
  connections(slot: number): number {
    return this.#v[slot * STAT_FIELDS + CONNS];
  }

  /** Adds this block's slot into `into` (STAT_FIELDS numbers). */
  addTo(slot: number, into: Float64Array): void {
    const b = slot * STAT_FIELDS;
    for (let i = 0; i < STAT_FIELDS; i++) into[i] += this.#v[b + i];
  }

  /** Adds every slot of this block into `other` (used to keep the totals of retired workers). */
  addAllTo(other: StatsBlock): void {
    const from = this.#v;
    const to = other.#v;
    const n = Math.min(from.length, to.length);
    for (let i = 0; i < n; i++) to[i] += from[i];
  }
}

/** Everything known about one slot, summed over all writer blocks. */
export interface SlotTotals extends TrafficStats {
  connectFailures: number;
  noDestination: number;
  pauses: number;
}

/** Sums the blocks of all threads, minus the baseline recorded when a slot was reused. */
export class StatsReader {
  readonly #blocks: StatsBlock[] = [];
  readonly #baseline: Float64Array;
  readonly #scratch = new Float64Array(STAT_FIELDS);

  constructor(capacity: number) {
    this.#baseline = new Float64Array(capacity * STAT_FIELDS);
  }

  addBlock(block: StatsBlock): void {
    this.#blocks.push(block);
  }

  removeBlock(block: StatsBlock): void {
    const i = this.#blocks.indexOf(block);
    if (i >= 0) this.#blocks.splice(i, 1);
  }

  /** Remembers the slot's current totals so that a server reusing the slot starts from zero. */
  rebase(slot: number): void {
    const sum = this.#sum(slot);
    this.#baseline.set(sum, slot * STAT_FIELDS);
  }

  read(slot: number): SlotTotals {
    const s = this.#sum(slot);
    const b = slot * STAT_FIELDS;
    const base = this.#baseline;
    return {
      conns: s[CONNS] - base[b + CONNS],
      inPkts: s[IN_PKTS] - base[b + IN_PKTS],
      outPkts: s[OUT_PKTS] - base[b + OUT_PKTS],
      inBytes: s[IN_BYTES] - base[b + IN_BYTES],
      outBytes: s[OUT_BYTES] - base[b + OUT_BYTES],
      connectFailures: s[CONNECT_FAILURES] - base[b + CONNECT_FAILURES],
      noDestination: s[NO_DESTINATION] - base[b + NO_DESTINATION],
      pauses: s[PAUSES] - base[b + PAUSES],
    };
  }

  #sum(slot: number): Float64Array {
    const s = this.#scratch;
    s.fill(0);
    for (const block of this.#blocks) block.addTo(slot, s);
    return s;
  }
}

export function emptyStats(): TrafficStats {
  return { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
}

/** Just the ipvsadm columns of a slot's totals. */
export function trafficOf(t: TrafficStats): TrafficStats {
  return { conns: t.conns, inPkts: t.inPkts, outPkts: t.outPkts, inBytes: t.inBytes, outBytes: t.outBytes };
}
