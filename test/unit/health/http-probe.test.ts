import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { createHttpProbe, httpProbe } from '../../../src/health/http-probe.ts';
import { httpSpec, never, requireTool, selfSignedCert, startTcpServer, url } from './helpers.ts';

const md5 = (text: string | Buffer) => createHash('md5').update(text).digest('hex');

/** A raw HTTP peer: reads the request head, then answers with whatever `respond` writes. */
async function rawHttpServer(respond: (socket: net.Socket, request: string) => void) {
  const requests: string[] = [];
  const server = await startTcpServer((socket) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      requests.push(head.slice(0, end + 4));
      respond(socket, head.slice(0, end + 4));
    };
    socket.on('data', onData);
  });
  return { ...server, requests, target: { host: '127.0.0.1', port: server.port } };
}

const answer =
  (status: string, body = '', headers = '') =>
  (socket: net.Socket) =>
    socket.end(`HTTP/1.1 ${status}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`);

test('http: 200 is up; the request is a keepalived-style GET with Host ip:port', async () => {
  const server = await rawHttpServer(answer('200 OK', 'fine'));
  try {
    const result = await httpProbe(httpSpec({ urls: [url('/health')] }), server.target, never);
    assert.equal(result.ok, true, result.message);
    assert.match(result.message, /GET \/health: status 200/);
    const request = server.requests[0]!;
    assert.match(request, /^GET \/health HTTP\/1\.1\r\n/);
    assert.match(request, /\r\nConnection: close\r\n/);
    assert.match(request, new RegExp(`\\r\\nHost: 127\\.0\\.0\\.1:${server.port}\\r\\n`));
    assert.match(request, /\r\nUser-Agent: KeepAliveClient/);
  } finally {
    await server.close();
  }
});

test('http: http_protocol 1.0 / 1.0C / 1.1 request lines', async () => {
  const server = await rawHttpServer(answer('200 OK'));
  try {
    for (const httpVersion of ['1.0', '1.0C', '1.1'] as const) {
      const result = await httpProbe(httpSpec({ httpVersion }), server.target, never);
      assert.equal(result.ok, true, result.message);
    }
    const [v10, v10c, v11] = server.requests;
    assert.match(v10!, /^GET \/ HTTP\/1\.0\r\n/);
    assert.doesNotMatch(v10!, /Connection:/);
    assert.match(v10c!, /^GET \/ HTTP\/1\.0\r\n/);
    assert.match(v10c!, /Connection: close/);
    assert.match(v11!, /^GET \/ HTTP\/1\.1\r\n/);
  } finally {
    await server.close();
  }
});

test('http: status outside the accepted ranges is down; custom ranges accept it', async () => {
  const server = await rawHttpServer(answer('503 Service Unavailable', 'busy'));
  try {
    const down = await httpProbe(httpSpec(), server.target, never);
    assert.equal(down.ok, false);
    assert.equal(down.code, 'HASTACK_CHECK_HTTP_STATUS');
    assert.match(down.message, /status 503 not in 200-299/);
    const spec = httpSpec({
      urls: [
        url('/', {
          status: [
            { min: 200, max: 200 },
            { min: 500, max: 503 },
          ],
        }),
      ],
    });
    const up = await httpProbe(spec, server.target, never);
    assert.equal(up.ok, true, up.message);
  } finally {
    await server.close();
  }
});

test('http: Host header is url virtualhost, else the check virtualhost', async () => {
  const server = await rawHttpServer(answer('200 OK'));
  try {
    await httpProbe(httpSpec({ virtualhost: 'check.example' }), server.target, never);
    await httpProbe(
      httpSpec({ virtualhost: 'check.example', urls: [url('/', { virtualhost: 'url.example:8443' })] }),
      server.target,
      never,
    );
    assert.match(server.requests[0]!, /\r\nHost: check\.example\r\n/);
    assert.match(server.requests[1]!, /\r\nHost: url\.example:8443\r\n/);
  } finally {
    await server.close();
  }
});

