import type { Destination, PickContext, Scheduler } from '../../../src/balance/types.ts';
import type { CheckSpec, RealServerConfig, VirtualServerConfig } from '../../../src/config/model.ts';
import type { RoutedConnection } from '../../../src/l4/destination-pool.ts';
import { NOT_COUNTED } from '../../../src/l4/destination-pool.ts';

/** A TCP check; `startDown` mirrors alpha. */
export function tcpCheck(startDown = false): CheckSpec {
  return {
    type: 'tcp',
    intervalMs: 1000,
    timeoutMs: 500,
    retries: 0,
    retryDelayMs: 100,
    rise: 1,
    fall: 1,
    startDown,
    warmupMs: 0,
  };
}

export function realServer(
  host: string,
  port: number,
  over: Partial<RealServerConfig> = {},
): RealServerConfig {
  return { host, port, weight: 1, upperThreshold: 0, lowerThreshold: 0, checks: [tcpCheck()], ...over };
}

export function vsConfig(over: Partial<VirtualServerConfig> = {}): VirtualServerConfig {
  return {
    name: 'web',
    host: '127.0.0.1',
    port: 0,
    protocol: 'tcp',
    scheduler: 'rr',
    schedulerFlags: { hashPort: false, fallback: false },
    persistenceTimeoutMs: 0,
    persistenceGranularity: 32,
    sorryServerInhibit: false,
    quorum: 1,
    hysteresis: 0,
    startDown: false,
    notifyDownOnStop: false,
    inhibitOnFailure: false,
    idleTimeoutMs: 900_000,
    connectTimeoutMs: 5_000,
    workers: 1,
    realServers: [],
    ...over,
  };
}

/** A round-robin over available servers, counting update() calls. */
export class CountingRr implements Scheduler {
  readonly name = 'rr' as const;
  updates = 0;
  #dests: readonly Destination[] = [];
  #next = 0;

  update(dests: readonly Destination[]): void {
    this.updates++;
    this.#dests = dests.slice();
  }

  pick(_ctx: PickContext): Destination | undefined {
    const n = this.#dests.length;
    for (let i = 0; i < n; i++) {
      const d = this.#dests[(this.#next + i) % n]!;
      if (d.weight > 0 && !d.overloaded) {
        this.#next = (this.#next + i + 1) % n;
        return d;
      }
    }
    return undefined;
  }
}

export function connection(clientHost = '192.0.2.1', clientPort = 40000): RoutedConnection {
  return {
    clientHost,
    clientPort,
    dest: undefined,
    template: undefined,
    counted: NOT_COUNTED,
    failed: undefined,
  };
}
