import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock, systemClock } from '../../../src/core/clock.ts';
import { BinlogWriter, type DurableChunk } from '../../../src/db/binlog-writer.ts';
import { Checkpointer } from '../../../src/db/checkpointer.ts';
import { EventType } from '../../../src/db/event-types.ts';
import { scanSegment } from '../../../src/db/log-scan.ts';
import { BACKSTOP_CHECKPOINT_PAGES, openDatabase } from '../../../src/db/open-database.ts';
import { type RelayFlushed, RelayLog, type RelayLogOptions } from '../../../src/db/relay-log.ts';

/* Work moved off the commit and apply paths: WAL checkpoints, relay and re-logged binlog fdatasyncs. */

import { binlogOptions, UUID } from './binlog-helpers.ts';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hastack-db-bg-'));
  dirs.push(d);
  return d;
}

function binlog(d: string): BinlogWriter {
  const w = BinlogWriter.recover(binlogOptions(d, { serverId: 3 }));
  w.start();
  return w;
}

function tx(w: BinlogWriter, seq: number) {
  return w.appendTransaction(
    [
      { type: EventType.GTID, uuid: UUID, seq, originalCommitUs: seq },
      { type: EventType.QUERY, flags: 0, sql: 'INSERT INTO t VALUES (?)', params: [BigInt(seq)] },
      { type: EventType.XID, xid: seq },
    ],
    1_700_000_000,
  );
}

function relayLog(d: string, options: Partial<RelayLogOptions> = {}): RelayLog {
  return RelayLog.recover({
    dir: d,
    serverId: 2,
    serverUuid: UUID,
    serverVersion: 't',
    maxSize: 1 << 20,
    clock: new ManualClock(),
    ...options,
  });
}

/** A relay append carrying the source's transaction `seq`, as the I/O thread queues it. */
function relayItem(src: BinlogWriter, r: ReturnType<typeof tx>, seq: number) {
  return {
    bytes: Buffer.from(readFileSync(src.segmentPath(r.file)).subarray(r.start, r.end)),
    gtid: { uuid: UUID, seq },
    source: { file: 'binlog.000001', pos: r.end },
  };
}

