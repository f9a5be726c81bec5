import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { BinlogWriter, type BinlogWriterOptions } from '../../../src/db/binlog-writer.ts';
import { EventType } from '../../../src/db/event-types.ts';
import { readIndex } from '../../../src/db/log-index.ts';
import { BINLOG_BASENAME } from '../../../src/db/log-names.ts';

/* Binary log expiry (binlog_expire_logs_seconds): by segment age against the injected clock, never the active segment. */

import { binlogOptions, UUID } from './binlog-helpers.ts';

const HOUR = 3_600_000;
/** Wall time of the injected clock at its start. */
const T0 = 1_700_000_000_000;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(clock: ManualClock): { d: string; o: BinlogWriterOptions } {
  const d = mkdtempSync(join(tmpdir(), 'hastack-binlog-expire-'));
  dirs.push(d);
  return {
    d,
    o: binlogOptions(d, { expireMs: HOUR, clock }),
  };
}

function tx(w: BinlogWriter, seq: number): void {
  w.appendTransaction(
    [
      { type: EventType.GTID, uuid: UUID, seq, originalCommitUs: seq },
      { type: EventType.QUERY, flags: 0, sql: 'INSERT INTO t VALUES (?)', params: [BigInt(seq)] },
      { type: EventType.XID, xid: seq },
    ],
    T0 / 1000,
  );
  w.noteLogged(UUID, seq);
}

/** Sets a segment's last-modified time to `ageMs` before the clock's wall time. */
function age(d: string, name: string, clock: ManualClock, ageMs: number): void {
  const at = (clock.wallNow() - ageMs) / 1000;
  utimesSync(join(d, name), at, at);
}

describe('binary log expiry', () => {
  it('removes segments older than expire, updates the index, keeps the newer and the active one', () => {
    const clock = new ManualClock(0, T0);
    const { d, o } = setup(clock);
    const w = BinlogWriter.recover(o);
    w.start();
    for (let i = 1; i <= 3; i++) {
      tx(w, i);
      w.rotate();
    }
    tx(w, 4);
    const names = w.segments().map((s) => s.name);
    assert.equal(names.length, 4);
    const [s1, s2, s3, active] = names as [string, string, string, string];
    age(d, s1, clock, 3 * HOUR);
    age(d, s2, clock, 2 * HOUR);
    age(d, s3, clock, 10 * 60_000);
    // The active segment is the oldest of all by mtime: still never purged.
    age(d, active, clock, 5 * HOUR);

    assert.deepEqual(w.applyRetention(), [s1, s2]);
    assert.deepEqual(
      w.segments().map((s) => s.name),
      [s3, active],
    );
    assert.deepEqual(readIndex(d, BINLOG_BASENAME), [s3, active], 'the index names what is left');
    assert.equal(existsSync(join(d, s1)), false);
    assert.equal(existsSync(join(d, s2)), false);
    assert.equal(existsSync(join(d, s3)), true);
    assert.equal(w.purged.toString(), `${UUID}:1-2`, 'gtid_purged follows the oldest segment left');

    // Nothing more is old enough yet.
    assert.deepEqual(w.applyRetention(), []);

    // An hour later (injected clock): s3 expires; the active segment stays although expired.
    clock.advance(HOUR);
    assert.deepEqual(w.applyRetention(), [s3]);
    assert.deepEqual(readIndex(d, BINLOG_BASENAME), [active]);
    assert.deepEqual(w.applyRetention(), [], 'the active segment is never purged');
    assert.equal(existsSync(join(d, active)), true);
    w.close();
  });

  it('purges expired segments at rotation and at startup', () => {
    const clock = new ManualClock(0, T0);
    const { d, o } = setup(clock);
    let w = BinlogWriter.recover(o);
    w.start();
    tx(w, 1);
    w.rotate();
    tx(w, 2);
    const [first, second] = w.segments().map((s) => s.name) as [string, string];
    age(d, first, clock, 2 * HOUR);
    age(d, second, clock, 0);
    // Rotation closes `second` (mtime now) and opens a third: only `first` is past expiry.
    w.rotate();
    const third = w.segments().at(-1)!.name;
    assert.deepEqual(readIndex(d, BINLOG_BASENAME), [second, third]);
    assert.equal(existsSync(join(d, first)), false);
    w.close();

    // Restart two hours later: `second` expired, `third` (the active one after recovery) stays.
    age(d, second, clock, 0);
    age(d, third, clock, 0);
    clock.advance(2 * HOUR);
    w = BinlogWriter.recover(o);
    w.start();
    const left = w.segments().map((s) => s.name);
    assert.equal(left.includes(second), false);
    assert.equal(existsSync(join(d, second)), false);
    assert.deepEqual(readIndex(d, BINLOG_BASENAME), left);
    assert.equal(left.at(-1), w.current().file, 'the segment being written is kept');
    w.close();
  });

  it('keeps every segment when expire is 0', () => {
    const clock = new ManualClock(0, T0);
    const { d, o } = setup(clock);
    const w = BinlogWriter.recover({ ...o, expireMs: 0 });
    w.start();
    tx(w, 1);
    w.rotate();
    tx(w, 2);
    for (const s of w.segments()) age(d, s.name, clock, 1000 * HOUR);
    assert.deepEqual(w.applyRetention(), []);
    assert.equal(w.segments().length, 2);
    w.close();
  });
});