test('http: MD5 digest of the body must match (case-insensitive hex)', async () => {
  const body = '<html>all good</html>';
  const server = await rawHttpServer(answer('200 OK', body));
  try {
    const ok = await httpProbe(
      httpSpec({ urls: [url('/', { digest: md5(body).toUpperCase() })] }),
      server.target,
      never,
    );
    assert.equal(ok.ok, true, ok.message);
    assert.match(ok.message, /digest ok/);
    const bad = await httpProbe(
      httpSpec({ urls: [url('/', { digest: md5('other') })] }),
      server.target,
      never,
    );
    assert.equal(bad.ok, false);
    assert.equal(bad.code, 'HASTACK_CHECK_HTTP_DIGEST');
    assert.match(bad.message, new RegExp(md5(body)));
  } finally {
    await server.close();
  }
});

test('http: chunked body digest accepts the decoded body and genhash-style raw bytes', async () => {
  const framed = '4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n';
  const server = await rawHttpServer((socket) =>
    socket.end(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${framed}`),
  );
  try {
    const decoded = await httpProbe(
      httpSpec({ urls: [url('/', { digest: md5('wikipedia') })] }),
      server.target,
      never,
    );
    assert.equal(decoded.ok, true, decoded.message);
    const raw = await httpProbe(
      httpSpec({ urls: [url('/', { digest: md5(framed) })] }),
      server.target,
      never,
    );
    assert.equal(raw.ok, true, raw.message);
    const wrong = await httpProbe(
      httpSpec({ urls: [url('/', { digest: md5('wiki') })] }),
      server.target,
      never,
    );
    assert.equal(wrong.code, 'HASTACK_CHECK_HTTP_DIGEST');
  } finally {
    await server.close();
  }
});

test('http: a real node:http server with a chunked streamed body', async () => {
  const server = http.createServer((_req, res) => {
    res.write('part one, ');
    setImmediate(() => res.end('part two'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const spec = httpSpec({
      urls: [url('/', { digest: md5('part one, part two'), bodyRegex: 'part t\\w+' })],
    });
    const result = await httpProbe(spec, { host: '127.0.0.1', port }, never);
    assert.equal(result.ok, true, result.message);
    assert.match(result.message, /digest ok, regex ok/);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('http: body regex must match', async () => {
  const server = await rawHttpServer(answer('200 OK', 'status: GREEN\n'));
  try {
    const ok = await httpProbe(
      httpSpec({ urls: [url('/', { bodyRegex: 'status: (GREEN|YELLOW)' })] }),
      server.target,
      never,
    );
    assert.equal(ok.ok, true, ok.message);
    const bad = await httpProbe(httpSpec({ urls: [url('/', { bodyRegex: 'RED' })] }), server.target, never);
    assert.equal(bad.code, 'HASTACK_CHECK_HTTP_REGEX');
    const invalid = await httpProbe(httpSpec({ urls: [url('/', { bodyRegex: '(' })] }), server.target, never);
    assert.equal(invalid.code, 'HASTACK_CHECK_INVALID');
  } finally {
    await server.close();
  }
});

test('http: garbage and empty responses are down, never a crash', async () => {
  const garbage = await rawHttpServer((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n\u0000\u00ff'));
  const empty = await rawHttpServer((socket) => socket.end());
  const reset = await rawHttpServer((socket) => socket.resetAndDestroy());
  try {
    const a = await httpProbe(httpSpec(), garbage.target, never);
    assert.equal(a.ok, false);
    assert.equal(a.code, 'HASTACK_CHECK_HTTP_BAD_RESPONSE');
    const b = await httpProbe(httpSpec(), empty.target, never);
    assert.equal(b.code, 'HASTACK_CHECK_HTTP_BAD_RESPONSE');
    assert.match(b.message, /without a response/);
    const c = await httpProbe(httpSpec(), reset.target, never);
    assert.equal(c.ok, false);
    assert.equal(c.code, 'ECONNRESET');
  } finally {
    await Promise.all([garbage.close(), empty.close(), reset.close()]);
  }
});

test('http: a body over the cap is refused when the body has to be read', async () => {
  const big = Buffer.alloc(64 * 1024, 0x61);
  const server = await rawHttpServer((socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`);
    socket.end(big);
  });
  try {
    const probe = createHttpProbe({ maxBodyBytes: 1024 });
    const result = await probe(httpSpec({ urls: [url('/', { digest: md5(big) })] }), server.target, never);
    assert.equal(result.ok, false);
    assert.equal(result.code, 'HASTACK_CHECK_HTTP_BODY_TOO_LARGE');
    // Without digest/regex the body is not read at all, so size does not matter.
    const statusOnly = await probe(httpSpec(), server.target, never);
    assert.equal(statusOnly.ok, true, statusOnly.message);
  } finally {
    await server.close();
  }
});

