import { createServer } from 'node:net';
import type { DemoListenPort } from './demo-ports.ts';

export interface BusyPort extends DemoListenPort {
  /** EADDRINUSE, EACCES... */
  reason: string;
}

/**
 * Which of these loopback ports cannot be bound right now. The demo checks all of
 * them before starting anything, so a taken port is one clear message instead of
 * a half-started demo that has to be torn down again.
 */
export async function findBusyPorts(
  ports: readonly DemoListenPort[],
  host = '127.0.0.1',
): Promise<BusyPort[]> {
  const results = await Promise.all(ports.map((p) => probe(p.port, host)));
  const busy: BusyPort[] = [];
  results.forEach((reason, i) => {
    if (reason !== undefined) busy.push({ ...ports[i]!, reason });
  });
  return busy;
}

function probe(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
