/*
 * Entry point of an HTTP worker thread (`http.workers` > 1): a ProxyEngine on
 * the same ports as its siblings (SO_REUSEPORT: the kernel spreads connections).
 * The main thread owns health checks and sends every transition; ejections seen
 * here are reported so the other workers eject the server too. Counters go to
 * the main thread once a second.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { errorCode, errorMessage } from '../core/errors.ts';
import { ProxyEngine } from './proxy-engine.ts';
import type { FromHttpWorker, HttpWorkerInit, ToHttpWorker } from './worker-protocol.ts';

const init = workerData as HttpWorkerInit;
const port = parentPort!;

function post(message: FromHttpWorker): void {
  port.postMessage(message);
}

const logger = pino(
  { level: init.logLevel, base: { worker: init.index } },
  {
    write(line: string) {
      post({ type: 'log', line });
    },
  },
);

const engine = new ProxyEngine(init.config, {
  logger,
  reusePort: true,
  onEjected: (pool, server, ejectionMs) => post({ type: 'ejected', pool, server, ejectionMs }),
});
for (const [id, up] of Object.entries(init.health)) {
  const slash = id.indexOf('/');
  engine.setHealth(id.slice(0, slash), id.slice(slash + 1), up);
}

let statsTimer: NodeJS.Timeout | undefined;

port.on('message', (message: ToHttpWorker) => {
  switch (message.type) {
    case 'config':
      engine.apply(message.config, message.graceMs).then(
        () => post({ type: 'applied', id: message.id }),
        (err: unknown) =>
          post({
            type: 'applied',
            id: message.id,
            error: { message: errorMessage(err), code: errorCode(err) },
          }),
      );
      break;
    case 'health':
      engine.setHealth(message.pool, message.server, message.up);
      break;
    case 'eject':
      engine.ejectRemote(message.pool, message.server, message.ejectionMs);
      break;
    case 'drain':
      clearInterval(statsTimer);
      void engine.stop(message.graceMs).then(() => {
        post({ type: 'stats', snapshot: engine.snapshot() });
        post({ type: 'drained' });
      });
      break;
  }
});

engine.start().then(
  () => {
    statsTimer = setInterval(() => post({ type: 'stats', snapshot: engine.snapshot() }), 1000);
    statsTimer.unref();
    post({ type: 'listening', addresses: engine.addresses() });
  },
  (err: unknown) => post({ type: 'listen-error', message: errorMessage(err), code: errorCode(err) }),
);
