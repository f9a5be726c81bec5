import { HastackError } from '../core/errors.ts';
import { decodeEventAt, encodeEvent, type RawEvent, withNextPos } from './binlog-event.ts';
import { ByteReader, ByteWriter } from './byte-io.ts';
import {
  BINLOG_VERSION,
  CHECKSUM_ALG_CRC32,
  EventType,
  eventTypeName,
  FIRST_EVENT_POS,
  HEADER_LENGTH,
} from './event-types.ts';
import { isServerUuid } from './gtid-set.ts';
import { readSqlParams, type SqlParams, writeSqlParams } from './sql-value.ts';

/*
 * The bodies of the events hastack writes. Layouts (all little-endian):
 *   Format_desc     u16 binlog version, 50-byte server version, u32 created, u8 header length,
 *                   u8 checksum algorithm, 16-byte server UUID
 *   Previous_gtids  u32 length + GTID set text
 *   Gtid            16-byte UUID, u64 sequence, u64 original commit time (µs since the epoch)
 *   Query           u8 flags, u32 length + SQL, parameter list (see sql-value.ts)
 *   Rows            u8 flags, u32 length + SQLite changeset
 *   Xid             u64 transaction id
 *   Rotate          u64 position, next file name (rest of the body)
 *   Stop            empty
 */

export interface FormatDescriptionEvent {
  type: typeof EventType.FORMAT_DESCRIPTION;
  binlogVersion: number;
  serverVersion: string;
  createdAt: number;
  serverUuid: string;
}
export interface PreviousGtidsEvent {
  type: typeof EventType.PREVIOUS_GTIDS;
  gtids: string;
}
export interface GtidEvent {
  type: typeof EventType.GTID;
  uuid: string;
  seq: number;
  originalCommitUs: number;
}
export interface QueryEvent {
  type: typeof EventType.QUERY;
  flags: number;
  sql: string;
  params: SqlParams | undefined;
}
export interface RowsEvent {
  type: typeof EventType.ROWS;
  flags: number;
  changeset: Uint8Array;
}
export interface XidEvent {
  type: typeof EventType.XID;
  xid: number;
}
export interface RotateEvent {
  type: typeof EventType.ROTATE;
  pos: number;
  file: string;
}
export interface StopEvent {
  type: typeof EventType.STOP;
}

export type BinlogEvent =
  | FormatDescriptionEvent
  | PreviousGtidsEvent
  | GtidEvent
  | QueryEvent
  | RowsEvent
  | XidEvent
  | RotateEvent
  | StopEvent;

/** Query flag: the statement is DDL (changes the schema). */
export const QUERY_FLAG_DDL = 1;

export function uuidToBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

// Every Gtid event of a server carries the same UUID: encode it once.
let cachedUuid = '';
let cachedUuidBytes: Buffer = Buffer.alloc(16);

function uuidBytesCached(uuid: string): Buffer {
  if (uuid !== cachedUuid) {
    cachedUuidBytes = uuidToBytes(uuid);
    cachedUuid = uuid;
  }
  return cachedUuidBytes;
}

