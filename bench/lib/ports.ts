import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HastackError } from '../../src/core/errors.ts';
import { formatTail, type PinnedProcess } from './pinned-process.ts';

const handedOut = new Set<number>();

/**
 * A TCP port that is free right now on host: bind port 0, read it, close.
 * Never hands out the same port twice in one bench run, since the kernel may
 * offer a just-closed port again before the server we pass it to has bound it.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ host, port: 0, exclusive: true }, () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    if (port !== 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new HastackError('HASTACK_BENCH_NO_PORT', `no free TCP port found on ${host}`);
}

/** Resolves true if a TCP connection to host:port is accepted within timeoutMs. */
export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Fail at once (with its output) if this process exits while we wait. */
  process?: PinnedProcess;
  /** What we are waiting for, for the error message. */
  label?: string;
}

/** Polls until host:port accepts a TCP connection. */
export async function waitForPort(host: string, port: number, options: WaitOptions = {}): Promise<void> {
  await pollUntil(() => canConnect(host, port), {
    ...options,
    label: options.label ?? `${host}:${port} to accept connections`,
  });
}

/** Polls check() every 100 ms until it returns true, the process exits or the timeout passes. */
export async function pollUntil(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    options.process?.assertRunning();
    if (await check()) return;
    if (Date.now() >= deadline) {
      const who =
        options.process === undefined ? '' : ` (${options.process.name}, pid ${options.process.pid})`;
      throw new HastackError(
        'HASTACK_BENCH_NOT_READY',
        `timed out after ${timeoutMs} ms waiting for ${options.label ?? 'readiness'}${who}` +
          formatTail(options.process?.output() ?? ''),
      );
    }
    await sleep(100);
  }
}
