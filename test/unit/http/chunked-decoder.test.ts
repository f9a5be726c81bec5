import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHUNK_DATA, CHUNK_DONE, CHUNK_ERROR, ChunkedDecoder } from '../../../src/http/chunked-decoder.ts';

/** Decodes `text` fed in pieces of `step` bytes; returns the payload or the error. */
function decode(
  text: string,
  step = text.length,
): { body: string; done: boolean; error?: string; rest: number } {
  const d = new ChunkedDecoder(64, 64);
  const buf = Buffer.from(text, 'latin1');
  let body = '';
  for (let start = 0; start < buf.length; start += step) {
    const end = Math.min(buf.length, start + step);
    let pos = start;
    while (pos < end) {
      const r = d.decode(buf, pos, end);
      pos = d.pos;
      if (r === CHUNK_DATA) body += buf.toString('latin1', d.dataStart, d.dataEnd);
      else if (r === CHUNK_DONE) return { body, done: true, rest: buf.length - pos };
      else if (r === CHUNK_ERROR) return { body, done: false, error: d.error, rest: 0 };
      else break;
    }
  }
  return { body, done: false, rest: 0 };
}

describe('chunked decoder', () => {
  const good =
    '5\r\nhello\r\n6;ext=1;q="a b"\r\n world\r\nA \t;x\r\n0123456789\r\n0\r\nTrailer-A: 1\r\n\r\nNEXT';

  it('decodes sizes, extensions and trailers, stopping after the last chunk', () => {
    const r = decode(good);
    assert.equal(r.done, true);
    assert.equal(r.body, 'hello world0123456789');
    assert.equal(r.rest, 4);
  });

  it('gives the same result for every split of the input', () => {
    for (let step = 1; step <= 7; step++) {
      const r = decode(good, step);
      assert.equal(r.body, 'hello world0123456789', `step ${step}`);
      assert.equal(r.done, true, `step ${step}`);
    }
  });

  it('rejects bad sizes, bare LF and missing CRLF after data', () => {
    for (const bad of [
      'x\r\nhello\r\n0\r\n\r\n',
      '-5\r\nhello\r\n0\r\n\r\n',
      '5\nhello\r\n0\r\n\r\n',
      '5\r\nhelloX\r\n0\r\n\r\n',
      '5\r\nhello\n0\r\n\r\n',
      '0x5\r\nhello\r\n0\r\n\r\n',
      '5 5\r\nhello\r\n0\r\n\r\n',
      '\r\n',
      '12345678901234\r\n',
      '5;\0\r\nhello\r\n0\r\n\r\n',
      '0\r\nBad\0: x\r\n\r\n',
      '0\r\n folded\r\n\r\n',
      '0\r\n\n',
    ]) {
      const r = decode(bad);
      assert.equal(r.done, false, JSON.stringify(bad));
      assert.ok(r.error !== undefined, JSON.stringify(bad));
    }
  });

  it('bounds extensions and trailers', () => {
    assert.ok(decode(`1;${'e'.repeat(100)}\r\nx\r\n0\r\n\r\n`).error?.includes('extension'));
    assert.ok(decode(`0\r\nX: ${'v'.repeat(100)}\r\n\r\n`).error?.includes('trailer'));
  });

  it('resets for the next message', () => {
    const d = new ChunkedDecoder();
    const a = Buffer.from('0\r\n\r\n');
    assert.equal(d.decode(a, 0, a.length), CHUNK_DONE);
    d.reset();
    const b = Buffer.from('1\r\nz\r\n');
    assert.equal(d.decode(b, 0, b.length), CHUNK_DATA);
  });
});
