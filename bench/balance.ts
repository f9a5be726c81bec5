/**
 * Micro-benchmark: picks per second of every scheduler over 10 destinations.
 * Not a test; run with `node bench/balance.ts [picks]`. Counters change between
 * picks (as a live service's would) and client addresses rotate, so hashing and
 * least-connection schedulers do their full work.
 *
 * To check that pick() does not allocate, run with --trace-gc: the timed loops
 * should print no Scavenge lines (the locality schedulers allocate only for
 * destination IPs they have not seen, which the warm-up covers).
 */
import { createScheduler } from '../src/balance/create-scheduler.ts';
import type { Destination, PickContext } from '../src/balance/types.ts';
import { SCHEDULER_NAMES } from '../src/config/model.ts';
import { seededRandom } from '../src/core/clock.ts';

const picks = Number(process.argv[2] ?? 2_000_000);
const DESTINATIONS = 10;
const CLIENTS = 1024;

const clientHosts = Array.from({ length: CLIENTS }, (_, i) => `198.18.${i >> 8}.${i & 255}`);
const destHosts = Array.from({ length: 64 }, (_, i) => `203.0.113.${i}`);

function destinations(): Destination[] {
  return Array.from({ length: DESTINATIONS }, (_, i) => ({
    key: `10.0.0.${i + 1}:80`,
    host: `10.0.0.${i + 1}`,
    port: 80,
    weight: 1 + (i % 4),
    activeConns: 0,
    inactiveConns: 0,
    overloaded: false,
  }));
}

console.log(`${picks.toLocaleString('en-US')} picks over ${DESTINATIONS} destinations`);
for (const name of SCHEDULER_NAMES) {
  const list = destinations();
  const s = createScheduler(name, { random: seededRandom(1), flags: { fallback: true } });
  s.update(list);
  const ctx: PickContext = { clientHost: '', clientPort: 0, destHost: '', destPort: 80, now: 0 };
  const run = (count: number): number => {
    let found = 0;
    for (let i = 0; i < count; i++) {
      ctx.clientHost = clientHosts[i & (CLIENTS - 1)]!;
      ctx.clientPort = 1024 + (i & 0x7fff);
      ctx.destHost = destHosts[i & 63]!;
      ctx.now = i >>> 10;
      const d = s.pick(ctx);
      if (d !== undefined) {
        found++;
        // A connection opens; an older one on another server closes.
        d.activeConns++;
        const other = list[i % DESTINATIONS]!;
        if (other.activeConns > 0) other.activeConns--;
      }
    }
    return found;
  };
  run(Math.min(picks, 200_000)); // warm-up: JIT, locality entries
  const start = process.hrtime.bigint();
  const found = run(picks);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = Math.round(picks / seconds).toLocaleString('en-US');
  console.log(
    `${name.padEnd(6)} ${rate.padStart(14)} picks/s${found < picks ? `  (${picks - found} found none)` : ''}`,
  );
}
