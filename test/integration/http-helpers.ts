import http from 'node:http';
import net from 'node:net';
import { silentLogger } from '../../src/core/logger.ts';
import { httpSectionSchema } from '../../src/http/config-schema.ts';
import { HttpService } from '../../src/http/http-service.ts';
import { ManualHealth } from '../helpers/manual-health.ts';

export { ManualHealth };

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  remotePort: number;
}

export interface Upstream {
  name: string;
  port: number;
  address: string;
  server: http.Server;
  seen: SeenRequest[];
  /** TCP connections accepted. */
  connections: number;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** An HTTP server that records every request and answers JSON (or runs `handler`). */
export async function startUpstream(name: string, handler?: UpstreamHandler): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
        remotePort: req.socket.remotePort ?? 0,
      });
      if (handler !== undefined) {
        handler(req, res, body);
        return;
      }
      const out = JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-upstream': name,
        'content-length': Buffer.byteLength(out),
      });
      res.end(out);
    });
  });
  const upstream: Upstream = {
    name,
    port: 0,
    address: '',
    server,
    seen,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('connection', (s: net.Socket) => {
    upstream.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = (server.address() as net.AddressInfo).port;
  upstream.address = `127.0.0.1:${upstream.port}`;
  return upstream;
}

export interface RunningProxy {
  service: HttpService;
  port: number;
  health: ManualHealth;
  stop(): Promise<void>;
}

/** Starts the proxy from a raw `http` section (YAML shape). */
export async function startProxy(raw: unknown, health = new ManualHealth()): Promise<RunningProxy> {
  const config = httpSectionSchema.parse(raw);
  const service = new HttpService(config, { logger: silentLogger(), health });
  await service.start();
  const first = Object.values(service.addresses())[0]!;
  return { service, port: first.port, health, stop: () => service.stop(200) };
}

export interface RawResult {
  data: string;
  /** The proxy closed the connection. */
  closed: boolean;
}

/** Writes raw bytes, collects what comes back until the server closes or `waitMs` passes. */
export function rawExchange(port: number, payload: string | Buffer, waitMs = 1500): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(payload);
  });
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection. */
export function request(
  port: number,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeoutMs?: number;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers,
        agent: false,
        timeout: options.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('latin1'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(options.body);
  });
}

export function json(reply: Reply): {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
} {
  return JSON.parse(reply.body);
}

export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
