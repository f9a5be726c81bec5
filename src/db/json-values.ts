import { HastackError } from '../core/errors.ts';
import type { StatementRequest } from './sql-engine.ts';
import type { SqlParams, SqlValue } from './sql-value.ts';

/*
 * JSON ⇄ SQLite values for the HTTP API. Integers bind as INTEGER (JSON 1 is
 * INTEGER 1, as rqlite does), other numbers as REAL, booleans as 1/0, blobs as
 * {"$blob": base64} and integers beyond 2^53 as {"$int": "digits"}.
 */

const MAX_STATEMENTS = 10_000;

export function toSqlValue(v: unknown, where: string): SqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.$blob === 'string') return new Uint8Array(Buffer.from(o.$blob, 'base64'));
    if (typeof o.$int === 'string' && /^-?\d{1,19}$/.test(o.$int)) return BigInt(o.$int);
  }
  throw new HastackError(
    'HASTACK_DB_BAD_REQUEST',
    `${where}: unsupported parameter value ${JSON.stringify(v)?.slice(0, 60)}`,
  );
}

function toParams(raw: unknown, where: string): SqlParams | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw)) return raw.map((v, i) => toSqlValue(v, `${where} parameter ${i + 1}`));
  if (typeof raw === 'object') {
    const out: Record<string, SqlValue> = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>))
      out[k] = toSqlValue(v, `${where} parameter ${k}`);
    return out;
  }
  throw new HastackError('HASTACK_DB_BAD_REQUEST', `${where}: params must be an array or an object`);
}

/**
 * Statements from a request body: {"sql": "...", "params": [...]} or
 * {"statements": ["SQL", ["SQL", p1, p2], {"sql": "...", "params": {...}}]}.
 */
export function parseStatements(body: unknown): StatementRequest[] {
  const b = body as Record<string, unknown> | null;
  if (b === null || typeof b !== 'object')
    throw new HastackError('HASTACK_DB_BAD_REQUEST', 'body must be a JSON object with "sql" or "statements"');
  const list: unknown[] = Array.isArray(b.statements) ? b.statements : typeof b.sql === 'string' ? [b] : [];
  if (list.length === 0)
    throw new HastackError('HASTACK_DB_BAD_REQUEST', 'body needs "sql" or a non-empty "statements" array');
  if (list.length > MAX_STATEMENTS)
    throw new HastackError('HASTACK_DB_BAD_REQUEST', `at most ${MAX_STATEMENTS} statements per request`);
  return list.map((item, i) => {
    const where = `statement ${i + 1}`;
    if (typeof item === 'string') return { sql: item };
    if (Array.isArray(item) && typeof item[0] === 'string')
      return { sql: item[0], params: toParams(item.slice(1), where) };
    const o = item as Record<string, unknown> | null;
    if (o !== null && typeof o === 'object' && typeof o.sql === 'string')
      return { sql: o.sql, params: toParams(o.params, where) };
    throw new HastackError(
      'HASTACK_DB_BAD_REQUEST',
      `${where} must be "SQL", ["SQL", params...] or {"sql", "params"}`,
    );
  });
}

/** A row value as JSON. */
export function fromSqlValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $blob: Buffer.from(v).toString('base64') };
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : { $int: v.toString() };
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

export function rowsToJson(rows: unknown[][]): unknown[][] {
  for (const row of rows)
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      if (
        (v !== null && typeof v === 'object') ||
        typeof v === 'bigint' ||
        (typeof v === 'number' && !Number.isFinite(v))
      )
        row[i] = fromSqlValue(v);
    }
  return rows;
}
