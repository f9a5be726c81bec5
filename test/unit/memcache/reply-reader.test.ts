import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHastackError } from '../../../src/core/errors.ts';
import { ReplyReader } from '../../../src/memcache/client/reply-reader.ts';

const reader = (text: string): ReplyReader => {
  const r = new ReplyReader();
  r.push(Buffer.from(text, 'latin1'));
  return r;
};

describe('client reply reader', () => {
  it('reads VALUE blocks (with and without cas) up to END, and waits for a partial block', () => {
    assert.deepEqual(reader('VALUE a 5 3 7\r\nabc\r\nVALUE b 0 0\r\n\r\nEND\r\n').values(), {
      kind: 'values',
      values: [
        { key: 'a', flags: 5, cas: 7n, value: Buffer.from('abc') },
        { key: 'b', flags: 0, cas: undefined, value: Buffer.alloc(0) },
      ],
    });
    const r = reader('VALUE a 0 3\r\nab');
    assert.equal(r.values(), undefined);
    r.push(Buffer.from('c\r\nEND\r\n'));
    assert.equal(r.values()?.kind, 'values');
  });

  it('returns an error line as such', () => {
    assert.deepEqual(reader('SERVER_ERROR out of memory\r\n').values(), {
      kind: 'error',
      line: 'SERVER_ERROR out of memory',
    });
  });

  it('rejects a malformed VALUE line with a HastackError instead of a SyntaxError', () => {
    const bad = (err: unknown) => isHastackError(err, 'HASTACK_MEMCACHED_CLIENT_BAD_REPLY');
    for (const line of [
      'VALUE a 0 3 x1',
      'VALUE a 0 abc',
      'VALUE a x 3',
      'VALUE a 0',
      'VALUE ',
      'VALUE a 0 -1',
    ]) {
      assert.throws(() => reader(`${line}\r\nabc\r\nEND\r\n`).values(), bad, line);
    }
  });

  it('clear() drops buffered bytes', () => {
    const r = reader('VALUE a 0 3\r\na');
    r.clear();
    r.push(Buffer.from('END\r\n'));
    assert.deepEqual(r.values(), { kind: 'values', values: [] });
  });
});