export function uuidFromBytes(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function encodeBody(ev: BinlogEvent): Buffer {
  return writeBody(new ByteWriter(64), ev).toBuffer();
}

/** Appends the body of `ev` to `w`. */
export function writeBody(w: ByteWriter, ev: BinlogEvent): ByteWriter {
  switch (ev.type) {
    case EventType.FORMAT_DESCRIPTION:
      w.u16(ev.binlogVersion)
        .fixedStr(ev.serverVersion, 50)
        .u32(ev.createdAt)
        .u8(HEADER_LENGTH)
        .u8(CHECKSUM_ALG_CRC32)
        .bytes(uuidToBytes(ev.serverUuid));
      break;
    case EventType.PREVIOUS_GTIDS:
      w.str(ev.gtids);
      break;
    case EventType.GTID:
      w.bytes(uuidBytesCached(ev.uuid)).u64(ev.seq).u64(ev.originalCommitUs);
      break;
    case EventType.QUERY:
      w.u8(ev.flags).str(ev.sql);
      writeSqlParams(w, ev.params);
      break;
    case EventType.ROWS:
      w.u8(ev.flags).lenBytes(ev.changeset);
      break;
    case EventType.XID:
      w.u64(ev.xid);
      break;
    case EventType.ROTATE:
      w.u64(ev.pos).bytes(Buffer.from(ev.file, 'utf8'));
      break;
    case EventType.STOP:
      break;
  }
  return w;
}

export function decodeBody(raw: RawEvent, where: string): BinlogEvent {
  const type = raw.header.type;
  const r = new ByteReader(raw.body, `${eventTypeName(type)} event in ${where}`);
  let ev: BinlogEvent;
  switch (type) {
    case EventType.FORMAT_DESCRIPTION: {
      const binlogVersion = r.u16();
      const serverVersion = r.fixedStr(50);
      const createdAt = r.u32();
      const headerLength = r.u8();
      const checksum = r.u8();
      const serverUuid = uuidFromBytes(r.bytes(16));
      if (
        binlogVersion !== BINLOG_VERSION ||
        headerLength !== HEADER_LENGTH ||
        checksum !== CHECKSUM_ALG_CRC32
      )
        throw new HastackError(
          'HASTACK_DB_EVENT_INVALID',
          `${where}: unsupported log format (version ${binlogVersion}, header ${headerLength}, checksum ${checksum})`,
        );
      ev = { type, binlogVersion, serverVersion, createdAt, serverUuid };
      break;
    }
    case EventType.PREVIOUS_GTIDS:
      ev = { type, gtids: r.str() };
      break;
    case EventType.GTID: {
      const uuid = uuidFromBytes(r.bytes(16));
      const seq = r.u64();
      const originalCommitUs = r.u64();
      if (!isServerUuid(uuid) || seq < 1)
        throw new HastackError('HASTACK_DB_EVENT_INVALID', `${where}: invalid GTID ${uuid}:${seq}`);
      ev = { type, uuid, seq, originalCommitUs };
      break;
    }
    case EventType.QUERY: {
      const flags = r.u8();
      const sql = r.str();
      ev = { type, flags, sql, params: readSqlParams(r) };
      break;
    }
    case EventType.ROWS:
      ev = { type, flags: r.u8(), changeset: r.lenBytes() };
      break;
    case EventType.XID:
      ev = { type, xid: r.u64() };
      break;
    case EventType.ROTATE:
      ev = { type, pos: r.u64(), file: r.rest().toString('utf8') };
      break;
    case EventType.STOP:
      ev = { type };
      break;
    default:
      throw new HastackError('HASTACK_DB_EVENT_INVALID', `${where}: unknown event type ${type}`);
  }
  r.end();
  return ev;
}

/** Encodes a whole event (header, body, checksum). */
export function buildEvent(
  ev: BinlogEvent,
  o: { serverId: number; timestamp: number; nextPos: number; flags?: number },
): Buffer {
  return encodeEvent({ ...o, type: ev.type }, encodeBody(ev));
}

/**
 * The Format_description event that opens every binary and relay log segment,
 * right after the magic bytes: its next_pos is where the following event starts.
 */
export function segmentFormatDescription(
  o: { serverVersion: string; serverUuid: string; serverId: number },
  now: number,
): Buffer {
  const fde = buildEvent(
    {
      type: EventType.FORMAT_DESCRIPTION,
      binlogVersion: BINLOG_VERSION,
      serverVersion: o.serverVersion,
      createdAt: now,
      serverUuid: o.serverUuid,
    },
    { serverId: o.serverId, timestamp: now, nextPos: 0 },
  );
  return withNextPos(fde, FIRST_EVENT_POS + fde.length);
}

/** Decodes every event of a buffer that holds only whole events (tests, small files). */
export function decodeAll(buf: Buffer, where: string, start = 0): { raw: RawEvent; event: BinlogEvent }[] {
  const out: { raw: RawEvent; event: BinlogEvent }[] = [];
  let at = start;
  while (at < buf.length) {
    const r = decodeEventAt(buf, at, where);
    if (r.kind === 'incomplete')
      throw new HastackError('HASTACK_DB_LOG_TRUNCATED', `${where} ends inside an event at position ${at}`);
    out.push({ raw: r.event, event: decodeBody(r.event, where) });
    at = r.end;
  }
  return out;
}
