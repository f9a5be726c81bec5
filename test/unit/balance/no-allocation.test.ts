import assert from 'node:assert/strict';
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { createScheduler } from '../../../src/balance/create-scheduler.ts';
import type { Destination, PickContext } from '../../../src/balance/types.ts';
import { SCHEDULER_NAMES } from '../../../src/config/model.ts';

const clientHosts = Array.from({ length: 256 }, (_, i) => `198.18.${i >> 4}.${i & 255}`);
const destHosts = Array.from({ length: 16 }, (_, i) => `203.0.113.${i + 128}`);

/**
 * Scavenges (young-generation GCs) that start while `run` executes. A loop that
 * allocates nothing cannot fill the young generation, so it sees none; 400k picks
 * allocating even one small object each would see several. Counts GCs, not time.
 */
async function scavengesDuring(run: () => void): Promise<number> {
  const starts: number[] = [];
  const collect = (entries: readonly PerformanceEntry[]) => {
    for (const entry of entries) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) starts.push(entry.startTime);
    }
  };
  const observer = new PerformanceObserver((list) => collect(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const from = performance.now();
  run();
  const to = performance.now();
  // GC entries reach the observer's buffer an event-loop turn or two after the GC.
  for (let turn = 0; turn < 3; turn++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    collect(observer.takeRecords());
  }
  observer.disconnect();
  return starts.filter((t) => t >= from && t <= to).length;
}

describe('pick() allocates nothing in steady state', () => {
  // twos is left out: the injected RandomSource returns a fresh double per call,
  // which V8 boxes when the call is not inlined; the scheduler itself allocates nothing.
  for (const name of SCHEDULER_NAMES.filter((n) => n !== 'twos')) {
    it(name, async () => {
      const list: Destination[] = Array.from({ length: 10 }, (_, i) => ({
        key: `s${i}`,
        host: `10.0.0.${i + 1}`,
        port: 80,
        weight: 1 + (i % 4),
        activeConns: 0,
        inactiveConns: 0,
        overloaded: i === 3, // exercises the fallback walks of sh and mh
      }));
      const s = createScheduler(name, { flags: { fallback: true, hashPort: true } });
      s.update(list);
      const ctx: PickContext = { clientHost: '', clientPort: 0, destHost: '', destPort: 80, now: 0 };
      const run = (count: number) => {
        for (let i = 0; i < count; i++) {
          ctx.clientHost = clientHosts[i & 255]!;
          ctx.clientPort = 1024 + (i & 0x7fff);
          ctx.destHost = destHosts[i & 15]!;
          const d = s.pick(ctx);
          if (d !== undefined) d.activeConns++;
          const other = list[i % 10]!;
          if (other.activeConns > 0) other.activeConns--;
        }
      };
      run(100_000); // warm-up: JIT, and the locality tables meet every destination IP
      assert.equal(await scavengesDuring(() => run(400_000)), 0);
    });
  }
});
