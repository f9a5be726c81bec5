import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEventAt, withNextPos } from '../../../src/db/binlog-event.ts';
import { type BinlogEvent, buildEvent, decodeAll, decodeBody } from '../../../src/db/event-bodies.ts';
import { EventType } from '../../../src/db/event-types.ts';

const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

const EVENTS: BinlogEvent[] = [
  {
    type: EventType.FORMAT_DESCRIPTION,
    binlogVersion: 4,
    serverVersion: 'hastack-db-1',
    createdAt: 1_700_000_000,
    serverUuid: UUID,
  },
  { type: EventType.PREVIOUS_GTIDS, gtids: `${UUID}:1-5` },
  { type: EventType.GTID, uuid: UUID, seq: 6, originalCommitUs: 1_700_000_000_123_456 },
  {
    type: EventType.QUERY,
    flags: 0,
    sql: 'INSERT INTO t VALUES (?, ?, ?, ?, ?)',
    params: [1n, 2.5, "x'y", new Uint8Array([0, 255]), null],
  },
  { type: EventType.QUERY, flags: 1, sql: 'CREATE TABLE t (a)', params: undefined },
  {
    type: EventType.QUERY,
    flags: 0,
    sql: 'UPDATE t SET a = :a',
    params: Object.assign(Object.create(null), { a: -9007199254740993n }),
  },
  { type: EventType.ROWS, flags: 0, changeset: Buffer.from([0x54, 1, 1, 0x74, 0]) },
  { type: EventType.XID, xid: 6 },
  { type: EventType.ROTATE, pos: 4, file: 'binlog.000002' },
  { type: EventType.STOP },
];

describe('binlog events', () => {
  it('round-trip every event type with header fields intact', () => {
    let pos = 4;
    const parts: Buffer[] = [];
    for (const ev of EVENTS) {
      const bytes = buildEvent(ev, { serverId: 4_000_000_000, timestamp: 1_700_000_001, nextPos: 0 });
      pos += bytes.length;
      parts.push(withNextPos(bytes, pos));
    }
    const all = Buffer.concat([Buffer.from([0xfe, 0x62, 0x69, 0x6e]), ...parts]);
    const decoded = decodeAll(all, 'test', 4);
    assert.equal(decoded.length, EVENTS.length);
    decoded.forEach((d, i) => {
      assert.deepEqual(d.event, EVENTS[i]);
      assert.equal(d.raw.header.serverId, 4_000_000_000);
      assert.equal(d.raw.header.timestamp, 1_700_000_001);
    });
    assert.equal(decoded[decoded.length - 1]!.raw.header.nextPos, all.length);
  });

  it('detects a flip of any single byte (CRC32)', () => {
    const ev = buildEvent(EVENTS[3]!, { serverId: 1, timestamp: 1, nextPos: 100 });
    for (let i = 0; i < ev.length; i++) {
      const bad = Buffer.from(ev);
      bad[i] = bad[i]! ^ 0x01;
      // A damaged length byte reads as a longer (incomplete) or impossible event; any other byte fails the CRC.
      let outcome: string;
      try {
        outcome = decodeEventAt(bad, 0, 'f').kind;
      } catch (err) {
        outcome = (err as { code: string }).code;
      }
      assert.ok(
        outcome === 'HASTACK_DB_EVENT_CHECKSUM' ||
          (i >= 9 && i < 13 && (outcome === 'incomplete' || outcome === 'HASTACK_DB_EVENT_INVALID')),
        `byte ${i}: ${outcome}`,
      );
    }
  });

  it('reports incomplete events and absurd lengths', () => {
    const ev = buildEvent(EVENTS[7]!, { serverId: 1, timestamp: 1, nextPos: 0 });
    for (let cut = 0; cut < ev.length; cut++) {
      const r = decodeEventAt(ev.subarray(0, cut), 0, 'f');
      assert.equal(r.kind, 'incomplete');
    }
    const huge = Buffer.from(ev);
    huge.writeUInt32LE(0xffffffff, 9);
    assert.throws(() => decodeEventAt(huge, 0, 'f'), { code: 'HASTACK_DB_EVENT_INVALID' });
    const tiny = Buffer.from(ev);
    tiny.writeUInt32LE(5, 9);
    assert.throws(() => decodeEventAt(tiny, 0, 'f'), { code: 'HASTACK_DB_EVENT_INVALID' });
  });

  it('rejects malformed bodies with a clear error', () => {
    const ev = buildEvent({ type: EventType.XID, xid: 1 }, { serverId: 1, timestamp: 1, nextPos: 0 });
    const r = decodeEventAt(ev, 0, 'f');
    assert.equal(r.kind, 'event');
    if (r.kind !== 'event') return;
    const shortBody = { ...r.event, body: r.event.body.subarray(0, 3) };
    assert.throws(() => decodeBody(shortBody, 'f'), { code: 'HASTACK_DB_EVENT_INVALID' });
    const unknown = { ...r.event, header: { ...r.event.header, type: 99 } };
    assert.throws(() => decodeBody(unknown, 'f'), /unknown event type 99/);
  });
});
