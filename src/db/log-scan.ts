import { HastackError } from '../core/errors.ts';
import { decodeEventAt, type RawEvent } from './binlog-event.ts';
import { type BinlogEvent, decodeBody, type GtidEvent } from './event-bodies.ts';
import { EventType, eventTypeName, FIRST_EVENT_POS, LOG_MAGIC } from './event-types.ts';

/*
 * Walks the events of a log segment (or a slice of one) held in memory and
 * groups them into transactions (Gtid ... Xid). Used by recovery, `binlog dump`,
 * the dump thread and the SQL thread. Pure over buffers.
 */

export interface ScannedEvent {
  raw: RawEvent;
  event: BinlogEvent;
  /** File offset of the event. */
  pos: number;
  end: number;
}

export interface TransactionGroup {
  gtid: GtidEvent;
  events: ScannedEvent[];
  start: number;
  end: number;
}

export function checkMagic(buf: Buffer, where: string): void {
  if (buf.length < FIRST_EVENT_POS || !buf.subarray(0, FIRST_EVENT_POS).equals(LOG_MAGIC))
    throw new HastackError(
      'HASTACK_DB_LOG_MAGIC',
      `${where} is not a hastack binary or relay log (bad magic bytes)`,
    );
}

export interface ScanResult {
  events: ScannedEvent[];
  groups: TransactionGroup[];
  /** File offset after the last whole event. */
  eventsEnd: number;
  /** File offset after the last complete transaction or standalone event: where a torn tail starts. */
  safeEnd: number;
  /** Why scanning stopped early: a torn (HASTACK_DB_LOG_TRUNCATED) or corrupt tail. */
  tail: HastackError | undefined;
  /** For a torn tail: bytes needed from `safeEnd` to finish the event or transaction (at least). */
  incompleteNeed: number;
  /** Scanning stopped at zeros: space preallocated for the segment, not data. */
  zeroTail: boolean;
}

/** Segments are preallocated; data ends where an all-zero event header (and what follows) begins. */
function zerosFrom(buf: Buffer, at: number): boolean {
  const end = Math.min(buf.length, at + 4096);
  for (let i = at; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Scans `buf` from `start`; `buf[0]` is at file offset `base`, and every position
 * reported is a file offset. Stops at the first incomplete or corrupt event and
 * reports it in `tail` instead of throwing, so callers can truncate or wait.
 */
export function scanSegment(buf: Buffer, where: string, start = FIRST_EVENT_POS, base = 0): ScanResult {
  const events: ScannedEvent[] = [];
  const groups: TransactionGroup[] = [];
  let at = start;
  let safeEnd = start;
  let open: TransactionGroup | undefined;
  let tail: HastackError | undefined;
  let incompleteNeed = 0;
  let zeroTail = false;
  while (at < buf.length) {
    if (buf[at] === 0 && zerosFrom(buf, at)) {
      zeroTail = true;
      break;
    }
    let scanned: ScannedEvent;
    try {
      const r = decodeEventAt(buf, at, where, true, base);
      if (r.kind === 'incomplete') {
        incompleteNeed = at - safeEnd + r.need;
        tail = new HastackError(
          'HASTACK_DB_LOG_TRUNCATED',
          `${where} ends inside an event at position ${base + at} (${r.have} of ${r.need} bytes)`,
          { details: { where, position: base + at } },
        );
        break;
      }
      const pos = base + at;
      scanned = {
        raw: r.event,
        event: decodeBody(r.event, `${where} at position ${pos}`),
        pos,
        end: base + r.end,
      };
      at = r.end;
    } catch (err) {
      tail = err as HastackError;
      break;
    }
    events.push(scanned);
    const type = scanned.event.type;
    if (type === EventType.GTID) {
      if (open !== undefined) {
        tail = new HastackError(
          'HASTACK_DB_LOG_CORRUPT',
          `${where}: transaction ${open.gtid.uuid}:${open.gtid.seq} at ${open.start} has no commit before the next one at ${scanned.pos}`,
        );
        break;
      }
      open = { gtid: scanned.event, events: [scanned], start: scanned.pos, end: 0 };
    } else if (open !== undefined) {
      open.events.push(scanned);
      if (type === EventType.XID) {
        open.end = scanned.end;
        groups.push(open);
        open = undefined;
        safeEnd = at;
      } else if (type !== EventType.QUERY && type !== EventType.ROWS) {
        tail = new HastackError(
          'HASTACK_DB_LOG_CORRUPT',
          `${where}: unexpected ${eventTypeName(type)} event inside a transaction at position ${scanned.pos}`,
        );
        break;
      }
    } else if (type === EventType.QUERY || type === EventType.ROWS || type === EventType.XID) {
      tail = new HastackError(
        'HASTACK_DB_LOG_CORRUPT',
        `${where}: ${eventTypeName(type)} event at position ${scanned.pos} is outside a transaction`,
      );
      break;
    } else {
      safeEnd = at;
    }
  }
  if (tail === undefined && open !== undefined) {
    incompleteNeed = at - safeEnd + 1;
    tail = new HastackError(
      'HASTACK_DB_LOG_TRUNCATED',
      `${where} ends inside transaction ${open.gtid.uuid}:${open.gtid.seq} (started at position ${open.start})`,
      { details: { where, position: open.start } },
    );
  }
  // Events of an unfinished transaction are not part of the result's usable prefix.
  const usable = events.filter((e) => e.end <= base + safeEnd);
  return {
    events: usable,
    groups,
    eventsEnd: base + at,
    safeEnd: base + safeEnd,
    tail,
    incompleteNeed,
    zeroTail,
  };
}
