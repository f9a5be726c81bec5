/*
 * Entry point of a TCP worker thread (virtual servers with workers > 1). Each
 * worker listens on the VIP with SO_REUSEPORT and runs its own TcpProxy over its
 * own DestinationPool; connection counters live in shared memory so every
 * thread's scheduler sees global active/inactive counts, and its stats block is
 * shared memory the main thread reads. The main thread owns health, quorum and
 * weights and sends the routing state on every change.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { createScheduler } from '../balance/create-scheduler.ts';
import { errorCode, errorMessage } from '../core/errors.ts';
import { StatsBlock } from './connection-stats.ts';
import { DestinationPool } from './destination-pool.ts';
import { SlotCounters } from './slot-counters.ts';
import { TcpProxy } from './tcp-proxy.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.ts';

const init = workerData as WorkerInit;
const port = parentPort!;

function post(message: FromWorker): void {
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

const now = () => performance.now();
const pool = new DestinationPool({
  counters: new SlotCounters(init.capacity, init.countersBuffer),
  stats: new StatsBlock(init.capacity, init.statsBuffer),
  scheduler: createScheduler(init.settings.scheduler, { flags: init.settings.schedulerFlags }),
  persistence: init.settings.persistence,
  vipHost: init.host,
  vipPort: init.port,
});
pool.apply(init.state);

const proxy = new TcpProxy(pool, {
  host: init.host,
  port: init.port,
  idleTimeoutMs: init.settings.idleTimeoutMs,
  connectTimeoutMs: init.settings.connectTimeoutMs,
  reusePort: true,
  now,
  logger,
});

let sweepTimer: NodeJS.Timeout | undefined;
let settings = init.settings;

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'state':
      pool.apply(message.state);
      break;
    case 'settings': {
      const next = message.settings;
      if (
        next.scheduler !== settings.scheduler ||
        JSON.stringify(next.schedulerFlags) !== JSON.stringify(settings.schedulerFlags)
      ) {
        pool.setScheduler(createScheduler(next.scheduler, { flags: next.schedulerFlags }));
      }
      pool.setPersistence(next.persistence);
      proxy.setTimeouts(next.idleTimeoutMs, next.connectTimeoutMs);
      settings = next;
      break;
    }
    case 'stop-accepting':
      void proxy.stopAccepting();
      break;
    case 'drain':
      void proxy.drain(message.graceMs).then(() => {
        clearInterval(sweepTimer);
        post({ type: 'drained' });
      });
      break;
  }
});

proxy.listen().then(
  (address) => {
    sweepTimer = setInterval(() => pool.sweep(now()), 2000);
    sweepTimer.unref();
    post({ type: 'listening', host: address.host, port: address.port });
  },
  (err: unknown) => {
    post({ type: 'listen-error', message: errorMessage(err), code: errorCode(err) });
  },
);
