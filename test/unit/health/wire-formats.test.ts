import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHastackError } from '../../../src/core/errors.ts';
import {
  decodeDnsHeader,
  encodeDnsQuery,
  encodeDnsResponseHeader,
  rcodeName,
} from '../../../src/health/dns-wire.ts';
import {
  buildHttpRequest,
  formatStatusRanges,
  hostHeader,
  statusAccepted,
} from '../../../src/health/http-request.ts';
import { SmtpReplyReader } from '../../../src/health/smtp-reply.ts';
import { url } from './helpers.ts';

test('http request: 1.0 has no Connection header, 1.0C and 1.1 close', () => {
  assert.equal(
    buildHttpRequest('/health', 'a.example', '1.0'),
    'GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient (hastack)\r\nHost: a.example\r\n\r\n',
  );
  assert.equal(
    buildHttpRequest('/h?x=1', 'a.example', '1.0C'),
    'GET /h?x=1 HTTP/1.0\r\nUser-Agent: KeepAliveClient (hastack)\r\nConnection: close\r\nHost: a.example\r\n\r\n',
  );
  assert.match(buildHttpRequest('/', 'h', '1.1'), /^GET \/ HTTP\/1\.1\r\n.*Connection: close\r\n/s);
});

test('http request: refuses paths and hosts that would break the request', () => {
  for (const [path, host] of [
    ['/a b', 'h'],
    ['/a\r\nX: y', 'h'],
    ['', 'h'],
    ['/', 'h\r\nX: y'],
    ['/', ''],
  ]) {
    assert.throws(
      () => buildHttpRequest(path!, host!, '1.1'),
      (err) => isHastackError(err, 'HASTACK_CHECK_INVALID'),
    );
  }
});

test('http request: Host is url virtualhost, else check virtualhost, else the address probed', () => {
  const endpoint = { host: '10.0.0.5', port: 8080 };
  assert.equal(hostHeader(url('/', { virtualhost: 'u.example' }), 'c.example', endpoint), 'u.example');
  assert.equal(hostHeader(url('/'), 'c.example', endpoint), 'c.example');
  assert.equal(hostHeader(url('/'), undefined, endpoint), '10.0.0.5:8080');
  assert.equal(hostHeader(url('/'), undefined, { host: '2001:db8::1', port: 80 }), '[2001:db8::1]:80');
});

test('http status ranges', () => {
  const ranges = [
    { min: 200, max: 299 },
    { min: 401, max: 401 },
  ];
  assert.equal(statusAccepted(200, ranges), true);
  assert.equal(statusAccepted(299, ranges), true);
  assert.equal(statusAccepted(401, ranges), true);
  assert.equal(statusAccepted(300, ranges), false);
  assert.equal(statusAccepted(500, []), false);
  assert.equal(formatStatusRanges(ranges), '200-299,401');
});

test('dns wire: root SOA query with RD, matching keepalived', () => {
  const query = encodeDnsQuery(0xbeef, '.', 'SOA');
  assert.deepEqual(
    [...query],
    [0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, /* root */ 0, /* SOA */ 0, 6, /* IN */ 0, 1],
  );
});

test('dns wire: names with and without a trailing dot encode the same', () => {
  const a = encodeDnsQuery(1, 'www.example.com', 'AAAA');
  const b = encodeDnsQuery(1, 'www.example.com.', 'AAAA');
  assert.deepEqual(a, b);
  assert.deepEqual(
    [...a.subarray(12)],
    [3, ...Buffer.from('www'), 7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0, 0, 28, 0, 1],
  );
  const mx = encodeDnsQuery(1, 'example.com', 'MX');
  assert.equal(mx.readUInt16BE(mx.length - 4), 15);
});

test('dns wire: labels over 63 bytes and names over 255 bytes are refused', () => {
  const badName = (err: unknown) => isHastackError(err, 'HASTACK_CHECK_DNS_BAD_NAME');
  assert.throws(() => encodeDnsQuery(1, `${'a'.repeat(64)}.com`, 'A'), badName);
  assert.throws(() => encodeDnsQuery(1, Array(60).fill('abcd').join('.'), 'A'), badName);
});

test('dns wire: header decoding', () => {
  const header = decodeDnsHeader(encodeDnsResponseHeader(0x1234, 2, 3));
  assert.deepEqual(header, { id: 0x1234, qr: true, opcode: 0, tc: false, rcode: 2, qdcount: 0, ancount: 3 });
  assert.equal(decodeDnsHeader(encodeDnsQuery(7, '.', 'A'))?.qr, false);
  assert.equal(decodeDnsHeader(Buffer.alloc(11)), undefined);
  assert.equal(rcodeName(2), 'SERVFAIL');
  assert.equal(rcodeName(9), 'RCODE9');
});

test('smtp replies: single and multi-line, split anywhere', () => {
  const wire = '220-mail.example ESMTP\r\n220-second line\r\n220 ready\r\n250 ok\r\n';
  for (let step = 1; step <= wire.length; step++) {
    const reader = new SmtpReplyReader();
    const replies = [];
    for (let i = 0; i < wire.length; i += step)
      replies.push(...reader.feed(Buffer.from(wire.slice(i, i + step))));
    assert.deepEqual(replies, [
      { code: 220, lines: ['mail.example ESMTP', 'second line', 'ready'] },
      { code: 250, lines: ['ok'] },
    ]);
  }
});

test('smtp replies: a bare code is a reply; garbage and changing codes are errors', () => {
  assert.deepEqual(new SmtpReplyReader().feed(Buffer.from('250\n')), [{ code: 250, lines: [''] }]);
  const bad = (err: unknown) => isHastackError(err, 'HASTACK_CHECK_SMTP_BAD_REPLY');
  assert.throws(() => new SmtpReplyReader().feed(Buffer.from('HTTP/1.1 400 Bad\r\n')), bad);
  assert.throws(() => new SmtpReplyReader().feed(Buffer.from('220-a\r\n250 b\r\n')), bad);
  assert.throws(() => new SmtpReplyReader().feed(Buffer.alloc(5000, 0x41)), bad);
});
