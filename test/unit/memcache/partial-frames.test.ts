import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../src/core/clock.ts';
import * as B from '../../../src/memcache/binary-commands.ts';
import { feedInPieces, makeSession, request, setExtras } from './helpers.ts';

/*
 * A request stream must give the same replies however the network cuts it:
 * whole, split at every single byte position, and in random small pieces.
 */
const TEXT = Buffer.from(
  'set a 5 0 3\r\nabc\r\nget a b\r\ngets a\r\nappend a 0 0 2 noreply\r\nde\r\nincr n 1\r\nset n 0 0 2\r\n10\r\n' +
    'incr n 5\r\ndecr n 100\r\ntouch a 100\r\ngat 0 a\r\ndelete a\r\nset x 0 0 2\r\nabcd\r\nbogus\r\n' +
    `set big 0 0 1100000\r\n${'z'.repeat(1_100_000).slice(0, 0)}version\r\nmn\r\n`,
  'latin1',
);
const META = Buffer.from(
  'ms foo 2 T90 F5 c\r\nhi\r\nmg foo s v t f c k O123\r\nmg nope v q O1\r\nma cnt N0 J10 v\r\nms Zm9v 2 b k\r\nab\r\n' +
    'mg Zm9v b k v\r\nmd foo q\r\nmd foo O2\r\nms s 3 MX\r\nxyz\r\nmn\r\n',
  'latin1',
);
const BINARY = Buffer.concat([
  request(B.OP_SET, { key: 'a', extras: setExtras(3, 0), value: 'hello', opaque: 1 }),
  request(B.OP_GETK, { key: 'a', opaque: 2 }),
  request(B.OP_GETQ, { key: 'missing' }),
  request(B.OP_APPENDQ, { key: 'a', value: '!' }),
  request(B.OP_SET, { key: 'big', extras: setExtras(0, 0), value: Buffer.alloc(1_100_000, 65) }),
  request(B.OP_GET, { key: 'a' }),
  request(B.OP_NOOP),
]);

function whole(input: Buffer): Buffer {
  const { session } = makeSession();
  return feedInPieces(session, input, []);
}

function everyByte(input: Buffer, limit = input.length): void {
  const expected = whole(input);
  for (let cut = 1; cut < Math.min(input.length, limit); cut++) {
    const { session } = makeSession();
    const got = feedInPieces(session, input, [cut]);
    assert.ok(got.equals(expected), `split at byte ${cut}`);
  }
}

describe('partial frames', () => {
  it('text: split at every byte gives the same replies', () => everyByte(TEXT));
  it('meta: split at every byte gives the same replies', () => everyByte(META));
  it('binary: split at every byte of the headers and small frames', () => everyByte(BINARY, 200));

  it('one byte at a time', () => {
    for (const input of [TEXT, META, BINARY.subarray(0, 200)]) {
      const { session } = makeSession();
      const cuts = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
      assert.ok(feedInPieces(session, input, cuts).equals(whole(input)));
    }
  });

  it('random piece sizes, including through a 1 MB value', () => {
    const random = seededRandom(42);
    for (const input of [TEXT, META, BINARY]) {
      const expected = whole(input);
      for (let round = 0; round < 5; round++) {
        const cuts: number[] = [];
        for (let at = 0; ; ) {
          at += 1 + Math.floor(random() * 70_000);
          if (at >= input.length) break;
          cuts.push(at);
        }
        const { session } = makeSession();
        assert.ok(feedInPieces(session, input, cuts).equals(expected), `round ${round}`);
      }
    }
  });
});

describe('bad input never breaks the session', () => {
  it('random garbage: replies or closes, never throws, and leaks no chunk', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 300; round++) {
      const { session, store } = makeSession();
      const bytes = Buffer.alloc(1 + Math.floor(random() * 400));
      for (let i = 0; i < bytes.length; i++) {
        // Mostly printable with separators, sometimes anything (including 0x80).
        bytes[i] =
          random() < 0.8
            ? ' \r\n0123456789setgmdnaquv'.charCodeAt(Math.floor(random() * 24))
            : Math.floor(random() * 256);
      }
      feedInPieces(session, bytes, [Math.floor(bytes.length / 2)]);
      session.close();
      const used = store.mem.usedChunks.reduce((a, b) => a + b, 0);
      assert.equal(used, store.currItems, 'every used chunk belongs to a linked item');
    }
  });

  it('a half-sent value then close releases the item being filled', () => {
    const { session, store } = makeSession();
    session.feed(Buffer.from('set a 0 0 100000\r\nxxxx'), 0, 22);
    assert.equal(
      store.mem.usedChunks.reduce((a, b) => a + b, 0),
      1,
    );
    session.close();
    assert.equal(
      store.mem.usedChunks.reduce((a, b) => a + b, 0),
      0,
    );
  });

  it('carried input stays bounded by the line limits', () => {
    const { session } = makeSession();
    const junk = Buffer.alloc(1000, 120);
    for (let i = 0; i < 5 && session.closing === 0; i++) session.feed(junk, 0, junk.length);
    assert.notEqual(session.closing, 0);
    assert.equal(session.carried, 0);
  });
});
