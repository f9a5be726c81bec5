/*
 * Binary log event type codes. Where an event means what MySQL's does, it keeps
 * MySQL's code (Log_event_type); ROWS carries a SQLite changeset rather than
 * MySQL's row images, so it has a code of its own outside MySQL's range.
 */
export const EventType = {
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  GTID: 33,
  PREVIOUS_GTIDS: 35,
  ROWS: 190,
} as const;

export type EventTypeCode = (typeof EventType)[keyof typeof EventType];

const NAMES: Record<number, string> = {
  2: 'Query',
  3: 'Stop',
  4: 'Rotate',
  15: 'Format_desc',
  16: 'Xid',
  33: 'Gtid',
  35: 'Previous_gtids',
  190: 'Rows',
};

export function eventTypeName(type: number): string {
  return NAMES[type] ?? `Unknown(${type})`;
}

export function isKnownEventType(type: number): boolean {
  return NAMES[type] !== undefined;
}

/** Magic bytes at the start of every binary and relay log file (MySQL's `\xfebin`). */
export const LOG_MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
/** The first event of a file starts right after the magic. */
export const FIRST_EVENT_POS = 4;
/** timestamp u32, type u8, server_id u32, event_length u32, next_pos u32, flags u16. */
export const HEADER_LENGTH = 19;
export const CHECKSUM_LENGTH = 4;
/** Largest event accepted from a file or the network (MySQL's max_allowed_packet default is 64 MiB). */
export const MAX_EVENT_LENGTH = 64 * 1024 * 1024;
/** Binlog format version written in the format description event (MySQL's v4). */
export const BINLOG_VERSION = 4;
/** Checksum algorithm id in the format description event: 1 = CRC32, as in MySQL. */
export const CHECKSUM_ALG_CRC32 = 1;
