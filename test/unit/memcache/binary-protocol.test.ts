import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as B from '../../../src/memcache/binary-commands.ts';
import { CLOSE_AFTER_WRITE, CLOSE_NOW } from '../../../src/memcache/protocol-session.ts';
import { makeSession, request, setExtras } from './helpers.ts';

function incrExtras(delta: bigint, initial: bigint, exptime: number): Buffer {
  const e = Buffer.alloc(20);
  e.writeBigUInt64BE(delta, 0);
  e.writeBigUInt64BE(initial, 8);
  e.writeUInt32BE(exptime >>> 0, 16);
  return e;
}

interface Response {
  opcode: number;
  status: number;
  opaque: number;
  cas: bigint;
  extras: Buffer;
  key: string;
  value: Buffer;
}

export function parseResponses(buf: Buffer): Response[] {
  const out: Response[] = [];
  let p = 0;
  while (p + 24 <= buf.length) {
    assert.equal(buf[p], 0x81, 'response magic');
    const keyLen = buf.readUInt16BE(p + 2);
    const extLen = buf[p + 4]!;
    const bodyLen = buf.readUInt32BE(p + 8);
    const body = buf.subarray(p + 24, p + 24 + bodyLen);
    out.push({
      opcode: buf[p + 1]!,
      status: buf.readUInt16BE(p + 6),
      opaque: buf.readUInt32BE(p + 12),
      cas: buf.readBigUInt64BE(p + 16),
      extras: body.subarray(0, extLen),
      key: body.subarray(extLen, extLen + keyLen).toString('latin1'),
      value: body.subarray(extLen + keyLen),
    });
    p += 24 + bodyLen;
  }
  assert.equal(p, buf.length, 'whole responses');
  return out;
}

