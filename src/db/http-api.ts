import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { formatHostPort, type HostPort, isLoopback, parseHostPort } from '../core/address.ts';
import { errorCode, errorMessage, HastackError } from '../core/errors.ts';
import type { DbServer } from './db-server.ts';
import { GtidSet } from './gtid-set.ts';
import { parseStatements, rowsToJson } from './json-values.ts';
import type { StatementResult } from './sql-engine.ts';
import type { BinlogFormat } from './statement-analysis.ts';

/*
 * The HTTP JSON API of one database server (clients and `hastack db`):
 *   POST /db/execute   {"statements": [...], "binlog_format"?}      write transaction (source only)
 *   POST /db/query     {"statements": [...], "wait_for_gtids"?, "timeout_ms"?}   reads (any server)
 *   GET  /db/status    SHOW MASTER STATUS / SHOW REPLICA STATUS as JSON
 *   POST /db/replica/start|stop {"thread"?: "io"|"sql"}, /db/replica/reset {"all"?}
 *   POST /db/replica/source {"source": "host:port", "auto_position"?}
 *   POST /db/promote, /db/binlog/rotate, /db/binlog/purge {"to"}, /db/format {"format"}
 *   POST /db/read-only {"on"}, /db/wait {"gtids", "timeout_ms"}   switchover steps
 *   GET  /db/checksum  content checksum (compare servers)
 */

const MAX_BODY = 16 * 1024 * 1024;

const STATUS_BY_CODE: Record<string, number> = {
  HASTACK_DB_READ_ONLY: 409,
  HASTACK_DB_NOT_SOURCE: 409,
  HASTACK_DB_NOT_REPLICA: 409,
  HASTACK_DB_REPLICA_RUNNING: 409,
  HASTACK_DB_NO_SOURCE: 409,
  HASTACK_DB_PROMOTE: 409,
  HASTACK_DB_WAIT_TIMEOUT: 504,
  HASTACK_DB_UNAUTHORIZED: 401,
  HASTACK_DB_NOT_FOUND: 404,
  HASTACK_DB_CLOSED: 503,
};

function httpStatus(code: string): number {
  const s = STATUS_BY_CODE[code];
  if (s !== undefined) return s;
  if (
    /^HASTACK_DB_(BAD_REQUEST|SQL|FORBIDDEN_STATEMENT|UNSAFE_STATEMENT|MULTIPLE_STATEMENTS|NOT_A_QUERY|GTID_SET|BAD_PARAM|LOG_UNKNOWN)$/.test(
      code,
    ) ||
    code === 'HASTACK_ADDRESS_INVALID'
  )
    return 400;
  return 500;
}

export class DbHttpApi {
  readonly #db: DbServer;
  readonly #listen: HostPort;
  readonly #token: string | undefined;
  readonly #logger: Logger;
  #server: Server | undefined;

  constructor(o: { db: DbServer; listen: HostPort; token: string | undefined; logger: Logger }) {
    this.#db = o.db;
    this.#listen = o.listen;
    this.#token = o.token;
    this.#logger = o.logger;
  }

  get url(): string {
    const a = this.#server?.address() as AddressInfo | null | undefined;
    const host = a?.address ?? this.#listen.host;
    return `http://${formatHostPort(host, a?.port ?? this.#listen.port)}`;
  }

