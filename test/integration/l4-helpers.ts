import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VirtualServerConfig } from '../../src/config/model.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { VirtualServer } from '../../src/l4/virtual-server.ts';
import { ManualHealth } from '../helpers/manual-health.ts';

export { ManualHealth };

/** Undo steps of a test file's tests (servers, sockets, virtual servers). */
export type Cleanups = (() => Promise<unknown> | unknown)[];

/** An undo list run newest first after each test of the calling file: call it at the file's top level. */
export function cleanupsAfterEach(): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  return cleanups;
}

export interface Backend {
  name: string;
  port: number;
  server: net.Server;
  /** Sockets currently open on this backend. */
  sockets: Set<net.Socket>;
  accepted: number;
  close(): Promise<void>;
}

/**
 * A TCP backend. Default behaviour: echo everything, and on the client's FIN
 * write `[name]` and close, so a request/response shows which server answered
 * and that data still flows after a half-close.
 */
export async function startBackend(
  name: string,
  onConnection?: (socket: net.Socket, backend: Backend) => void,
): Promise<Backend> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true });
  const backend: Backend = {
    name,
    port: 0,
    server,
    sockets,
    accepted: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('connection', (socket) => {
    backend.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (onConnection !== undefined) {
      onConnection(socket, backend);
      return;
    }
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => socket.end(`[${name}]`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.port = (server.address() as net.AddressInfo).port;
  return backend;
}

/** Sends `payload`, half-closes, and collects everything until the server closes. */
export function request(port: number, payload = 'hi'): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks).toString());
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(payload);
      socket.end();
    });
  });
}

/** Which backend answered a default-backend request ("hi[A]" → "A"). */
export function answeredBy(reply: string): string {
  const m = /\[([^\]]+)\]$/.exec(reply);
  return m === null ? `?${reply}` : m[1]!;
}

/** Opens a connection and resolves once it is connected. */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves once the socket is closed (ending our side on the peer's FIN); reports data and any error code. */
export function closed(socket: net.Socket): Promise<{ data: string; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    socket.on('data', (d) => chunks.push(d));
    // allowHalfOpen sockets: answer the peer's FIN so the socket can close.
    socket.on('end', () => socket.end());
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code;
    });
    if (socket.closed) {
      resolve({ data: '', ...(error !== undefined && { error }) });
      return;
    }
    socket.on('close', () =>
      resolve({ data: Buffer.concat(chunks).toString(), ...(error !== undefined && { error }) }),
    );
  });
}

/** Polls `predicate` until true; fails after `limitMs` (a safety net, not a timing assertion). */
export async function eventually(predicate: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

/** A port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface UdpBackend {
  name: string;
  port: number;
  socket: dgram.Socket;
  received: number;
  peers: Set<string>;
  close(): Promise<void>;
}

/** A UDP backend replying `name:payload` to every datagram. */
export async function startUdpBackend(name: string): Promise<UdpBackend> {
  const socket = dgram.createSocket('udp4');
  const backend: UdpBackend = {
    name,
    port: 0,
    socket,
    received: 0,
    peers: new Set(),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (msg, rinfo) => {
    backend.received++;
    backend.peers.add(`${rinfo.address}:${rinfo.port}`);
    socket.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  backend.port = socket.address().port;
  return backend;
}

/** A UDP client socket that remembers replies. */
export async function udpClient(): Promise<{
  socket: dgram.Socket;
  ask(port: number, payload: string): Promise<string>;
  close(): Promise<void>;
}> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const waiting: ((s: string) => void)[] = [];
  socket.on('message', (msg) => waiting.shift()?.(msg.toString()));
  return {
    socket,
    ask: (port, payload) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        socket.send(payload, port, '127.0.0.1');
      }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export function startVirtualServer(
  config: ConstructorParameters<typeof VirtualServer>[0],
  health: ManualHealth,
  extra: Partial<ConstructorParameters<typeof VirtualServer>[1]> = {},
): VirtualServer {
  return new VirtualServer(config, { logger: silentLogger(), health, ...extra });
}

/** Default TCP backends (see startBackend), closed after the test. */
export async function startBackends(cleanups: Cleanups, ...names: string[]): Promise<Backend[]> {
  const list = await Promise.all(names.map((n) => startBackend(n)));
  for (const b of list) cleanups.push(() => b.close());
  return list;
}

/** UDP backends (see startUdpBackend), closed after the test. */
export async function startUdpBackends(cleanups: Cleanups, ...names: string[]): Promise<UdpBackend[]> {
  const list = await Promise.all(names.map((n) => startUdpBackend(n)));
  for (const b of list) cleanups.push(() => b.close());
  return list;
}

/** A started virtual server, stopped after the test, and the port it listens on. */
export async function startService(
  cleanups: Cleanups,
  config: VirtualServerConfig,
  health = new ManualHealth(),
): Promise<{ vs: VirtualServer; port: number; health: ManualHealth }> {
  const vs = startVirtualServer(config, health);
  await vs.start();
  cleanups.push(() => vs.stop(0));
  return { vs, port: vs.address().port, health };
}
