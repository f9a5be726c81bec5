import { HastackError } from '../core/errors.ts';

/*
 * GTID sets (`source_uuid:1-5:7-9,other_uuid:1-3`): every transaction carries the
 * UUID of the server that first committed it and a per-server sequence number, so
 * a replica can say "send me what I do not have" instead of doing file/offset
 * arithmetic. Intervals are inclusive, kept sorted and merged.
 */

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isServerUuid(text: string): boolean {
  return UUID_RE.test(text);
}

function badSet(text: string, why: string): HastackError {
  return new HastackError('HASTACK_DB_GTID_SET', `invalid GTID set "${text}": ${why}`);
}

/** A mutable set of (uuid, sequence) pairs stored as merged inclusive intervals per UUID. */
export class GtidSet {
  /** uuid → flat [start0, end0, start1, end1, ...], sorted, non-overlapping, non-adjacent. */
  readonly #intervals = new Map<string, number[]>();
  #text: string | undefined = '';

  static parse(text: string): GtidSet {
    const set = new GtidSet();
    const trimmed = text.replace(/\s+/g, '');
    if (trimmed === '') return set;
    for (const part of trimmed.split(',')) {
      const pieces = part.split(':');
      const uuid = pieces[0]!.toLowerCase();
      if (!UUID_RE.test(uuid)) throw badSet(text, `"${pieces[0]}" is not a server UUID`);
      if (pieces.length < 2) throw badSet(text, `"${part}" has no sequence numbers`);
      for (const range of pieces.slice(1)) {
        const m = /^(\d{1,15})(?:-(\d{1,15}))?$/.exec(range);
        if (m === null) throw badSet(text, `"${range}" is not N or N-M`);
        const start = Number(m[1]);
        const end = m[2] === undefined ? start : Number(m[2]);
        if (start < 1 || end < start) throw badSet(text, `"${range}" must satisfy 1 <= N <= M`);
        set.addInterval(uuid, start, end);
      }
    }
    return set;
  }

  static of(...items: [uuid: string, seq: number][]): GtidSet {
    const set = new GtidSet();
    for (const [uuid, seq] of items) set.add(uuid, seq);
    return set;
  }

  clone(): GtidSet {
    const copy = new GtidSet();
    for (const [uuid, list] of this.#intervals) copy.#intervals.set(uuid, list.slice());
    copy.#text = this.#text;
    return copy;
  }

  isEmpty(): boolean {
    return this.#intervals.size === 0;
  }

  uuids(): string[] {
    return [...this.#intervals.keys()].sort();
  }

  /** Number of transactions in the set. */
  count(): number {
    let n = 0;
    for (const list of this.#intervals.values())
      for (let i = 0; i < list.length; i += 2) n += list[i + 1]! - list[i]! + 1;
    return n;
  }

  /** Highest sequence number of a UUID (0 when none). */
  last(uuid: string): number {
    const list = this.#intervals.get(uuid);
    return list === undefined ? 0 : list[list.length - 1]!;
  }

  has(uuid: string, seq: number): boolean {
    const list = this.#intervals.get(uuid);
    if (list === undefined) return false;
    // Fast path: the common case is one interval or a check near the end.
    for (let i = list.length - 2; i >= 0; i -= 2) {
      if (seq > list[i + 1]!) return false;
      if (seq >= list[i]!) return true;
    }
    return false;
  }

  add(uuid: string, seq: number): void {
    this.addInterval(uuid, seq, seq);
  }

  addInterval(uuid: string, start: number, end: number): void {
    let list = this.#intervals.get(uuid);
    if (list === undefined) {
      this.#intervals.set(uuid, [start, end]);
      this.#text = undefined;
      return;
    }
    const lastEnd = list[list.length - 1]!;
    // Fast path: appending the next sequence number (every commit does this).
    if (start === lastEnd + 1) {
      list[list.length - 1] = end;
      this.#text = undefined;
      return;
    }
    if (start > lastEnd + 1) {
      list.push(start, end);
      this.#text = undefined;
      return;
    }
    const merged: number[] = [];
    let placed = false;
    for (let i = 0; i < list.length; i += 2) {
      const s = list[i]!;
      const e = list[i + 1]!;
      if (e + 1 < start) merged.push(s, e);
      else if (end + 1 < s) {
        if (!placed) {
          merged.push(start, end);
          placed = true;
        }
        merged.push(s, e);
      } else {
        start = Math.min(start, s);
        end = Math.max(end, e);
      }
    }
    if (!placed) merged.push(start, end);
    list = merged;
    this.#intervals.set(uuid, list);
    this.#text = undefined;
  }

  /**
   * The canonical text of this set plus one GTID, without changing the set (the
   * commit path writes it before it knows the commit succeeded). Fast when the
   * GTID extends the UUID's last interval.
   */
  textWith(uuid: string, seq: number): string {
    const list = this.#intervals.get(uuid);
    if (list !== undefined && list[list.length - 1] === seq - 1 && this.#intervals.size === 1) {
      let text = uuid;
      for (let i = 0; i < list.length - 2; i += 2)
        text += list[i] === list[i + 1] ? `:${list[i]}` : `:${list[i]}-${list[i + 1]}`;
      return `${text}:${list[list.length - 2]}-${seq}`;
    }
    const copy = this.clone();
    copy.add(uuid, seq);
    return copy.toString();
  }

  addAll(other: GtidSet): this {
    for (const [uuid, list] of other.#intervals)
      for (let i = 0; i < list.length; i += 2) this.addInterval(uuid, list[i]!, list[i + 1]!);
    return this;
  }

  union(other: GtidSet): GtidSet {
    return this.clone().addAll(other);
  }

  /** The transactions of this set that `other` lacks. */
  subtract(other: GtidSet): GtidSet {
    const out = new GtidSet();
    for (const [uuid, list] of this.#intervals) {
      const minus = other.#intervals.get(uuid) ?? [];
      for (let i = 0; i < list.length; i += 2) {
        let s = list[i]!;
        const e = list[i + 1]!;
        for (let j = 0; j < minus.length && s <= e; j += 2) {
          const ms = minus[j]!;
          const me = minus[j + 1]!;
          if (me < s) continue;
          if (ms > e) break;
          if (ms > s) out.addInterval(uuid, s, ms - 1);
          s = me + 1;
        }
        if (s <= e) out.addInterval(uuid, s, e);
      }
    }
    return out;
  }

  isSubsetOf(other: GtidSet): boolean {
    return this.subtract(other).isEmpty();
  }

  equals(other: GtidSet): boolean {
    return this.toString() === other.toString();
  }

  /** Canonical text: UUIDs sorted, intervals merged (`uuid:1-5:7,uuid2:1`). */
  toString(): string {
    if (this.#text !== undefined) return this.#text;
    const parts: string[] = [];
    for (const uuid of this.uuids()) {
      const list = this.#intervals.get(uuid)!;
      let text = uuid;
      for (let i = 0; i < list.length; i += 2)
        text += list[i] === list[i + 1] ? `:${list[i]}` : `:${list[i]}-${list[i + 1]}`;
      parts.push(text);
    }
    this.#text = parts.join(',');
    return this.#text;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** One transaction identifier. */
export interface Gtid {
  uuid: string;
  seq: number;
}

export function formatGtid(g: Gtid): string {
  return `${g.uuid}:${g.seq}`;
}