  async start(): Promise<void> {
    if (!isLoopback(this.#listen.host) && this.#token === undefined)
      throw new HastackError(
        'HASTACK_DB_TOKEN_REQUIRED',
        `refusing to serve the database API of ${this.#db.name} on ${this.#listen.host} without a token`,
      );
    const server = createServer(
      { requestTimeout: 60_000, headersTimeout: 10_000, keepAliveTimeout: 30_000 },
      (req, res) => {
        this.#handle(req, res).catch((err: unknown) => this.#fail(res, err));
      },
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new HastackError(
            'HASTACK_DB_LISTEN',
            `database API of ${this.#db.name} cannot listen on ${formatHostPort(this.#listen.host, this.#listen.port)}: ${err.message}`,
            { cause: err },
          ),
        ),
      );
      server.listen(this.#listen.port, this.#listen.host, () => resolve());
    });
    server.on('error', (err) => this.#logger.error({ err }, 'database API error'));
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#token !== undefined && !bearerOk(req.headers.authorization, this.#token)) {
      res.setHeader('www-authenticate', 'Bearer');
      throw new HastackError('HASTACK_DB_UNAUTHORIZED', 'missing or wrong bearer token');
    }
    const url = new URL(req.url ?? '/', 'http://db');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const db = this.#db;
    if (method === 'GET') {
      if (path === '/healthz') return send(res, 200, { ok: true, role: db.role });
      if (path === '/db/status') return send(res, 200, db.snapshot(this.url));
      if (path === '/db/checksum') return send(res, 200, db.checksum());
      throw notFound(method, path);
    }
    if (method !== 'POST') throw notFound(method, path);
    const body = (await readJson(req)) as Record<string, unknown>;
    switch (path) {
      case '/db/execute': {
        const format = body.binlog_format;
        if (format !== undefined && format !== 'statement' && format !== 'row' && format !== 'mixed')
          throw new HastackError('HASTACK_DB_BAD_REQUEST', 'binlog_format must be statement, row or mixed');
        const r = await db.execute(parseStatements(body), format as BinlogFormat | undefined);
        return send(res, 200, {
          results: r.results.map(resultJson),
          gtid: r.commit?.gtid ?? null,
          binlog: r.commit === undefined ? null : { file: r.commit.file, pos: r.commit.end },
          semi_sync: r.semiSync ?? null,
          ...(r.warnings.length > 0 && { warnings: r.warnings }),
        });
      }
      case '/db/query': {
        const wait = body.wait_for_gtids;
        if (wait !== undefined && typeof wait !== 'string')
          throw new HastackError('HASTACK_DB_BAD_REQUEST', 'wait_for_gtids must be a GTID set string');
        const timeout = body.timeout_ms;
        if (timeout !== undefined && (typeof timeout !== 'number' || timeout < 0 || timeout > 600_000))
          throw new HastackError('HASTACK_DB_BAD_REQUEST', 'timeout_ms must be 0..600000');
        const r = await db.query(parseStatements(body), {
          ...(wait !== undefined && { waitForGtids: wait }),
          ...(timeout !== undefined && { timeoutMs: timeout }),
        });
        return send(res, 200, { results: r.results.map(resultJson), executed_gtid_set: r.executedGtidSet });
      }
      case '/db/replica/start':
        await db.replicaStart(thread(body));
        return send(res, 200, { ok: true });
      case '/db/replica/stop':
        await db.replicaStop(thread(body));
        return send(res, 200, { ok: true });
      case '/db/replica/reset':
        await db.replicaReset(body.all === true);
        return send(res, 200, { ok: true });
      case '/db/replica/source': {
        if (typeof body.source !== 'string')
          throw new HastackError('HASTACK_DB_BAD_REQUEST', 'body must be {"source": "host:port"}');
        await db.changeSource(parseHostPort(body.source), body.auto_position !== false);
        return send(res, 200, { ok: true });
      }
      case '/db/promote':
        return send(res, 200, await db.promote());
      case '/db/binlog/rotate':
        return send(res, 200, db.rotateBinlog());
      case '/db/binlog/purge':
        if (typeof body.to !== 'string')
          throw new HastackError('HASTACK_DB_BAD_REQUEST', 'body must be {"to": "binlog.000N"}');
        return send(res, 200, { purged: db.purgeBinlogs(body.to) });
      case '/db/format': {
        const f = body.format;
        if (f !== 'statement' && f !== 'row' && f !== 'mixed')
          throw new HastackError('HASTACK_DB_BAD_REQUEST', 'format must be statement, row or mixed');
        db.setFormat(f);
        return send(res, 200, { ok: true });
      }
      case '/db/read-only':
        db.setReadOnly(body.on !== false);
        return send(res, 200, { ok: true });
      case '/db/wait': {
        if (typeof body.gtids !== 'string')
          throw new HastackError('HASTACK_DB_BAD_REQUEST', 'body must be {"gtids": "..."}');
        const timeout = typeof body.timeout_ms === 'number' ? body.timeout_ms : 10_000;
        await db.waitForGtids(GtidSet.parse(body.gtids), Math.min(Math.max(timeout, 0), 600_000));
        return send(res, 200, { ok: true });
      }
      case '/db/lag/reset':
        db.resetLagWindow();
        return send(res, 200, { ok: true });
      default:
        throw notFound(method, path);
    }
  }

  #fail(res: ServerResponse, err: unknown): void {
    const code = errorCode(err);
    const status = httpStatus(code);
    if (status === 500) this.#logger.error({ err: errorMessage(err), code }, 'database request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, status, { error: { code, message: errorMessage(err) } });
  }
}

function resultJson(r: StatementResult): unknown {
  if (r.rows !== undefined) return { columns: r.columns, rows: rowsToJson(r.rows) };
  return { changes: r.changes, last_insert_rowid: r.lastInsertRowid };
}

function thread(body: Record<string, unknown>): 'io' | 'sql' | undefined {
  const t = body.thread;
  if (t === undefined || t === null) return undefined;
  if (t === 'io' || t === 'sql') return t;
  throw new HastackError('HASTACK_DB_BAD_REQUEST', 'thread must be "io" or "sql"');
}

function notFound(method: string, path: string): HastackError {
  return new HastackError('HASTACK_DB_NOT_FOUND', `no route for ${method} ${path}`);
}

function bearerOk(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (m === null) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The request body as JSON ('data' events: no async iterator per request on the hot path). */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY) {
        failed = true;
        reject(new HastackError('HASTACK_DB_BAD_REQUEST', 'request body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (failed) return;
      if (size === 0) return resolve({});
      try {
        resolve(JSON.parse((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')));
      } catch {
        reject(new HastackError('HASTACK_DB_BAD_REQUEST', 'request body is not valid JSON'));
      }
    });
  });
}
