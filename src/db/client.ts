import { HastackError, isHastackError } from '../core/errors.ts';
import { GtidSet } from './gtid-set.ts';
import { dbRequest, reviveValue, type ServerTarget } from './http-client.ts';
import type { DbServerSnapshot } from './status-types.ts';

/*
 * A small TypeScript client for a replicated hastack database: writes go to the
 * source, reads to a replica (round robin) unless the caller asks for the
 * source, or for "read your writes" (a replica that has applied this client's
 * last write, waiting for it if needed: WAIT_FOR_EXECUTED_GTID_SET). It finds the
 * source by asking every server its role, and finds it again after a failover.
 */

export type Statement = string | { sql: string; params?: unknown[] | Record<string, unknown> };
export type ReadConsistency = 'replica' | 'source' | 'read-your-writes';

export interface ExecuteResult {
  results: { changes?: number; last_insert_rowid?: number; columns?: string[]; rows?: unknown[][] }[];
  gtid: string | null;
  binlog: { file: string; pos: number } | null;
  semi_sync: 'acked' | 'async' | 'off' | null;
  warnings?: string[];
}

export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

export interface DbClientOptions {
  /** Every server of the topology: base URLs, or {name, url}. */
  servers: readonly (string | ServerTarget)[];
  token?: string;
  timeoutMs?: number;
  /** Default consistency of query(). */
  consistency?: ReadConsistency;
}

export class DbClient {
  readonly #servers: ServerTarget[];
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #consistency: ReadConsistency;
  #source: ServerTarget | undefined;
  #replicas: ServerTarget[] = [];
  #next = 0;
  #lastWrite = new GtidSet();

  constructor(o: DbClientOptions) {
    if (o.servers.length === 0)
      throw new HastackError('HASTACK_DB_BAD_REQUEST', 'a client needs at least one server');
    this.#servers = o.servers.map((s, i) =>
      typeof s === 'string' ? { name: `server${i + 1}`, url: s.replace(/\/+$/, '') } : s,
    );
    this.#token = o.token;
    this.#timeoutMs = o.timeoutMs ?? 10_000;
    this.#consistency = o.consistency ?? 'replica';
  }

  /** GTIDs written through this client (what read-your-writes waits for). */
  get lastWrites(): string {
    return this.#lastWrite.toString();
  }

  /** Asks every server its role; the one that says "source" takes writes. */
  async discover(): Promise<{ source: string | undefined; replicas: string[] }> {
    const found = await Promise.all(
      this.#servers.map(async (s) => {
        try {
          const st = await dbRequest<DbServerSnapshot>(s, 'GET', '/db/status', undefined, this.#opts(2_000));
          return { s, role: st.role };
        } catch {
          return { s, role: undefined };
        }
      }),
    );
    const sources = found.filter((f) => f.role === 'source');
    this.#source = sources[0]?.s;
    this.#replicas = found.filter((f) => f.role === 'replica').map((f) => f.s);
    return { source: this.#source?.name, replicas: this.#replicas.map((r) => r.name) };
  }

  /** One write transaction (several statements run atomically). */
  async execute(
    statements: Statement | readonly Statement[],
    o: { binlogFormat?: 'statement' | 'row' | 'mixed' } = {},
  ): Promise<ExecuteResult> {
    const body = {
      statements: toList(statements),
      ...(o.binlogFormat !== undefined && { binlog_format: o.binlogFormat }),
    };
    for (let attempt = 0; ; attempt++) {
      if (this.#source === undefined) await this.discover();
      const source = this.#source;
      if (source === undefined)
        throw new HastackError('HASTACK_DB_NO_SOURCE', 'no server of the cluster is a source');
      try {
        const r = await dbRequest<ExecuteResult>(source, 'POST', '/db/execute', body, this.#opts());
        if (r.gtid !== null) {
          const [uuid, seq] = splitGtid(r.gtid);
          this.#lastWrite.add(uuid, seq);
        }
        return r;
      } catch (err) {
        // Retry only where nothing can have been written: refused as read-only, or never connected.
        const retryable =
          isHastackError(err, 'HASTACK_DB_READ_ONLY') ||
          (isHastackError(err, 'HASTACK_DB_UNREACHABLE') && err.details?.transport === 'ECONNREFUSED');
        if (!retryable || attempt >= 2) throw err;
        this.#source = undefined;
      }
    }
  }

  /** Read-only statements; the result of each, in order. */
  async query(
    statements: Statement | readonly Statement[],
    o: { consistency?: ReadConsistency; timeoutMs?: number } = {},
  ): Promise<QueryResult[]> {
    const consistency = o.consistency ?? this.#consistency;
    if (this.#source === undefined && this.#replicas.length === 0) await this.discover();
    const body: Record<string, unknown> = { statements: toList(statements) };
    if (consistency === 'read-your-writes' && !this.#lastWrite.isEmpty()) {
      body.wait_for_gtids = this.#lastWrite.toString();
      body.timeout_ms = o.timeoutMs ?? 5_000;
    }
    const targets = consistency === 'source' || this.#replicas.length === 0 ? [] : this.#rotateReplicas();
    if (this.#source !== undefined) targets.push(this.#source);
    let lastError: unknown = new HastackError('HASTACK_DB_NO_SERVER', 'no reachable server');
    for (const t of targets) {
      try {
        const r = await dbRequest<{ results: QueryResult[] }>(t, 'POST', '/db/query', body, this.#opts());
        for (const res of r.results)
          for (const row of res.rows) for (let i = 0; i < row.length; i++) row[i] = reviveValue(row[i]);
        return r.results;
      } catch (err) {
        lastError = err;
        if (!isHastackError(err, 'HASTACK_DB_UNREACHABLE') && !isHastackError(err, 'HASTACK_DB_WAIT_TIMEOUT'))
          throw err;
      }
    }
    this.#source = undefined;
    throw lastError;
  }

  #rotateReplicas(): ServerTarget[] {
    const n = this.#replicas.length;
    const start = this.#next++ % n;
    return [...this.#replicas.slice(start), ...this.#replicas.slice(0, start)];
  }

  #opts(timeoutMs = this.#timeoutMs) {
    return { token: this.#token, timeoutMs };
  }
}

function toList(statements: Statement | readonly Statement[]): unknown[] {
  const list = typeof statements === 'string' || !Array.isArray(statements) ? [statements] : [...statements];
  return list.map((s) => (typeof s === 'string' ? s : { sql: s.sql, params: s.params }));
}

function splitGtid(gtid: string): [string, number] {
  const i = gtid.lastIndexOf(':');
  return [gtid.slice(0, i), Number(gtid.slice(i + 1))];
}
