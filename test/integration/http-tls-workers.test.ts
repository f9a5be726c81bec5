import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { httpSectionSchema } from '../../src/http/config-schema.ts';
import { json, request, startProxy, startUpstream, type Upstream, waitFor } from './http-helpers.ts';

/*
 * TLS termination with a certificate per SNI name (and reload), HTTP/2 from
 * clients over ALPN, and multi-core workers sharing the port and health state.
 */

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function makeCert(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

function peerName(
  port: number,
  servername: string,
  alpn: string[] = ['http/1.1'],
): Promise<{ cn: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { port, host: '127.0.0.1', servername, rejectUnauthorized: false, ALPNProtocols: alpn },
      () => {
        const cn = String(s.getPeerCertificate().subject?.CN ?? '');
        const proto = s.alpnProtocol;
        s.destroy();
        resolve({ cn, alpn: proto });
      },
    );
    s.on('error', reject);
  });
}

function h1OverTls(port: number, servername: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { port, host: '127.0.0.1', servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] },
      () => {
        s.write(`GET ${path} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
      },
    );
    let data = '';
    s.on('data', (c) => (data += c.toString('latin1')));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

describe('http proxy: TLS, HTTP/2 and workers', {
  skip: !haveOpenssl() && process.env.CI === undefined ? 'openssl missing' : false,
}, () => {
  let dir: string;
  let up: Upstream;
  let a: { cert: string; key: string };
  let b: { cert: string; key: string };

  before(async () => {
    assert.ok(haveOpenssl(), 'openssl is needed for the TLS fixtures');
    dir = mkdtempSync(join(tmpdir(), 'hastack-http-tls-'));
    a = makeCert(dir, 'a.test');
    b = makeCert(dir, 'b.test');
    up = await startUpstream('up');
  });

  after(async () => {
    await up?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('terminates TLS with the certificate of the SNI name, speaks h2 by ALPN, and reloads certificates', async () => {
    const section = (certs: { cert: string; key: string }[]) => ({
      listeners: [
        { name: 'tls', listen: '127.0.0.1:0', tls: { certificates: certs }, routes: [{ pool: 'up' }] },
      ],
      pools: { up: { servers: [{ address: up.address }] } },
    });
    const p = await startProxy(section([a, b]));
    try {
      assert.deepEqual(await peerName(p.port, 'a.test'), { cn: 'a.test', alpn: 'http/1.1' });
      assert.equal((await peerName(p.port, 'b.test')).cn, 'b.test');
      assert.equal(
        (await peerName(p.port, 'unknown.test')).cn,
        'a.test',
        'the first certificate is the default',
      );
      const h1 = await h1OverTls(p.port, 'b.test', '/over-tls');
      assert.match(h1, /^HTTP\/1\.1 200 /);
      assert.match(h1, /"x-forwarded-proto":"https"/);

      const client = http2.connect(`https://127.0.0.1:${p.port}`, {
        servername: 'a.test',
        rejectUnauthorized: false,
      });
      client.on('error', () => {});
      const body = await new Promise<string>((resolve, reject) => {
        const req = client.request({ ':path': '/h2?x=1', ':method': 'POST', 'x-test': 'yes' });
        let data = '';
        req.on('response', (h) => assert.equal(h[':status'], 200));
        req.on('data', (c) => (data += c));
        req.on('end', () => resolve(data));
        req.on('error', reject);
        req.end('h2-body');
      });
      client.close();
      const seen = JSON.parse(body);
      assert.equal(seen.url, '/h2?x=1');
      assert.equal(seen.method, 'POST');
      assert.equal(seen.body, 'h2-body');
      assert.equal(seen.headers['x-test'], 'yes');
      assert.ok(String(seen.headers.host).endsWith(`:${p.port}`), 'the :authority becomes Host');
      assert.ok(p.service.snapshot()!.listeners[0]!.stats.h2Streams >= 1);

      // SIGHUP path: a reload with b.test only; a.test now gets the default (b.test).
      await p.service.update(httpSectionSchema.parse(section([b])));
      assert.equal((await peerName(p.port, 'a.test')).cn, 'b.test');
      // A broken certificate rejects the reload and the old one keeps running.
      await assert.rejects(
        p.service.update(httpSectionSchema.parse(section([{ cert: join(dir, 'nope.crt'), key: a.key }]))),
        {
          code: 'HASTACK_HTTP_TLS',
        },
      );
      assert.equal((await peerName(p.port, 'b.test')).cn, 'b.test');
    } finally {
      await p.stop();
    }
  });

  it('runs worker threads on one port that share health state', async () => {
    const other = await startUpstream('other');
    const p = await startProxy({
      workers: 2,
      listeners: [{ name: 'mw', listen: '127.0.0.1:0', routes: [{ pool: 'p' }] }],
      pools: {
        p: {
          scheduler: 'rr',
          servers: [{ address: up.address }, { address: other.address }],
          health_check: { type: 'tcp', interval: '1h' },
        },
      },
    });
    try {
      const names = new Set<string>();
      for (let i = 0; i < 12; i++) names.add(json(await request(p.port, { path: `/w${i}` })).name);
      assert.deepEqual([...names].sort(), ['other', 'up']);
      p.health.set(`http/p/${up.address}`, false);
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 12; i++)
        assert.equal(json(await request(p.port, { path: `/d${i}` })).name, 'other');
      await waitFor(
        () => (p.service.snapshot()?.listeners[0]?.stats.requests ?? 0) >= 24,
        5000,
        'stats from both workers',
      );
      const snap = p.service.snapshot()!;
      assert.equal(snap.workers, 2);
      assert.equal(snap.pools[0]!.servers[0]!.healthy, false);
    } finally {
      await p.stop();
      await other.close();
    }
  });
});
