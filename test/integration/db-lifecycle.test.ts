import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/core/logger.ts';
import { databaseSchema } from '../../src/db/config-schema.ts';
import { DatabaseService } from '../../src/db/db-service.ts';
import { freePort, type PortPlan, serverConfig, startInProcess, tempDir } from './db-helpers.ts';

/* Start and stop at once: stop must end every thread, socket and timer, whatever the replicas were doing. */

const tmp = tempDir('db-lifecycle');
after(() => tmp.cleanup());

async function ports(): Promise<PortPlan> {
  return { listen: await freePort(), http: await freePort() };
}

/** Rejects instead of hanging, so a stuck stop fails the test. */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not complete in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Handles a stopped service must not leave behind: sockets, listeners, timers, worker ports. */
const TRACKED = new Set(['TCPSocketWrap', 'TCPServerWrap', 'ConnectWrap', 'Timeout', 'MessagePort']);

function tracked(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo())
    if (TRACKED.has(r)) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

/** Closed handles leave the list a few event-loop turns after close: poll (bounded), then compare. */
async function assertNothingLeft(baseline: Map<string, number>, what: string): Promise<void> {
  const same = () => {
    const now = tracked();
    return [...TRACKED].every((k) => (now.get(k) ?? 0) <= (baseline.get(k) ?? 0));
  };
  for (let i = 0; i < 100 && !same(); i++) await sleep(20);
  assert.deepEqual(
    Object.fromEntries([...tracked()].filter(([k, n]) => n > (baseline.get(k) ?? 0))),
    {},
    `${what}: handles left after stop`,
  );
}

describe('database: start then stop at once', () => {
  it('stops a fresh source and two replicas every time (demo layout)', async () => {
    const baseline = tracked();
    for (let i = 0; i < 10; i++) {
      const source = await ports();
      const replicas = [await ports(), await ports()];
      const dir = `${tmp.dir}/run${i}`;
      const spec = (n: number, role: 'source' | 'replica') => ({
        name: `db${n}`,
        serverId: n,
        role,
        ...(role === 'replica' && { sourcePort: source.listen }),
        format: 'mixed' as const,
        semiSync: { enabled: true, timeout: '2s' },
      });
      const svc: DatabaseService = await bounded(
        startInProcess(dir, [
          serverConfig(dir, spec(1, 'source'), source),
          serverConfig(dir, spec(2, 'replica'), replicas[0]!),
          serverConfig(dir, spec(3, 'replica'), replicas[1]!),
        ]),
        30_000,
        `start #${i}`,
      );
      assert.equal(svc.servers().length, 3);
      await bounded(svc.stop(0), 15_000, `stop #${i}`);
      assert.equal(svc.servers().length, 0);
      await assertNothingLeft(baseline, `run #${i}`);
    }
  });

  it('a stop that arrives while the service is still starting waits for it and stops everything', async () => {
    const baseline = tracked();
    for (let i = 0; i < 3; i++) {
      const source = await ports();
      const replica = await ports();
      const dir = `${tmp.dir}/early${i}`;
      const config = databaseSchema.parse({
        servers: [
          serverConfig(dir, { name: 'db1', serverId: 1, role: 'source' }, source),
          serverConfig(
            dir,
            { name: 'db2', serverId: 2, role: 'replica', sourcePort: source.listen },
            replica,
          ),
        ],
      });
      const svc = new DatabaseService(config, { logger: createLogger({ level: 'silent' }) });
      const started = svc.start();
      await bounded(svc.stop(0), 30_000, `early stop #${i}`);
      await started;
      assert.equal(svc.servers().length, 0, 'nothing left running');
      await assertNothingLeft(baseline, `early run #${i}`);
    }
  });
});
