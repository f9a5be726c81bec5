import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { CheckSpec, CheckTiming, HttpCheckUrl } from '../../../src/config/model.ts';

type Spec<T extends CheckSpec['type']> = Extract<CheckSpec, { type: T }>;

export const TIMING: CheckTiming = {
  intervalMs: 1000,
  timeoutMs: 2000,
  retries: 0,
  retryDelayMs: 10,
  rise: 1,
  fall: 1,
  startDown: false,
  warmupMs: 0,
};

export function tcpSpec(extra: Partial<Spec<'tcp'>> = {}): Spec<'tcp'> {
  return { type: 'tcp', ...TIMING, ...extra };
}

export function url(path: string, extra: Partial<HttpCheckUrl> = {}): HttpCheckUrl {
  return { path, status: [{ min: 200, max: 299 }], ...extra };
}

export function httpSpec(extra: Partial<Spec<'http'>> = {}): Spec<'http'> {
  return {
    type: 'http',
    tls: false,
    urls: [url('/')],
    httpVersion: '1.1',
    verifyTls: false,
    ...TIMING,
    ...extra,
  };
}

export function smtpSpec(extra: Partial<Spec<'smtp'>> = {}): Spec<'smtp'> {
  return { type: 'smtp', helo: 'probe.example', ...TIMING, ...extra };
}

export function dnsSpec(extra: Partial<Spec<'dns'>> = {}): Spec<'dns'> {
  return { type: 'dns', qtype: 'SOA', name: '.', ...TIMING, ...extra };
}

export function miscSpec(command: string, extra: Partial<Spec<'misc'>> = {}): Spec<'misc'> {
  return { type: 'misc', command, dynamic: false, ...TIMING, ...extra };
}

export function icmpSpec(extra: Partial<Spec<'icmp'>> = {}): Spec<'icmp'> {
  return { type: 'icmp', ...TIMING, ...extra };
}

export const never = new AbortController().signal;

/** A TCP server on 127.0.0.1:0 whose sockets are all destroyed on close. */
export async function startTcpServer(
  onConnection: (socket: net.Socket) => void,
): Promise<{ port: number; server: net.Server; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A listening socket that never accepts: a worker listens with backlog 1 and then
 * blocks its event loop. Once the accept queue is full, new SYNs are dropped and
 * connect() hangs, which is what an overloaded or firewalled server looks like.
 */
export async function startBlackholeListener(): Promise<{ port: number; close: () => Promise<void> }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const net = require('node:net');
    const server = net.createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      parentPort.postMessage(server.address().port);
      setImmediate(() => {
        while (Atomics.load(workerData, 0) === 0) Atomics.wait(workerData, 0, 0, 50);
        server.close();
        process.exit(0);
      });
    });
    `,
    { eval: true, workerData: flag },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // Fill the accept queue: stop once a connection no longer completes.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 16; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) break;
  }
  return {
    port,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    },
  };
}

const run = promisify(execFile);

/** Whether a command exists on PATH. */
export async function hasCommand(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

/** Peer tools: skip locally when missing, but fail under CI (the tool must be installed there). */
export async function requireTool(t: { skip: (message: string) => void }, command: string): Promise<boolean> {
  if (await hasCommand(command)) return true;
  if (process.env.CI) throw new Error(`${command} is required under CI`);
  t.skip(`${command} not installed`);
  return false;
}

/** A self-signed certificate for localhost/127.0.0.1 made with the openssl CLI. */
export async function selfSignedCert(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hastack-health-'));
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,DNS:app.example,IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    return {
      key: await readFile(join(dir, 'key.pem'), 'utf8'),
      cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Timers that only fire when the test says so. */
export class ManualTimers {
  now = 0;
  #nextId = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  set = (callback: () => void, ms: number): unknown => {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.now + ms, callback });
    return id;
  };

  clear = (handle: unknown): void => {
    this.#timers.delete(handle as number);
  };

  get pending(): number {
    return this.#timers.size;
  }

  /** Delays of the pending timers, relative to now. */
  delays(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b);
  }

  /** Moves time forward, firing due timers in order and letting promise chains run after each. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    while (true) {
      let nextId: number | undefined;
      let nextAt = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= until && timer.at < nextAt) {
          nextAt = timer.at;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const timer = this.#timers.get(nextId)!;
      this.#timers.delete(nextId);
      this.now = Math.max(this.now, timer.at);
      timer.callback();
      await settle();
    }
    this.now = until;
    await settle();
  }
}

/** Lets every pending promise continuation run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Polls `predicate` every 5 ms, giving up after `limitMs` (a bound, not a timing assertion). */
export async function waitFor(predicate: () => boolean, limitMs = 5000): Promise<void> {
  for (let waited = 0; !predicate(); waited += 5) {
    if (waited >= limitMs) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
