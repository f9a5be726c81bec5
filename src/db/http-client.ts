import { errorMessage, HastackError } from '../core/errors.ts';

/* One JSON request to a database server's HTTP API; server errors come back with their codes. */

export interface ServerTarget {
  name: string;
  /** Base URL, e.g. http://127.0.0.1:8306 */
  url: string;
}

export async function dbRequest<T>(
  target: ServerTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  o: { token?: string | undefined; timeoutMs?: number } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body, jsonReplacer) }),
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    const code = cause?.code ?? (err as { name?: string }).name ?? 'ERROR';
    throw new HastackError(
      'HASTACK_DB_UNREACHABLE',
      `cannot reach ${target.name} at ${target.url} (${code})`,
      {
        cause: err,
        details: { server: target.name, transport: code },
      },
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HastackError('HASTACK_DB_BAD_RESPONSE', `${target.name} answered ${res.status} with non-JSON`);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } }).error;
    throw new HastackError(
      e?.code ?? 'HASTACK_DB_ERROR',
      `${target.name}: ${e?.message ?? `HTTP ${res.status}`}`,
      {
        details: { server: target.name, status: res.status },
      },
    );
  }
  return json as T;
}

/** JSON for parameters: bigint → {"$int"} (beyond 2^53) or number, bytes → {"$blob"}. */
export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : { $int: v.toString() };
  if (v instanceof Uint8Array) return { $blob: Buffer.from(v).toString('base64') };
  if (
    v !== null &&
    typeof v === 'object' &&
    (v as { type?: string }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  )
    return { $blob: Buffer.from((v as { data: number[] }).data).toString('base64') };
  return v;
}

/** Row values from JSON: {"$blob"} → Uint8Array, {"$int"} → bigint. */
export function reviveValue(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.$blob === 'string') return new Uint8Array(Buffer.from(o.$blob, 'base64'));
    if (typeof o.$int === 'string') return BigInt(o.$int);
  }
  return v;
}

export function describeError(err: unknown): string {
  return errorMessage(err);
}
