import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHastackError } from '../../../src/core/errors.ts';
import { HttpResponseReader } from '../../../src/health/http-response-reader.ts';

/** Feeds `wire` in pieces of `step` bytes; returns reader, decoded body and raw body. */
function parse(wire: string | Buffer, step = Number.POSITIVE_INFINITY, eof = true) {
  const body: Buffer[] = [];
  const raw: Buffer[] = [];
  const reader = new HttpResponseReader({ onBody: (d) => body.push(d), onRawBody: (d) => raw.push(d) });
  const bytes = typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
  const size = Math.min(step, bytes.length) || 1;
  for (let i = 0; i < bytes.length && !reader.complete; i += size) reader.feed(bytes.subarray(i, i + size));
  if (eof) reader.end();
  return { reader, body: Buffer.concat(body).toString('latin1'), raw: Buffer.concat(raw).toString('latin1') };
}

const badResponse = (err: unknown) => isHastackError(err, 'HASTACK_CHECK_HTTP_BAD_RESPONSE');

test('reader: Content-Length body, split at every byte boundary', () => {
  const wire = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhelloEXTRA';
  for (let step = 1; step <= wire.length; step++) {
    const { reader, body, raw } = parse(wire, step, false);
    assert.equal(reader.complete, true, `step ${step}`);
    assert.equal(reader.truncated, false);
    assert.equal(reader.head?.status, 200);
    assert.equal(reader.head?.reason, 'OK');
    assert.equal(reader.head?.contentLength, 5);
    assert.equal(body, 'hello');
    assert.equal(raw, 'hello');
  }
});

test('reader: chunked body is decoded; raw keeps the framing (genhash)', () => {
  const wire =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nTrailer: x\r\n\r\n';
  for (let step = 1; step <= wire.length; step++) {
    const { reader, body, raw } = parse(wire, step, false);
    assert.equal(reader.complete, true, `step ${step}`);
    assert.equal(reader.head?.chunked, true);
    assert.equal(body, 'hello!');
    assert.equal(raw, '5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nTrailer: x\r\n\r\n');
  }
});

test('reader: chunked wins over Content-Length', () => {
  const { reader, body } = parse(
    'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n',
  );
  assert.equal(reader.head?.contentLength, undefined);
  assert.equal(body, 'ab');
});

test('reader: body without framing ends at EOF', () => {
  const { reader, body } = parse('HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close', 3, false);
  assert.equal(reader.complete, false);
  reader.end();
  assert.equal(reader.complete, true);
  assert.equal(reader.truncated, false);
  assert.equal(reader.head?.version, '1.0');
  assert.equal(body, 'until close');
});

test('reader: bare LF line endings and a status line without reason', () => {
  const { reader, body } = parse('HTTP/1.1 503\nContent-Length: 2\n\nno', 1, false);
  assert.equal(reader.head?.status, 503);
  assert.equal(reader.head?.reason, '');
  assert.equal(body, 'no');
});

test('reader: 1xx interim responses are skipped; 204/304 have no body', () => {
  const { reader, body } = parse(
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz',
  );
  assert.equal(reader.head?.status, 200);
  assert.equal(body, 'z');
  for (const status of [204, 304]) {
    const r = parse(`HTTP/1.1 ${status} X\r\n\r\n`, 1, false).reader;
    assert.equal(r.complete, true);
  }
});

test('reader: EOF before the declared end marks the body truncated', () => {
  const { reader, body } = parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
  assert.equal(reader.complete, true);
  assert.equal(reader.truncated, true);
  assert.equal(body, 'abc');
  const chunked = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab').reader;
  assert.equal(chunked.truncated, true);
});

test('reader: garbage is a bad response', () => {
  for (const wire of [
    'SSH-2.0-OpenSSH_9.6\r\n',
    'hello world\r\n\r\n',
    'HTTP/1.1 abc OK\r\n\r\n',
    'HTTP/1.1 2000 OK\r\n\r\n',
    '\u0000\u0001\u0002binary',
  ]) {
    assert.throws(() => parse(wire, 1), badResponse, JSON.stringify(wire));
  }
});

test('reader: a wrong first byte is rejected at once, before the head is complete', () => {
  const reader = new HttpResponseReader();
  assert.throws(() => reader.feed(Buffer.from('X')), badResponse);
});

test('reader: bad framing headers and chunk sizes are bad responses', () => {
  for (const wire of [
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n',
  ]) {
    assert.throws(() => parse(wire), badResponse, JSON.stringify(wire));
  }
});

test('reader: headers larger than the limit are refused without waiting for the end', () => {
  const reader = new HttpResponseReader({ maxHeadBytes: 100 });
  reader.feed(Buffer.from('HTTP/1.1 200 OK\r\n'));
  assert.throws(() => reader.feed(Buffer.from(`X-Big: ${'a'.repeat(200)}`)), badResponse);
});

test('reader: EOF with nothing, or inside the headers, is a bad response', () => {
  const empty = new HttpResponseReader();
  assert.throws(() => empty.end(), /without a response/);
  assert.equal(empty.receivedAnything, false);
  const partial = new HttpResponseReader();
  partial.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-'));
  assert.throws(() => partial.end(), /inside the response headers/);
});

test('reader: counts decoded body bytes', () => {
  const { reader } = parse(
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n',
  );
  assert.equal(reader.bodyBytes, 10);
});
