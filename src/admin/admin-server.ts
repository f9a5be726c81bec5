import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AdminConfig } from '../config/model.ts';
import { formatHostPort, isLoopback } from '../core/address.ts';
import { errorCode, HastackError } from '../core/errors.ts';
import type { AdminController } from './admin-controller.ts';
import { checkBearer } from './bearer-auth.ts';

const MAX_BODY_BYTES = 64 * 1024;

/** Error codes that mean "you asked for something that does not exist". */
const NOT_FOUND_CODES = new Set(['HASTACK_VS_UNKNOWN', 'HASTACK_RS_UNKNOWN']);

/**
 * The admin HTTP API (default 127.0.0.1:9090):
 *   GET  /status                 JSON of everything running
 *   GET  /metrics                Prometheus text format
 *   GET  /healthz                liveness
 *   POST /reload                 same as SIGHUP
 *   POST /virtual-servers/:vs/real-servers/:rs/weight   {"weight": N}
 *   POST /virtual-servers/:vs/real-servers/:rs/drain
 * Off loopback it requires `Authorization: Bearer <token>` and refuses to start without a token.
 */
export class AdminServer {
  #config: AdminConfig;
  readonly #controller: AdminController;
  readonly #logger: Logger;
  #server: Server | undefined;

  constructor(config: AdminConfig, controller: AdminController, logger: Logger) {
    this.#config = config;
    this.#controller = controller;
    this.#logger = logger;
  }

  get url(): string | undefined {
    const addr = this.#server?.address() as AddressInfo | null | undefined;
    if (addr == null) return undefined;
    return `http://${formatHostPort(addr.address, addr.port)}`;
  }

  async start(): Promise<void> {
    if (!isLoopback(this.#config.host) && this.#config.token === undefined) {
      throw new HastackError(
        'HASTACK_ADMIN_TOKEN_REQUIRED',
        `refusing to serve the admin API on ${this.#config.host} without admin.token`,
      );
    }
    const server = createServer(
      { requestTimeout: 10_000, headersTimeout: 5_000, maxHeaderSize: 16 * 1024 },
      (req, res) => {
        this.#handle(req, res).catch((err: unknown) => this.#fail(res, err));
      },
    );
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(
          new HastackError(
            'HASTACK_ADMIN_LISTEN',
            `admin API cannot listen on ${formatHostPort(this.#config.host, this.#config.port)}: ${err.message}`,
            {
              cause: err,
            },
          ),
        );
      };
      server.once('error', onError);
      server.listen(this.#config.port, this.#config.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.#logger.error({ err }, 'admin server error'));
    this.#server = server;
    this.#logger.info({ url: this.url }, 'admin API listening');
  }

  /** Applies a reloaded admin section: a new token takes effect at once, a new address rebinds. */
  async update(config: AdminConfig): Promise<void> {
    const moved = config.host !== this.#config.host || config.port !== this.#config.port;
    if (!isLoopback(config.host) && config.token === undefined) {
      throw new HastackError(
        'HASTACK_ADMIN_TOKEN_REQUIRED',
        `refusing to serve the admin API on ${config.host} without admin.token`,
      );
    }
    if (!moved) {
      this.#config = config;
      return;
    }
    const old = this.#server;
    this.#config = config;
    await this.start();
    await closeServer(old);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await closeServer(server);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = this.#config.token;
    if (token !== undefined && !checkBearer(req.headers.authorization, token)) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendJson(res, 401, {
        error: { code: 'HASTACK_ADMIN_UNAUTHORIZED', message: 'missing or wrong bearer token' },
      });
    }
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (path === '/status' && (method === 'GET' || method === 'HEAD'))
      return sendJson(res, 200, this.#controller.status());
    if (path === '/metrics' && (method === 'GET' || method === 'HEAD')) {
      const body = await this.#controller.registry.metrics();
      res.writeHead(200, { 'content-type': this.#controller.registry.contentType });
      res.end(body);
      return;
    }
    if (path === '/reload') {
      if (method !== 'POST') return methodNotAllowed(res, 'POST');
      await this.#controller.reload();
      return sendJson(res, 200, { ok: true });
    }
    const m = /^\/virtual-servers\/([^/]+)\/real-servers\/([^/]+)\/(weight|drain)$/.exec(path);
    if (m !== null) {
      if (method !== 'POST') return methodNotAllowed(res, 'POST');
      const vs = this.#controller.virtualServer(decodeURIComponent(m[1]!));
      const rs = decodeURIComponent(m[2]!);
      if (m[3] === 'drain') {
        vs.drain(rs);
        this.#logger.info({ rs }, 'real server drained by admin');
        return sendJson(res, 200, { ok: true });
      }
      const body = await readJson(req);
      const weight = (body as { weight?: unknown } | null)?.weight;
      if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 65535) {
        throw new HastackError('HASTACK_ADMIN_BAD_REQUEST', 'body must be {"weight": <integer 0..65535>}');
      }
      vs.setWeight(rs, weight);
      this.#logger.info({ rs, weight }, 'real server weight set by admin');
      return sendJson(res, 200, { ok: true });
    }
    sendJson(res, 404, {
      error: { code: 'HASTACK_ADMIN_NOT_FOUND', message: `no route for ${method} ${path}` },
    });
  }

  #fail(res: ServerResponse, err: unknown): void {
    const code = errorCode(err);
    const status = NOT_FOUND_CODES.has(code)
      ? 404
      : code.startsWith('HASTACK_ADMIN_BAD') || code.startsWith('HASTACK_CONFIG')
        ? 400
        : 500;
    if (status === 500) this.#logger.error({ err }, 'admin request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, status, { error: { code, message: (err as Error).message } });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  sendJson(res, 405, { error: { code: 'HASTACK_ADMIN_METHOD', message: `use ${allow}` } });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HastackError('HASTACK_ADMIN_BAD_REQUEST', 'request body too large');
    chunks.push(chunk);
  }
  if (size === 0) return null;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HastackError('HASTACK_ADMIN_BAD_REQUEST', 'request body is not valid JSON');
  }
}

function closeServer(server: Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
