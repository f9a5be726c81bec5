import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_HEAD_LIMITS,
  headIncomplete,
  parseRequestHead,
  parseResponseHead,
  type RequestHead,
} from '../../../src/http/http1-head.ts';
import { isParseFailure, type ParseFailure } from '../../../src/http/parse-failure.ts';

function req(text: string, limits = DEFAULT_HEAD_LIMITS): RequestHead | ParseFailure | undefined {
  const buf = Buffer.from(text, 'latin1');
  return parseRequestHead(buf, 0, buf.length, limits);
}

function ok(text: string): RequestHead {
  const r = req(text);
  assert.ok(r !== undefined && !isParseFailure(r), `expected a head, got ${JSON.stringify(r)}`);
  return r;
}

function fails(text: string, status: number): ParseFailure {
  const r = req(text);
  assert.ok(isParseFailure(r), `expected ${status}, got ${JSON.stringify(r)}`);
  assert.equal(r.status, status, r.message);
  assert.match(r.code, /^HASTACK_HTTP_/);
  return r;
}

describe('request heads: well-formed', () => {
  it('parses the request line, fields and framing', () => {
    const h = ok(
      'GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: Example.com\r\nUser-Agent: t\r\nX-Y:  spaced value \t\r\n\r\n',
    );
    assert.equal(h.method, 'GET');
    assert.equal(h.target, '/a/b?x=1&y=2');
    assert.equal(h.path, '/a/b');
    assert.equal(h.query, '?x=1&y=2');
    assert.equal(h.host, 'Example.com');
    assert.equal(h.versionMinor, 1);
    assert.deepEqual(h.headers, ['host', 'Example.com', 'user-agent', 't', 'x-y', 'spaced value']);
    assert.equal(h.contentLength, -1);
    assert.equal(h.chunked, false);
    assert.equal(
      h.headLength,
      Buffer.byteLength(
        'GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: Example.com\r\nUser-Agent: t\r\nX-Y:  spaced value \t\r\n\r\n',
      ),
    );
  });

  it('skips empty lines before the request line (RFC 9112 §2.2)', () => {
    const h = ok('\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(h.method, 'GET');
    assert.equal(h.headLength, 4 + 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'.length);
  });

  it('waits for the blank line', () => {
    assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\n'), undefined);
    assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\n\r'), undefined);
  });

  it('reads Connection tokens, keep-alive, close, upgrade and Expect', () => {
    const h = ok(
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, X-Secret\r\nConnection: close\r\nUpgrade: WebSocket\r\nExpect: 100-Continue\r\n\r\n',
    );
    assert.deepEqual(h.connectionTokens, ['upgrade', 'x-secret', 'close']);
    assert.equal(h.connectionClose, true);
    assert.equal(h.connectionUpgrade, true);
    assert.equal(h.upgrade, 'websocket');
    assert.equal(h.expectContinue, true);
  });

  it('accepts HTTP/1.0 without Host', () => {
    const h = ok('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    assert.equal(h.versionMinor, 0);
    assert.equal(h.host, '');
    assert.equal(h.connectionKeepAlive, true);
  });

  it('accepts identical repeated Content-Length values', () => {
    assert.equal(
      ok('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n').contentLength,
      5,
    );
    assert.equal(ok('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n\r\n').contentLength, 7);
  });

  it('takes chunked bodies', () => {
    const h = ok('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n');
    assert.equal(h.chunked, true);
    assert.equal(h.contentLength, -1);
  });

  it('converts absolute-form to origin-form; the authority replaces Host', () => {
    const h = ok('GET http://Other.example:8080/p/q?z=1 HTTP/1.1\r\nHost: ignored\r\n\r\n');
    assert.equal(h.absoluteForm, true);
    assert.equal(h.host, 'Other.example:8080');
    assert.equal(h.path, '/p/q');
    assert.equal(h.query, '?z=1');
    assert.equal(ok('GET https://x.test HTTP/1.1\r\nHost: x.test\r\n\r\n').path, '/');
  });

  it('accepts OPTIONS *', () => {
    assert.equal(ok('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n').path, '*');
  });

  it('keeps obs-text (bytes ≥ 0x80) in values', () => {
    assert.equal(ok('GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n').headers[3], 'caf\xe9');
  });
});

describe('request heads: malformed and smuggling attempts', () => {
  it('rejects Content-Length together with Transfer-Encoding (CL.TE / TE.CL)', () => {
    fails('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n', 400);
    fails('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n', 400);
  });

  it('rejects conflicting or malformed Content-Length', () => {
    fails('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 400);
    fails('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n', 400);
    fails('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n', 400);
    fails('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n', 400);
    fails('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n', 400);
    fails('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n', 400);
    fails('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n', 400);
  });

  it('rejects transfer codings that hide the body length', () => {
    fails('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 400);
    fails('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400);
    fails(
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
    );
    fails('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n', 400);
    fails('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', 400);
    fails('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400);
    fails('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501);
  });

  it('rejects whitespace before the colon and obs-fold', () => {
    fails('GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\n Host: a\r\n\r\n', 400);
  });

  it('rejects NUL, bare CR and bare LF in fields', () => {
    fails('GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n', 400);
    fails('GET / HTTP/1.1\nHost: a\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nX\0Y: a\r\nHost: a\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n', 400);
  });

  it('rejects invalid field names', () => {
    fails('GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a\r\nBad[name]: x\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a\r\nno-colon\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a\r\nX\xe9: x\r\n\r\n', 400);
  });

  it('rejects malformed request lines', () => {
    fails('GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    fails('GET / HTTP/1.1 \r\nHost: a\r\n\r\n', 400);
    fails('GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    fails('GET / http/1.1\r\nHost: a\r\n\r\n', 400);
    fails('GET / HTTP/1.x\r\nHost: a\r\n\r\n', 400);
    fails('G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    fails('GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    fails('GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    fails('GET /#frag HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    fails('GET\tX / HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    fails('GET x HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    fails('GET * HTTP/1.1\r\nHost: a\r\n\r\n', 400);
  });

  it('answers 505 to other HTTP versions', () => {
    fails('GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505);
    fails('GET / HTTP/1.2\r\nHost: a\r\n\r\n', 505);
    fails('GET / HTTP/0.9\r\nHost: a\r\n\r\n', 505);
  });

  it('requires exactly one valid Host in HTTP/1.1', () => {
    fails('GET / HTTP/1.1\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400);
    fails('GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 400);
  });

  it('rejects absolute-form with userinfo and refuses CONNECT', () => {
    fails('GET http://user@evil/ HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    fails('GET ftp://x/ HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    fails('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405);
  });

  it('enforces the limits: 414 for the request line, 431 for the header section and count', () => {
    const limits = { maxRequestLine: 64, maxHeaderBytes: 256, maxHeaders: 3 };
    const longLine = `GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`;
    assert.equal((req(longLine, limits) as ParseFailure).status, 414);
    const bigHead = `GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(300)}\r\n\r\n`;
    assert.equal((req(bigHead, limits) as ParseFailure).status, 431);
    const many = 'GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n';
    assert.equal((req(many, limits) as ParseFailure).status, 431);
  });

  it('rejects an incomplete head that already exceeds a limit (very long lines)', () => {
    const limits = { maxRequestLine: 64, maxHeaderBytes: 256, maxHeaders: 10 };
    const line = Buffer.from(`GET /${'a'.repeat(200)}`);
    assert.equal(headIncomplete(line, 0, line.length, limits)?.status, 414);
    const field = Buffer.from(`GET / HTTP/1.1\r\nX: ${'b'.repeat(400)}`);
    assert.equal(headIncomplete(field, 0, field.length, limits)?.status, 431);
    const fine = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n');
    assert.equal(headIncomplete(fine, 0, fine.length, limits), undefined);
  });
});

describe('response heads', () => {
  const res = (text: string) => {
    const buf = Buffer.from(text, 'latin1');
    return parseResponseHead(buf, 0, buf.length);
  };

  it('parses status, reason and framing', () => {
    const r = res('HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A: b\r\n\r\nbody');
    assert.ok(r !== undefined && !isParseFailure(r));
    assert.equal(r.status, 200);
    assert.equal(r.reason, 'OK');
    assert.equal(r.contentLength, 12);
    assert.equal(r.headLength, 'HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A: b\r\n\r\n'.length);
  });

  it('accepts an empty reason phrase', () => {
    const r = res('HTTP/1.1 204\r\n\r\n');
    assert.ok(r !== undefined && !isParseFailure(r));
    assert.equal(r.status, 204);
    assert.equal(r.reason, '');
  });

  it('lets Transfer-Encoding override Content-Length', () => {
    const r = res('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n');
    assert.ok(r !== undefined && !isParseFailure(r));
    assert.equal(r.chunked, true);
    assert.equal(r.contentLength, -1);
  });

  it('answers 502 to malformed responses', () => {
    for (const bad of [
      'HTTP/1.1 2000 OK\r\n\r\n',
      'HTTP/1.1 099 X\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
      'HTTP/1.1 200 OK\r\n folded\r\n\r\n',
      'HTTX/1.1 200 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n',
    ]) {
      const r = res(bad);
      assert.ok(isParseFailure(r), bad);
      assert.equal(r.status, 502, bad);
    }
  });

  it('applies the status-line limit to a complete head too', () => {
    const limits = { ...DEFAULT_HEAD_LIMITS, maxRequestLine: 64 };
    const long = Buffer.from(`HTTP/1.1 200 ${'O'.repeat(80)}\r\n\r\n`, 'latin1');
    const r = parseResponseHead(long, 0, long.length, limits);
    assert.ok(isParseFailure(r));
    assert.equal(r.status, 502);
    assert.match(r.message, /status line too long/);
    const fits = Buffer.from('HTTP/1.1 200 OK\r\n\r\n', 'latin1');
    assert.ok(!isParseFailure(parseResponseHead(fits, 0, fits.length, limits)));
  });
});
