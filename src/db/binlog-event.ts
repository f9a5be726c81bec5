import { crc32 } from 'node:zlib';
import { HastackError } from '../core/errors.ts';
import { CHECKSUM_LENGTH, eventTypeName, HEADER_LENGTH, MAX_EVENT_LENGTH } from './event-types.ts';

/*
 * Event framing shared by binary logs, relay logs and the wire: MySQL's 19-byte
 * v4 header (timestamp, type, server_id, event_length, next_pos, flags), the
 * body, then a CRC32 of header and body.
 */

export interface EventHeader {
  /** Seconds since the epoch when the event was written on its originating server. */
  timestamp: number;
  type: number;
  /** server_id of the server where the transaction was first committed. */
  serverId: number;
  /** Whole event: header, body and checksum. */
  length: number;
  /** Position right after this event in the file it was written to on its source. */
  nextPos: number;
  flags: number;
}

export interface RawEvent {
  header: EventHeader;
  /** The body (between header and checksum); a view into `bytes`. */
  body: Buffer;
  /** The whole event as stored; a view, copy it to keep it beyond the source buffer. */
  bytes: Buffer;
}

export interface EventWriteOptions {
  type: number;
  serverId: number;
  timestamp: number;
  nextPos: number;
  flags?: number;
}

/** Encodes one event around an already encoded body. */
export function encodeEvent(o: EventWriteOptions, body: Uint8Array): Buffer {
  const length = HEADER_LENGTH + body.length + CHECKSUM_LENGTH;
  const out = Buffer.allocUnsafe(length);
  out.set(body, HEADER_LENGTH);
  sealEventAt(out, 0, length, o.type, o.serverId, o.timestamp, o.nextPos, o.flags ?? 0);
  return out;
}

/**
 * Fills in the header and CRC32 of an event whose body is already in place at
 * `at + HEADER_LENGTH` (the binary log encodes a transaction in one buffer).
 */
export function sealEventAt(
  out: Buffer,
  at: number,
  length: number,
  type: number,
  serverId: number,
  timestamp: number,
  nextPos: number,
  flags: number,
): void {
  out.writeUInt32LE(timestamp >>> 0, at);
  out[at + 4] = type;
  out.writeUInt32LE(serverId >>> 0, at + 5);
  out.writeUInt32LE(length, at + 9);
  out.writeUInt32LE(nextPos >>> 0, at + 13);
  out.writeUInt16LE(flags, at + 17);
  const end = at + length - CHECKSUM_LENGTH;
  out.writeUInt32LE(crc32(out.subarray(at, end)), end);
}

export function readHeader(buf: Buffer, at: number): EventHeader {
  return {
    timestamp: buf.readUInt32LE(at),
    type: buf.readUInt8(at + 4),
    serverId: buf.readUInt32LE(at + 5),
    length: buf.readUInt32LE(at + 9),
    nextPos: buf.readUInt32LE(at + 13),
    flags: buf.readUInt16LE(at + 17),
  };
}

/** Copy of an event with a new next_pos (and so a new checksum): re-logging on a replica. */
export function withNextPos(event: Uint8Array, nextPos: number): Buffer {
  const out = Buffer.from(event);
  out.writeUInt32LE(nextPos >>> 0, 13);
  out.writeUInt32LE(crc32(out.subarray(0, out.length - CHECKSUM_LENGTH)), out.length - CHECKSUM_LENGTH);
  return out;
}

export type DecodeResult =
  | { kind: 'event'; event: RawEvent; end: number }
  /** Not enough bytes yet for a whole event. */
  | { kind: 'incomplete'; have: number; need: number };

/**
 * Decodes the event that starts at `offset`. Throws HASTACK_DB_EVENT_INVALID for a
 * length that cannot be right and HASTACK_DB_EVENT_CHECKSUM when the CRC32 fails.
 * `where` names the file or peer for the error message.
 */
export function decodeEventAt(
  buf: Buffer,
  offset: number,
  where: string,
  verifyChecksum = true,
  /** File offset of buf[0], for error messages about a slice of a file. */
  base = 0,
): DecodeResult {
  const have = buf.length - offset;
  if (have < HEADER_LENGTH) return { kind: 'incomplete', have, need: HEADER_LENGTH };
  const length = buf.readUInt32LE(offset + 9);
  if (length < HEADER_LENGTH + CHECKSUM_LENGTH || length > MAX_EVENT_LENGTH) {
    throw new HastackError(
      'HASTACK_DB_EVENT_INVALID',
      `corrupt event in ${where} at position ${base + offset}: event length ${length} is out of range`,
      { details: { where, position: base + offset } },
    );
  }
  if (have < length) return { kind: 'incomplete', have, need: length };
  const bytes = buf.subarray(offset, offset + length);
  if (verifyChecksum) {
    const stored = bytes.readUInt32LE(length - CHECKSUM_LENGTH);
    const actual = crc32(bytes.subarray(0, length - CHECKSUM_LENGTH));
    if (stored !== actual) {
      throw new HastackError(
        'HASTACK_DB_EVENT_CHECKSUM',
        `event checksum mismatch in ${where} at position ${base + offset} (${eventTypeName(bytes[4]!)} event, stored crc32 ${hex(stored)}, computed ${hex(actual)})`,
        { details: { where, position: base + offset } },
      );
    }
  }
  const header = readHeader(bytes, 0);
  return {
    kind: 'event',
    event: { header, body: bytes.subarray(HEADER_LENGTH, length - CHECKSUM_LENGTH), bytes },
    end: offset + length,
  };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
