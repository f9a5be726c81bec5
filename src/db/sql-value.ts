import { HastackError } from '../core/errors.ts';
import type { ByteReader, ByteWriter } from './byte-io.ts';

/*
 * Statement parameters as node:sqlite binds them. A JS number binds as REAL and a
 * bigint as INTEGER, so the codec keeps the JS type: the replica binds exactly
 * what the source bound.
 */
export type SqlValue = null | number | bigint | string | Uint8Array;
export type SqlParams = SqlValue[] | Record<string, SqlValue>;

const TAG_NULL = 0;
const TAG_INT = 1;
const TAG_REAL = 2;
const TAG_TEXT = 3;
const TAG_BLOB = 4;

const PARAMS_NONE = 0;
const PARAMS_POSITIONAL = 1;
const PARAMS_NAMED = 2;

export function writeSqlValue(w: ByteWriter, v: SqlValue): void {
  if (v === null) w.u8(TAG_NULL);
  else if (typeof v === 'bigint') w.u8(TAG_INT).i64(v);
  else if (typeof v === 'number') w.u8(TAG_REAL).f64(v);
  else if (typeof v === 'string') w.u8(TAG_TEXT).str(v);
  else if (v instanceof Uint8Array) w.u8(TAG_BLOB).lenBytes(v);
  else throw new HastackError('HASTACK_DB_BAD_PARAM', `cannot bind a ${typeof v} parameter`);
}

export function readSqlValue(r: ByteReader): SqlValue {
  const tag = r.u8();
  switch (tag) {
    case TAG_NULL:
      return null;
    case TAG_INT:
      return r.i64();
    case TAG_REAL:
      return r.f64();
    case TAG_TEXT:
      return r.str();
    case TAG_BLOB:
      return new Uint8Array(r.lenBytes());
    default:
      throw new HastackError('HASTACK_DB_EVENT_INVALID', `unknown parameter type tag ${tag}`);
  }
}

export function writeSqlParams(w: ByteWriter, params: SqlParams | undefined): void {
  if (params === undefined || (Array.isArray(params) && params.length === 0)) {
    w.u8(PARAMS_NONE);
    return;
  }
  if (Array.isArray(params)) {
    w.u8(PARAMS_POSITIONAL).u32(params.length);
    for (const v of params) writeSqlValue(w, v);
    return;
  }
  const keys = Object.keys(params);
  w.u8(PARAMS_NAMED).u32(keys.length);
  for (const k of keys) {
    w.str(k);
    writeSqlValue(w, params[k]!);
  }
}

export function readSqlParams(r: ByteReader): SqlParams | undefined {
  const kind = r.u8();
  if (kind === PARAMS_NONE) return undefined;
  const n = r.u32();
  if (n > r.remaining)
    throw new HastackError('HASTACK_DB_EVENT_INVALID', `parameter count ${n} is too large`);
  if (kind === PARAMS_POSITIONAL) {
    const out: SqlValue[] = [];
    for (let i = 0; i < n; i++) out.push(readSqlValue(r));
    return out;
  }
  if (kind === PARAMS_NAMED) {
    const out: Record<string, SqlValue> = Object.create(null);
    for (let i = 0; i < n; i++) {
      const k = r.str();
      out[k] = readSqlValue(r);
    }
    return out;
  }
  throw new HastackError('HASTACK_DB_EVENT_INVALID', `unknown parameter list kind ${kind}`);
}

/** SQL literal of a value, for `binlog dump` output. */
export function sqlLiteral(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number')
    return Number.isFinite(v) ? String(v) : v > 0 ? '1e999' : v < 0 ? '-1e999' : 'NULL';
  if (typeof v === 'string') return `'${v.replaceAll("'", "''")}'`;
  return `X'${Buffer.from(v).toString('hex').toUpperCase()}'`;
}
