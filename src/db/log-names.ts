import { HastackError } from '../core/errors.ts';

/*
 * Segment names (`binlog.000042`, `relay-bin.000007`) and comparable positions.
 * A (file, offset) pair orders by the file's sequence number, then the offset.
 */

export const BINLOG_BASENAME = 'binlog';
export const RELAY_BASENAME = 'relay-bin';

export function segmentName(base: string, seq: number): string {
  return `${base}.${String(seq).padStart(6, '0')}`;
}

export function segmentSeq(name: string): number {
  const m = /\.(\d{1,9})$/.exec(name);
  if (m === null) throw new HastackError('HASTACK_DB_LOG_NAME', `"${name}" is not a log segment name`);
  return Number(m[1]);
}

export function isSegmentName(base: string, name: string): boolean {
  return new RegExp(`^${base.replace(/[.-]/g, '\\$&')}\\.\\d{6,9}$`).test(name);
}

/** One number that orders positions across files (sequence × 2^32 + offset). */
export function positionKey(file: string, pos: number): number {
  return segmentSeq(file) * 4294967296 + pos;
}

export interface LogPosition {
  file: string;
  pos: number;
}

export function formatPosition(p: LogPosition): string {
  return `${p.file}:${p.pos}`;
}