/** Polls `check` (bounded): the background thread works on its own schedule. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(25);
  }
  assert.fail(`timed out waiting until ${what}`);
}

describe('background checkpoints and syncs', () => {
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a writer with background checkpoints leaves the WAL to the checkpoint thread', async () => {
    const file = join(dir(), 'data.sqlite');
    const db = openDatabase(file, { backgroundCheckpoints: true });
    const checkpointer = new Checkpointer(file, 'test', (m) => assert.fail(m), { busyMs: 10, idleMs: 20 });
    try {
      assert.equal(
        (db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number }).wal_autocheckpoint,
        BACKSTOP_CHECKPOINT_PAGES,
      );
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
      const ins = db.prepare('INSERT INTO t VALUES (?, ?)');
      const before = statSync(file).size;
      // Well past SQLite's default 1000-page autocheckpoint, far below the backstop.
      for (let i = 1; i <= 1500; i++) ins.run(i, 'x'.repeat(200));
      // The database file grows only when frames are copied into it: by the checkpoint thread.
      await eventually(
        () => statSync(file).size > before + 100 * 1024,
        'the checkpoint thread copied the WAL',
      );
      assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1500);
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it('relay appends made during an fdatasync form the next batch, published in order', async () => {
    const d = dir();
    const relay = relayLog(d);
    const src = binlog(dir());
    const flushed: RelayFlushed[] = [];
    relay.onFlushed((f) => flushed.push(f));
    await relay.startSegment({ file: 'binlog.000001', pos: 4 });
    const item = (seq: number) => relayItem(src, tx(src, seq), seq);
    relay.append(item(1));
    relay.append(item(2));
    // Wait for the first batch's fdatasync to start, then append while it runs.
    await new Promise((resolve) => setImmediate(resolve));
    relay.append(item(3));
    await relay.idle();
    const durable = flushed.filter((f) => f.durableAppends > 0);
    assert.equal(durable[durable.length - 1]!.durableAppends, 3);
    for (let i = 1; i < durable.length; i++)
      assert.ok(durable[i]!.durableAppends > durable[i - 1]!.durableAppends, 'batches publish in order');
    assert.equal(relay.retrieved.toString(), `${UUID}:1-3`);
    const seg = relay.current()!;
    const scan = scanSegment(readFileSync(join(d, seg.file)).subarray(0, seg.pos), seg.file);
    assert.equal(scan.groups.length, 3);
    assert.equal(scan.tail, undefined);
    await relay.close();
    src.close();
  });

  it('relay batches reach the SQL thread as written, before their fdatasync; rotation waits until durable', async () => {
    const d = dir();
    const src = binlog(dir());
    const first = tx(src, 1);
    const txSize = first.end - first.start;
    // Rotates every few transactions.
    const relay = relayLog(d, { maxSize: 200 + 2 * txSize });
    const seen: { kind: 'written' | 'durable'; total: number; appends?: number }[] = [];
    const total = (segs: { size: number }[]) => segs.reduce((n, x) => n + x.size, 0);
    relay.onWritten((segs) => seen.push({ kind: 'written', total: total(segs) }));
    relay.onFlushed((f) =>
      seen.push({ kind: 'durable', total: total(f.segments), appends: f.durableAppends }),
    );
    await relay.startSegment({ file: 'binlog.000001', pos: 4 });
    const item = (seq: number) => relayItem(src, seq === 1 ? first : tx(src, seq), seq);
    relay.append(item(1));
    // The batch is written (and published) in the next turn; its fdatasync ends later.
    await new Promise((resolve) => setImmediate(resolve));
    const published = seen.findIndex((e) => e.kind === 'written' && e.total > 0);
    const durable = seen.findIndex((e) => e.kind === 'durable' && (e.appends ?? 0) > 0);
    assert.ok(published !== -1, 'written and published in the turn after append()');
    assert.ok(durable === -1 || durable > published, 'published before it was durable');
    for (let seq = 2; seq <= 8; seq++) {
      relay.append(item(seq));
      if (seq % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await relay.idle();
    assert.equal(relay.retrieved.toString(), `${UUID}:1-8`);
    assert.deepEqual(relay.writtenSegments(), relay.segments(), 'idle: everything written is durable');
    await relay.close();
    const segs = relay.segments();
    assert.ok(segs.length >= 3, `rotated (${segs.length} segments)`);
    let groups = 0;
    for (const seg of segs) {
      const buf = readFileSync(join(d, seg.name));
      assert.equal(buf.length, seg.size, `${seg.name}: no zeros left past the last event`);
      const scan = scanSegment(buf, seg.name);
      assert.equal(scan.tail, undefined, `${seg.name} holds whole transactions only`);
      groups += scan.groups.length;
    }
    assert.equal(groups, 8);
    const written = seen.filter((e) => e.kind === 'written').map((e) => e.total);
    for (let i = 1; i < written.length; i++)
      assert.ok(written[i]! >= written[i - 1]!, 'published sizes only grow');
    src.close();
  });

  it('without acknowledgements relay fdatasyncs wait for the sync interval; idle() and semi-sync sync at once', async () => {
    const d = dir();
    const src = binlog(dir());
    const relay = relayLog(d, { syncIntervalMs: 60_000, clock: systemClock });
    let durable = 0;
    relay.onFlushed((f) => {
      durable = f.durableAppends;
    });
    await relay.startSegment({ file: 'binlog.000001', pos: 4 });
    const item = (seq: number) => relayItem(src, tx(src, seq), seq);
    const written = () => relay.writtenSegments().at(-1)!.size;
    const synced = () => relay.segments().at(-1)!.size;
    relay.append(item(1));
    await eventually(() => durable === 1, 'the first batch is synced at once');
    relay.append(item(2));
    await sleep(50);
    assert.ok(written() > synced(), 'the second batch is written (and readable by the SQL thread)');
    assert.equal(durable, 1, 'its fdatasync waits for the interval');
    const t0 = performance.now();
    await relay.idle();
    assert.equal(durable, 2, 'idle() syncs what is pending');
    assert.ok(performance.now() - t0 < 10_000, 'without waiting for the interval');
    relay.setAckWanted(true);
    relay.append(item(3));
    await eventually(() => durable === 3, 'with a semi-sync source every batch is synced at once');
    relay.setAckWanted(false);
    relay.append(item(4));
    await sleep(50);
    assert.equal(durable, 3);
    relay.setAckWanted(true);
    await eventually(() => durable === 4, 'a pending sync runs when acknowledgements are wanted again');
    assert.equal(written(), synced());
    await relay.close();
    src.close();
  });

  it("a replica's binary log syncs in the background and reports what became durable", async () => {
    const durable: DurableChunk[] = [];
    const w2 = BinlogWriter.recover(
      binlogOptions(dir(), { serverId: 4, onDurable: (chunks) => durable.push(...chunks) }),
    );
    w2.start();
    tx(w2, 1);
    w2.syncInBackground();
    tx(w2, 2); // appended while the first fdatasync runs: goes with the next one
    w2.syncInBackground();
    await w2.backgroundIdle();
    assert.equal(durable.length, 1);
    w2.syncInBackground();
    await w2.backgroundIdle();
    assert.equal(durable.length, 2);
    w2.close();
    const seg = w2.segments()[0]!;
    const scan = scanSegment(readFileSync(w2.segmentPath(seg.name)), seg.name);
    assert.equal(scan.groups.length, 2);
  });
});