test('http: a status-only check does not wait for the body', async () => {
  const server = await rawHttpServer((socket) =>
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'),
  );
  try {
    const result = await httpProbe(httpSpec({ timeoutMs: 5000 }), server.target, never);
    assert.equal(result.ok, true, result.message);
  } finally {
    await server.close();
  }
});

test('http: body cut short before Content-Length is down when a digest needs it', async () => {
  const server = await rawHttpServer((socket) =>
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'),
  );
  try {
    const result = await httpProbe(
      httpSpec({ urls: [url('/', { digest: md5('short') })] }),
      server.target,
      never,
    );
    assert.equal(result.code, 'HASTACK_CHECK_HTTP_TRUNCATED');
  } finally {
    await server.close();
  }
});

test('http: a server that accepts but never answers times out', async () => {
  const server = await rawHttpServer(() => {});
  try {
    const result = await httpProbe(httpSpec({ timeoutMs: 200, urls: [url('/slow')] }), server.target, never);
    assert.equal(result.ok, false);
    assert.equal(result.code, 'HASTACK_CHECK_TIMEOUT');
    assert.match(result.message, /GET \/slow/);
  } finally {
    await server.close();
  }
});

test('http: every url is checked on its own connection; the first failure decides', async () => {
  const server = await rawHttpServer((socket, request) => {
    if (request.startsWith('GET /b ')) answer('500 Oops')(socket);
    else answer('200 OK')(socket);
  });
  try {
    const spec = httpSpec({ urls: [url('/a'), url('/b'), url('/c')] });
    const result = await httpProbe(spec, server.target, never);
    assert.equal(result.ok, false);
    assert.match(result.message, /GET \/b: status 500/);
    assert.equal(server.requests.length, 2);
    const ok = await httpProbe(httpSpec({ urls: [url('/a'), url('/c')] }), server.target, never);
    assert.equal(ok.ok, true, ok.message);
    assert.match(ok.message, /2 urls ok/);
  } finally {
    await server.close();
  }
});

test('https: self-signed certificate, SNI from virtualhost, verifyTls', async (t) => {
  if (!(await requireTool(t, 'openssl'))) return;
  const { key, cert } = await selfSignedCert();
  const servernames: (string | false)[] = [];
  const hosts: string[] = [];
  const server = tls.createServer({ key, cert }, (socket) => {
    servernames.push((socket as tls.TLSSocket & { servername: string | false }).servername);
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      hosts.push(/\r\nHost: ([^\r]*)\r\n/.exec(chunk.toString('latin1'))?.[1] ?? '');
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
  try {
    const viaVhost = await httpProbe(
      httpSpec({ tls: true, virtualhost: 'app.example', urls: [url('/', { digest: md5('ok') })] }),
      target,
      never,
    );
    assert.equal(viaVhost.ok, true, viaVhost.message);
    const explicitSni = await httpProbe(
      httpSpec({ tls: true, virtualhost: 'app.example', sni: 'localhost' }),
      target,
      never,
    );
    assert.equal(explicitSni.ok, true, explicitSni.message);
    const noName = await httpProbe(httpSpec({ tls: true }), target, never);
    assert.equal(noName.ok, true, noName.message);
    const verified = await httpProbe(
      httpSpec({ tls: true, verifyTls: true, sni: 'localhost' }),
      target,
      never,
    );
    assert.equal(verified.ok, false);
    assert.match(verified.code ?? '', /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    assert.deepEqual(servernames.slice(0, 3), ['app.example', 'localhost', false]);
    assert.deepEqual(hosts.slice(0, 2), ['app.example', 'app.example']);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
