import assert from 'node:assert/strict';
import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../../src/core/clock.ts';
import { checksum, DbProcess, execute, queryRows, tempDir, waitCaughtUp } from './db-helpers.ts';

/*
 * kill -9 of a replica at random moments while it applies a write load, then
 * restart: the applied position commits with the data, so nothing is lost or
 * applied twice (a non-idempotent counter proves it) and the final state matches.
 */
describe('database: replica killed with SIGKILL during apply', () => {
  const tmp = tempDir('db-crash');
  let source: DbProcess;
  let replica: DbProcess;

  before(async () => {
    source = await DbProcess.create(tmp.dir, { name: 'src', serverId: 1, role: 'source', format: 'mixed' });
    await source.start();
    replica = await DbProcess.create(tmp.dir, {
      name: 'rep',
      serverId: 2,
      role: 'replica',
      sourcePort: source.ports.listen,
      // Small relay segments so kills also land around rotation and purge.
      extra: { relay_log: { max_size: '16kb' } },
    });
    await replica.start();
  });

  after(async () => {
    await replica?.kill9();
    await source?.kill9();
    tmp.cleanup();
  });

  it('neither loses nor repeats a transaction across 6 kills', async () => {
    await execute(source.target, [
      'CREATE TABLE seq (id INTEGER PRIMARY KEY, note TEXT)',
      'CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)',
      'INSERT INTO counter VALUES (1, 0)',
    ]);
    const random = seededRandom(42);
    let written = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const id = written + 1;
        await execute(source.target, [
          ['INSERT INTO seq (id, note) VALUES (?, ?)', id, `row ${id}`],
          'UPDATE counter SET n = n + 1 WHERE id = 1',
          // An unsafe statement: MIXED logs it as rows.
          ["UPDATE seq SET note = note || ' ' || abs(random() % 10) WHERE id = ?", id],
        ]);
        written = id;
      }
    })();
    for (let kill = 0; kill < 6; kill++) {
      await new Promise((r) => setTimeout(r, 150 + random() * 350));
      await replica.kill9();
      await new Promise((r) => setTimeout(r, random() * 100));
      await replica.start();
    }
    await new Promise((r) => setTimeout(r, 300));
    writing = false;
    await writer;
    assert.ok(written > 20, `the load wrote ${written} transactions`);
    await waitCaughtUp(source.target, replica.target);
    const ids = (await queryRows(replica.target, 'SELECT id FROM seq ORDER BY id')).map((r) => r[0]);
    assert.equal(ids.length, written, 'no gap and no duplicate');
    assert.deepEqual(
      ids,
      Array.from({ length: written }, (_, i) => i + 1),
    );
    assert.deepEqual(
      await queryRows(replica.target, 'SELECT n FROM counter'),
      [[written]],
      'each applied once',
    );
    assert.equal(await checksum(replica.target), await checksum(source.target));
    const st = await replica.status();
    assert.equal(st.replica?.sqlRunning, 'Yes');
    assert.equal(st.replica?.lastSqlError, undefined);
  });

  it('an OS crash that took the relay log’s unsynced, already applied tail: no error, no gap, no repeat', async () => {
    // The SQL thread applies what the I/O thread wrote before its fsync ends. After an OS
    // crash the relay log may end before the applied position (kill -9 keeps the page
    // cache, so a cut stands in for the lost tail).
    await execute(source.target, [
      'CREATE TABLE IF NOT EXISTS seq (id INTEGER PRIMARY KEY, note TEXT)',
      'CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)',
      'INSERT OR IGNORE INTO counter VALUES (1, 0)',
    ]);
    const before = Number((await queryRows(source.target, 'SELECT count(*) FROM seq'))[0]![0]);
    const n0 = Number((await queryRows(source.target, 'SELECT n FROM counter'))[0]![0]);
    for (let id = before + 1; id <= before + 10; id++)
      await execute(source.target, [
        ['INSERT INTO seq (id, note) VALUES (?, ?)', id, `row ${id}`],
        'UPDATE counter SET n = n + 1 WHERE id = 1',
      ]);
    await waitCaughtUp(source.target, replica.target);
    const applied = (await replica.status()).replica!;
    await replica.kill9();
    // One byte short of the applied position: the last applied transaction is torn, and
    // recovery cuts it off.
    const segment = join(replica.dataDir, 'relay', applied.relayLogFile);
    assert.ok(statSync(segment).size >= applied.relayLogPos);
    truncateSync(segment, applied.relayLogPos - 1);
    replica.output = '';
    await replica.start();
    for (let id = before + 11; id <= before + 15; id++)
      await execute(source.target, [
        ['INSERT INTO seq (id, note) VALUES (?, ?)', id, `row ${id}`],
        'UPDATE counter SET n = n + 1 WHERE id = 1',
      ]);
    await waitCaughtUp(source.target, replica.target);
    const ids = (await queryRows(replica.target, 'SELECT id FROM seq ORDER BY id')).map((r) => r[0]);
    assert.deepEqual(
      ids,
      Array.from({ length: before + 15 }, (_, i) => i + 1),
    );
    assert.deepEqual(await queryRows(replica.target, 'SELECT n FROM counter'), [[n0 + 15]]);
    assert.equal(await checksum(replica.target), await checksum(source.target));
    const st = await replica.status();
    assert.equal(st.replica?.sqlRunning, 'Yes');
    assert.equal(st.replica?.lastSqlError, undefined);
    assert.match(replica.output, /the relay log lost applied transactions at its end/);
  });
});
