import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  type RunningProxy,
  rawExchange,
  request,
  startProxy,
  startUpstream,
  type Upstream,
} from './http-helpers.ts';

/*
 * The HTTP/1.1 data path over real sockets: parser conformance and smuggling
 * attempts (answered with the right status, connection closed, nothing sent
 * upstream), pipelining, bodies, limits and keep-alive.
 */

function statusOf(data: string): number {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(data);
  return m === null ? 0 : Number(m[1]);
}

function countResponses(data: string): number {
  return data.split(/HTTP\/1\.1 \d{3} /).length - 1;
}

describe('http proxy: wire protocol', () => {
  let up: Upstream;
  let proxy: RunningProxy;

  before(async () => {
    up = await startUpstream('up');
    proxy = await startProxy({
      listeners: [
        {
          listen: '127.0.0.1:0',
          limits: { max_request_line: 1024, max_header_size: 4096, max_headers: 20, max_body_size: 1000 },
          keepalive: { idle_timeout: '2s', max_requests: 3 },
          routes: [{ pool: 'up' }],
        },
      ],
      pools: { up: { servers: [{ address: up.address }] } },
    });
  });

  after(async () => {
    await proxy?.stop();
    await up?.close();
  });

  const smuggling: [string, string, number][] = [
    [
      'CL.TE',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED',
      400,
    ],
    [
      'TE.CL',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n',
      400,
    ],
    [
      'TE with a space before the colon',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    ['obfuscated TE', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n', 400],
    [
      'duplicate Content-Length',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
      400,
    ],
    [
      'bad chunk size',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
      400,
    ],
    [
      'chunk size overflow',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n',
      400,
    ],
    [
      'chunk without CRLF after data',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n',
      400,
    ],
    ['NUL in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n', 400],
    ['bare CR in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n', 400],
    ['bare LF line end', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: a\r\n  folded\r\n\r\n', 400],
    ['missing Host', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['very long request line', `GET /${'a'.repeat(2000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
    ['very long header line', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(5000)}\r\n\r\n`, 431],
    [
      'too many fields',
      `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 25 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`,
      431,
    ],
    ['unsupported version', 'GET / HTTP/3.0\r\nHost: a\r\n\r\n', 505],
    [
      'unknown transfer coding',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
      501,
    ],
    [
      'body over the limit (Content-Length)',
      `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n`,
      413,
    ],
    [
      'body over the limit (chunked)',
      `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n${'x'.repeat(2000)}\r\n0\r\n\r\n`,
      413,
    ],
    ['path climbing above the root', 'GET /a/../../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ];

  for (const [name, payload, status] of smuggling) {
    it(`answers ${status} and closes: ${name}`, async () => {
      const before = up.seen.length;
      const r = await rawExchange(proxy.port, payload);
      assert.equal(statusOf(r.data), status, r.data.slice(0, 200));
      assert.match(r.data, /connection: close\r\n/i);
      assert.equal(r.closed, true, 'the connection is closed');
      assert.equal(countResponses(r.data), 1, 'nothing after the error (no smuggled request)');
      assert.equal(up.seen.length, before, 'nothing reached the upstream');
    });
  }

  it('an unfinished head past the limits is refused before it completes', async () => {
    const r = await rawExchange(proxy.port, `GET /${'a'.repeat(3000)}`);
    assert.equal(statusOf(r.data), 414);
    assert.equal(r.closed, true);
  });

  it('answers pipelined requests in order on one connection', async () => {
    const r = await rawExchange(
      proxy.port,
      'GET /one HTTP/1.1\r\nHost: a\r\n\r\nPOST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      3000,
    );
    assert.equal(countResponses(r.data), 3);
    const urls = [...r.data.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(urls, ['/one', '/two', '/three']);
    assert.match(r.data, /"body":"abc"/);
    assert.equal(r.closed, true);
  });

  it('streams chunked request bodies to the upstream', async () => {
    const r = await rawExchange(
      proxy.port,
      'POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n',
      3000,
    );
    assert.equal(statusOf(r.data), 200);
    assert.match(r.data, /"body":"Wikipedia"/);
    const seen = up.seen.at(-1)!;
    assert.equal(seen.headers['transfer-encoding'], 'chunked');
  });

  it('answers 100 Continue itself and forwards the body', async () => {
    const r = await rawExchange(
      proxy.port,
      'PUT /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok',
      3000,
    );
    assert.match(r.data, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.equal(up.seen.at(-1)!.headers.expect, undefined);
  });

  it('closes after max_requests and says so on the last response', async () => {
    const one = 'GET /k HTTP/1.1\r\nHost: a\r\n\r\n';
    const r = await rawExchange(proxy.port, one + one + one + one, 3000);
    assert.equal(countResponses(r.data), 3, 'the fourth request is not read');
    assert.equal((r.data.match(/connection: close/gi) ?? []).length, 1);
    assert.equal(r.closed, true);
  });

  it('keeps HTTP/1.0 connections alive only on request', async () => {
    const closed = await rawExchange(proxy.port, 'GET /10 HTTP/1.0\r\n\r\n', 3000);
    assert.equal(statusOf(closed.data), 200);
    assert.equal(closed.closed, true);
    const kept = await rawExchange(proxy.port, 'GET /10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 600);
    assert.match(kept.data, /connection: keep-alive\r\n/i);
    assert.equal(kept.closed, false);
  });

  it('closes idle keep-alive connections after the idle timeout', async () => {
    const socket = net.connect(proxy.port, '127.0.0.1');
    const closed = new Promise<number>((resolve) => {
      const t0 = Date.now();
      socket.on('close', () => resolve(Date.now() - t0));
    });
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.write('GET /idle HTTP/1.1\r\nHost: a\r\n\r\n');
    const elapsed = await closed;
    assert.ok(elapsed >= 1000, `closed after ${elapsed} ms`);
  });

  it('answers 404 when no route matches and keeps the connection', async () => {
    const p = await startProxy({
      listeners: [{ listen: '127.0.0.1:0', routes: [{ match: { path: '/only' }, respond: { body: 'x' } }] }],
    });
    try {
      const r = await rawExchange(
        p.port,
        'GET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /only HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
        3000,
      );
      assert.equal(statusOf(r.data), 404);
      assert.equal(countResponses(r.data), 2);
    } finally {
      await p.stop();
    }
  });

  it('forwards HEAD without a body and keeps Content-Length', async () => {
    const r = await request(proxy.port, { method: 'HEAD', path: '/head' });
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
  });
});
