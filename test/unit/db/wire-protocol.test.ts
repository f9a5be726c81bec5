import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../src/core/clock.ts';
import { GtidSet } from '../../../src/db/gtid-set.ts';
import { admitReplica, checkGtidStart, parseHello } from '../../../src/db/handshake.ts';
import {
  decodePosition,
  encodeFrame,
  encodeJsonFrame,
  encodePosition,
  FrameReader,
  type HelloMessage,
  Msg,
} from '../../../src/db/wire-protocol.ts';

const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const U3 = '33333333-3333-4333-8333-333333333333';

const hello: HelloMessage = {
  protocol: 1,
  serverId: 2,
  serverUuid: U2,
  name: 'r',
  expectedSourceUuid: null,
  autoPosition: true,
  gtidSet: '',
  file: null,
  pos: 0,
  semiSync: true,
};
const source = { serverId: 1, serverUuid: U1, isSource: true, name: 's' };

describe('replication frames', () => {
  it('reassembles frames from any split of the byte stream', () => {
    const frames = [
      encodeJsonFrame(Msg.HELLO, hello),
      encodeFrame(Msg.EVENTS, Buffer.alloc(70_000, 7)),
      encodePosition(Msg.ACK, 'binlog.000002', 123_456),
      encodeFrame(Msg.HEARTBEAT, Buffer.alloc(0)),
    ];
    const stream = Buffer.concat(frames);
    const random = seededRandom(9);
    for (let round = 0; round < 50; round++) {
      const r = new FrameReader();
      const got: { type: number; len: number }[] = [];
      let at = 0;
      while (at < stream.length) {
        const n = 1 + Math.floor(random() * (round % 2 === 0 ? 7 : 20_000));
        r.push(stream.subarray(at, at + n));
        at += n;
        for (let f = r.next(); f !== undefined; f = r.next())
          got.push({ type: f.type, len: f.payload.length });
      }
      assert.deepEqual(
        got.map((g) => g.type),
        [Msg.HELLO, Msg.EVENTS, Msg.ACK, Msg.HEARTBEAT],
      );
      assert.equal(got[1]!.len, 70_000);
      assert.equal(r.buffered, 0);
    }
    const pos = new FrameReader();
    pos.push(encodePosition(Msg.ACK, 'binlog.000002', 123_456));
    assert.deepEqual(decodePosition(pos.next()!.payload), { file: 'binlog.000002', pos: 123_456 });
  });

  it('rejects impossible frame lengths before buffering', () => {
    const r = new FrameReader();
    const bad = Buffer.alloc(5);
    bad.writeUInt32LE(0xfffffff0, 0);
    r.push(bad);
    assert.throws(() => r.next(), { code: 'HASTACK_DB_PROTOCOL' });
    assert.throws(() => decodePosition(Buffer.alloc(3)), { code: 'HASTACK_DB_PROTOCOL' });
  });
});

describe('replica admission', () => {
  it('validates HELLO', () => {
    assert.deepEqual(parseHello(JSON.parse(JSON.stringify(hello))), hello);
    assert.throws(() => parseHello({ ...hello, protocol: 9 }), /protocol version 9/);
    assert.throws(() => parseHello({ ...hello, serverUuid: 'nope' }), /invalid fields/);
    assert.throws(() => parseHello({ ...hello, gtidSet: 'x:1' }), { code: 'HASTACK_DB_GTID_SET' });
    assert.throws(() => parseHello(null), /not an object/);
  });

  it('applies the server_id and UUID rules', () => {
    assert.deepEqual(admitReplica(hello, source, []), { replaces: undefined });
    assert.throws(() => admitReplica({ ...hello, serverId: 0 }, source, []), {
      code: 'HASTACK_DB_SERVER_ID_ZERO',
    });
    assert.throws(() => admitReplica({ ...hello, serverId: 1 }, source, []), {
      code: 'HASTACK_DB_DUPLICATE_SERVER_ID',
      message: /same server_id 1/,
    });
    assert.throws(() => admitReplica({ ...hello, serverUuid: U1 }, source, []), {
      code: 'HASTACK_DB_DUPLICATE_SERVER_UUID',
    });
    assert.throws(() => admitReplica(hello, source, [{ serverId: 2, serverUuid: U3 }]), {
      code: 'HASTACK_DB_DUPLICATE_SERVER_ID',
    });
    assert.deepEqual(
      admitReplica(hello, source, [{ serverId: 2, serverUuid: U2 }]),
      { replaces: U2 },
      'a reconnect replaces its stale session',
    );
    assert.throws(() => admitReplica(hello, { ...source, isSource: false }, []), {
      code: 'HASTACK_DB_NOT_SOURCE',
    });
    assert.throws(() => admitReplica({ ...hello, expectedSourceUuid: U3 }, source, []), {
      code: 'HASTACK_DB_WRONG_SOURCE',
    });
  });

  it('checks GTID auto-positioning against executed and purged sets', () => {
    const executed = GtidSet.parse(`${U1}:1-100`);
    const purged = GtidSet.parse(`${U1}:1-50`);
    checkGtidStart(GtidSet.parse(`${U1}:1-60`), executed, purged);
    assert.throws(() => checkGtidStart(GtidSet.parse(`${U1}:1-10`), executed, purged), {
      code: 'HASTACK_DB_SOURCE_PURGED',
      message: /11-50/,
    });
    assert.throws(() => checkGtidStart(GtidSet.parse(`${U1}:1-60,${U3}:1`), executed, purged), {
      code: 'HASTACK_DB_ERRANT_TRANSACTIONS',
    });
  });
});