describe('binary protocol', () => {
  it('set, get, getk, quiet gets, add/replace errors, cas', () => {
    const { sendBytes } = makeSession();
    const r = parseResponses(
      sendBytes(
        Buffer.concat([
          request(B.OP_SET, { key: 'a', extras: setExtras(7, 0), value: 'hello', opaque: 11 }),
          request(B.OP_GET, { key: 'a', opaque: 12 }),
          request(B.OP_GETK, { key: 'a' }),
          request(B.OP_GETQ, { key: 'missing' }),
          request(B.OP_GETKQ, { key: 'a' }),
          request(B.OP_ADD, { key: 'a', extras: setExtras(0, 0), value: 'x' }),
          request(B.OP_REPLACE, { key: 'zz', extras: setExtras(0, 0), value: 'x' }),
          request(B.OP_SET, { key: 'a', extras: setExtras(0, 0), value: 'x', cas: 999n }),
          request(B.OP_SETQ, { key: 'q', extras: setExtras(0, 0), value: 'quiet' }),
          request(B.OP_GET, { key: 'nope' }),
          request(B.OP_NOOP),
        ]),
      ),
    );
    assert.deepEqual(
      r.map((x) => [x.opcode, x.status]),
      [
        [B.OP_SET, 0],
        [B.OP_GET, 0],
        [B.OP_GETK, 0],
        [B.OP_GETKQ, 0],
        [B.OP_ADD, B.ST_KEY_EEXISTS],
        [B.OP_REPLACE, B.ST_KEY_ENOENT],
        [B.OP_SET, B.ST_KEY_EEXISTS],
        [B.OP_GET, B.ST_KEY_ENOENT],
        [B.OP_NOOP, 0],
      ],
    );
    assert.equal(r[0]!.opaque, 11);
    assert.equal(r[1]!.opaque, 12);
    assert.equal(r[1]!.extras.readUInt32BE(0), 7);
    assert.equal(r[1]!.value.toString(), 'hello');
    assert.equal(r[1]!.cas, r[0]!.cas);
    assert.equal(r[2]!.key, 'a');
    assert.equal(r[7]!.value.toString(), 'Not found');
  });

  it('incr/decr with initial values, delete, append, flush, version, stat, touch', () => {
    const { sendBytes } = makeSession();
    const r = parseResponses(
      sendBytes(
        Buffer.concat([
          request(B.OP_INCREMENT, { key: 'n', extras: incrExtras(1n, 5n, 0) }),
          request(B.OP_INCREMENT, { key: 'n', extras: incrExtras(10n, 0n, 0) }),
          request(B.OP_DECREMENT, { key: 'n', extras: incrExtras(100n, 0n, 0) }),
          request(B.OP_INCREMENT, { key: 'x', extras: incrExtras(1n, 0n, 0xffffffff) }),
          request(B.OP_PREPEND, { key: 'n', value: 'z' }),
          request(B.OP_DECREMENT, { key: 'n', extras: incrExtras(1n, 0n, 0) }),
          request(B.OP_DELETE, { key: 'n' }),
          request(B.OP_DELETE, { key: 'n' }),
          request(B.OP_APPEND, { key: 'n', value: 'z' }),
          request(B.OP_VERSION),
          request(B.OP_TOUCH, { key: 'nope', extras: Buffer.alloc(4) }),
          request(B.OP_FLUSHQ),
          request(B.OP_STAT, { key: 'nosuch' }),
        ]),
      ),
    );
    assert.deepEqual(
      r.map((x) => x.status),
      [
        0,
        0,
        0,
        B.ST_KEY_ENOENT,
        0,
        B.ST_DELTA_BADVAL,
        0,
        B.ST_KEY_ENOENT,
        B.ST_NOT_STORED,
        0,
        B.ST_KEY_ENOENT,
        B.ST_KEY_ENOENT,
      ],
    );
    assert.equal(r[0]!.value.readBigUInt64BE(0), 5n);
    assert.equal(r[1]!.value.readBigUInt64BE(0), 15n);
    assert.equal(r[2]!.value.readBigUInt64BE(0), 0n);
    assert.equal(r[9]!.value.toString(), '1.6.18-hastack');
  });

  it('stat sends one packet per stat and an empty terminator', () => {
    const { sendBytes } = makeSession();
    const r = parseResponses(sendBytes(request(B.OP_STAT)));
    assert.ok(r.length > 30);
    assert.equal(r.at(-1)!.key, '');
    assert.ok(r.some((x) => x.key === 'curr_items' && x.value.toString() === '0'));
  });

  it('too large values get E2BIG and are skipped; the stream stays in sync', () => {
    const { sendBytes } = makeSession();
    const r = parseResponses(
      sendBytes(
        Buffer.concat([
          request(B.OP_SET, { key: 'big', extras: setExtras(0, 0), value: Buffer.alloc(2_000_000, 120) }),
          request(B.OP_NOOP),
        ]),
      ),
    );
    assert.deepEqual(
      r.map((x) => x.status),
      [B.ST_E2BIG, 0],
    );
  });

  it('malformed frames: invalid arguments close, bad magic closes at once, unknown opcodes are answered', () => {
    const a = makeSession();
    const r = parseResponses(
      a.sendBytes(Buffer.concat([request(0x55, { value: 'abc' }), request(B.OP_NOOP)])),
    );
    assert.deepEqual(
      r.map((x) => x.status),
      [B.ST_UNKNOWN_COMMAND, 0],
    );
    const b = makeSession();
    parseResponses(b.sendBytes(request(B.OP_GET, { key: 'a', extras: Buffer.alloc(4) })));
    assert.equal(b.session.closing, CLOSE_AFTER_WRITE);
    const c = makeSession();
    c.sendBytes(Buffer.concat([request(B.OP_NOOP), Buffer.from('get a b c d e f g h i j k l m\r\n')]));
    assert.equal(c.session.closing, CLOSE_NOW, 'text after binary: invalid magic');
    const d = makeSession();
    const long = request(B.OP_GET, { key: 'k'.repeat(300) });
    const res = parseResponses(d.sendBytes(long));
    assert.equal(res[0]!.status, B.ST_EINVAL);
    assert.equal(d.session.closing, CLOSE_AFTER_WRITE);
  });

  it('quit answers then closes; quitq closes silently', () => {
    const a = makeSession();
    assert.equal(parseResponses(a.sendBytes(request(B.OP_QUIT))).length, 1);
    assert.equal(a.session.closing, CLOSE_AFTER_WRITE);
    const b = makeSession();
    assert.equal(parseResponses(b.sendBytes(request(B.OP_QUITQ))).length, 0);
    assert.equal(b.session.closing, CLOSE_AFTER_WRITE);
  });
});
