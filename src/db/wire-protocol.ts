import { HastackError } from '../core/errors.ts';
import { MAX_EVENT_LENGTH } from './event-types.ts';

/*
 * The replication protocol between a source and its replicas, over TCP:
 *   frame = u32 LE length (of type + payload) | u8 type | payload
 * A replica opens with HELLO (JSON: its server_id, UUID, position or GTID set);
 * the source answers WELCOME (JSON) or ERROR (JSON {code, message}) and closes.
 * Then the source streams EVENTS (u8 flags + whole binlog events, verbatim) and
 * HEARTBEAT (u64 position + file name) when idle; a semi-sync replica answers
 * ACK (u64 position + file name) once the events up to there are fsynced in its
 * relay log.
 */

export const PROTOCOL_VERSION = 1;

export const Msg = {
  HELLO: 1,
  WELCOME: 2,
  ERROR: 3,
  EVENTS: 4,
  HEARTBEAT: 5,
  ACK: 6,
} as const;

/** EVENTS flag: the source waits for an ACK of this batch (semi-sync). */
export const EVENTS_FLAG_ACK = 1;

const MAX_FRAME = MAX_EVENT_LENGTH + 64 * 1024;
const MAX_JSON_FRAME = 4 * 1024 * 1024;

export interface HelloMessage {
  protocol: number;
  serverId: number;
  serverUuid: string;
  name: string;
  /** The source UUID this replica expects (null: any, e.g. right after CHANGE SOURCE). */
  expectedSourceUuid: string | null;
  autoPosition: boolean;
  /** Executed ∪ retrieved GTIDs of the replica (auto-positioning). */
  gtidSet: string;
  /** Position mode: source binlog file and offset to read from. */
  file: string | null;
  pos: number;
  semiSync: boolean;
}

export interface WelcomeMessage {
  protocol: number;
  serverId: number;
  serverUuid: string;
  name: string;
  /** The source waits for ACKs from this replica. */
  semiSync: boolean;
}

export interface ErrorMessage {
  code: string;
  message: string;
}

export interface Frame {
  type: number;
  payload: Buffer;
}

export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out.writeUInt32LE(payload.length + 1, 0);
  out[4] = type;
  out.set(payload, 5);
  return out;
}

export function encodeJsonFrame(type: number, body: unknown): Buffer {
  return encodeFrame(type, Buffer.from(JSON.stringify(body), 'utf8'));
}

/** Header of an EVENTS frame; the events follow (written separately to avoid a copy). */
export function eventsFrameHeader(eventBytes: number, flags: number): Buffer {
  const out = Buffer.allocUnsafe(6);
  out.writeUInt32LE(eventBytes + 2, 0);
  out[4] = Msg.EVENTS;
  out[5] = flags;
  return out;
}

/** ACK and HEARTBEAT payloads: u64 position + file name. */
export function encodePosition(type: number, file: string, pos: number): Buffer {
  const name = Buffer.from(file, 'utf8');
  const payload = Buffer.allocUnsafe(8 + name.length);
  payload.writeBigUInt64LE(BigInt(pos), 0);
  name.copy(payload, 8);
  return encodeFrame(type, payload);
}

export function decodePosition(payload: Buffer): { file: string; pos: number } {
  if (payload.length < 9 || payload.length > 8 + 255)
    throw protocolError('position message has a bad length');
  return { pos: Number(payload.readBigUInt64LE(0)), file: payload.subarray(8).toString('utf8') };
}

export function decodeJson(frame: Frame): unknown {
  if (frame.payload.length > MAX_JSON_FRAME) throw protocolError('control message too large');
  try {
    return JSON.parse(frame.payload.toString('utf8'));
  } catch {
    throw protocolError('control message is not valid JSON');
  }
}

export function protocolError(message: string): HastackError {
  return new HastackError('HASTACK_DB_PROTOCOL', `replication protocol error: ${message}`);
}

/** Splits a byte stream into frames; rejects absurd lengths before buffering them. */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  get buffered(): number {
    return this.#buffered;
  }

  /** The next whole frame, or undefined until more bytes arrive. */
  next(): Frame | undefined {
    if (this.#buffered < 5) return undefined;
    if (this.#chunks[0]!.length < 5) this.#merge();
    const head = this.#chunks[0]!;
    const len = head.readUInt32LE(0);
    if (len < 1 || len > MAX_FRAME) throw protocolError(`frame length ${len} is out of range`);
    if (this.#buffered < 4 + len) return undefined;
    if (head.length < 4 + len) this.#merge();
    const buf = this.#chunks[0]!;
    const frame = { type: buf[4]!, payload: buf.subarray(5, 4 + len) };
    if (buf.length === 4 + len) this.#chunks.shift();
    else this.#chunks[0] = buf.subarray(4 + len);
    this.#buffered -= 4 + len;
    return frame;
  }

  #merge(): void {
    this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
  }
}
