import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../../src/core/clock.ts';
import { promoteCluster } from '../../src/db/promote.ts';
import { checksum, DbProcess, execute, queryRows, tempDir, waitCaughtUp, waitFor } from './db-helpers.ts';

/*
 * Semi-sync failover: a source and two replicas in their own processes; writers
 * load the source, the source is killed with SIGKILL at a random moment, and
 * `promote` picks the most advanced replica. Every write the source acknowledged
 * must be on the new source, and the other replica must follow it and converge.
 * The killed server comes back as a fresh replica of the new source. 20 trials.
 */
const TRIALS = Number(process.env.HASTACK_DB_FAILOVER_TRIALS ?? 20);

describe('database: semi-sync failover after kill -9 of the source', () => {
  const tmp = tempDir('db-failover');
  const servers: DbProcess[] = [];
  const semiSync = { enabled: true, timeout: '10s', count: 1 };

  before(async () => {
    const a = await DbProcess.create(tmp.dir, {
      name: 'a',
      serverId: 1,
      role: 'source',
      format: 'row',
      semiSync,
    });
    await a.start();
    servers.push(a);
    for (const [name, id] of [
      ['b', 2],
      ['c', 3],
    ] as const) {
      const p = await DbProcess.create(tmp.dir, {
        name,
        serverId: id,
        role: 'replica',
        sourcePort: a.ports.listen,
        format: 'row',
        semiSync,
      });
      await p.start();
      servers.push(p);
    }
    await execute(a.target, ['CREATE TABLE acked (id INTEGER PRIMARY KEY, trial INTEGER, payload TEXT)']);
    for (const r of servers.slice(1)) await waitCaughtUp(a.target, r.target);
  });

  after(async () => {
    for (const s of servers) await s.kill9();
    tmp.cleanup();
  });

  it(`keeps every acknowledged write over ${TRIALS} trials`, async () => {
    const random = seededRandom(7);
    let source = servers[0]!;
    for (let trial = 1; trial <= TRIALS; trial++) {
      // Both replicas follow the source (semi-sync clients) before the load starts.
      await waitFor(`trial ${trial}: two semi-sync replicas on ${source.spec.name}`, async () => {
        const st = await source.status();
        return st.source !== undefined && st.source.semiSync.clients === 2;
      });
      const acked: number[] = [];
      let next = trial * 1_000_000;
      let writing = true;
      let killed = false;
      const writers = Array.from({ length: 3 }, async () => {
        while (writing) {
          const id = next++;
          try {
            const r = await execute(source.target, [
              ['INSERT INTO acked VALUES (?, ?, ?)', id, trial, 'x'.repeat(64)],
            ]);
            if (r.semi_sync === 'acked') acked.push(id);
            else assert.fail(`write ${id} was not acknowledged by a replica (${r.semi_sync})`);
          } catch (err) {
            if (!killed) throw err;
            return; // the source died under this write: its outcome is unknown, and that is allowed
          }
        }
      });
      await new Promise((r) => setTimeout(r, 80 + random() * 250));
      const before = acked.length === 0 ? JSON.stringify((await source.status()).source) : '';
      killed = true;
      await source.kill9();
      writing = false;
      await Promise.all(writers);
      assert.ok(acked.length > 0, `trial ${trial}: some writes were acknowledged ${before}`);

      const report = await promoteCluster(servers.map((s) => s.target));
      const promoted = servers.find((s) => s.spec.name === report.newSource)!;
      const other = servers.find((s) => s !== promoted && s !== source)!;
      assert.deepEqual(report.failed, [], `trial ${trial}: re-pointing failed`);

      const have = new Set(
        (await queryRows(promoted.target, `SELECT id FROM acked WHERE trial = ${trial}`)).map((r) =>
          Number(r[0]),
        ),
      );
      const lost = acked.filter((id) => !have.has(id));
      assert.deepEqual(lost, [], `trial ${trial}: acknowledged writes missing on ${promoted.spec.name}`);

      await waitCaughtUp(promoted.target, other.target);
      assert.equal(
        await checksum(other.target),
        await checksum(promoted.target),
        `trial ${trial}: ${other.spec.name} converged`,
      );

      // The old source returns as a fresh replica of the new one (its unacknowledged tail is discarded with it).
      rmSync(source.dataDir, { recursive: true, force: true });
      const reborn = new DbProcess(
        tmp.dir,
        { ...source.spec, role: 'replica', sourcePort: promoted.ports.listen, semiSync },
        source.ports,
      );
      servers[servers.indexOf(source)] = reborn;
      await reborn.start();
      source = promoted;
    }
    for (const s of servers) if (s !== source) await waitCaughtUp(source.target, s.target);
    const sums = await Promise.all(servers.map((s) => checksum(s.target)));
    assert.equal(new Set(sums).size, 1, 'all three servers converge');
  });
});
