import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  json,
  type RunningProxy,
  rawExchange,
  request,
  startProxy,
  startUpstream,
  type Upstream,
} from './http-helpers.ts';

/*
 * Every routing, rewrite and header rule end to end: a real proxy in front of
 * real upstream servers that report what they received.
 */

describe('http proxy: routing, rewrite and headers end to end', () => {
  let app: Upstream;
  let stat: Upstream;
  let mobile: Upstream;
  let legacy: Upstream;
  let proxy: RunningProxy;
  let dir: string;

  before(async () => {
    app = await startUpstream('app', (req, res, body) => {
      res.setHeader('x-upstream', 'app');
      res.setHeader('server', 'secret-server/1.0');
      res.setHeader('connection', 'x-hop-res');
      res.setHeader('x-hop-res', 'should-not-pass');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: 'app', method: req.method, url: req.url, headers: req.headers, body }));
    });
    stat = await startUpstream('static');
    mobile = await startUpstream('mobile');
    legacy = await startUpstream('legacy');
    dir = mkdtempSync(join(tmpdir(), 'hastack-http-static-'));
    writeFileSync(join(dir, 'index.html'), '<h1>home</h1>\n');
    writeFileSync(join(dir, 'app.css'), 'body{}\n');
    utimesSync(join(dir, 'app.css'), new Date('2024-01-01T00:00:00Z'), new Date('2024-01-01T00:00:00Z'));
    proxy = await startProxy({
      listeners: [
        {
          name: 'front',
          listen: '127.0.0.1:0',
          trusted_proxies: ['10.0.0.0/8'],
          forwarded: true,
          routes: [
            { name: 'assets', match: { path_prefix: '/assets/' }, static: { root: dir, strip_prefix: true } },
            { name: 'static', match: { path_prefix: '/static/' }, pool: 'static' },
            { name: 'mobile', match: { header: { 'user-agent': '~*(iPhone|Android)' } }, pool: 'mobile' },
            {
              name: 'legacy',
              match: { path_regex: '^/old/(.*)$' },
              rewrite: { path: '/legacy?page=$1' },
              pool: 'legacy',
            },
            {
              name: 'rewrite-own-regex',
              match: { path_prefix: '/v1/' },
              rewrite: { regex: '^/v1/(\\w+)/(\\d+)$', path: '/api/$1?id=$2' },
              pool: 'legacy',
            },
            { name: 'vhost', match: { host: '*.shop.test' }, pool: 'static' },
            { name: 'posts', match: { method: ['POST'], path: '/submit' }, pool: 'mobile' },
            { name: 'query', match: { query: { variant: '~^b$' } }, pool: 'mobile' },
            {
              name: 'internal',
              match: { path_prefix: '/internal/', client_ip: ['10.0.0.0/8'] },
              pool: 'static',
            },
            {
              name: 'forbidden',
              match: { path_prefix: '/internal/' },
              respond: { status: 403, body: 'no\n' },
            },
            {
              name: 'moved',
              match: { path_regex: '^/moved/(.*)$' },
              redirect: { to: 'https://new.test/$1?from=$host', status: 301 },
            },
            {
              name: 'health',
              match: { path: '/ping' },
              respond: { body: 'pong\n', headers: { 'x-ping': '1' } },
            },
            {
              name: 'headers',
              match: { path_prefix: '/h/' },
              request_headers: {
                set: { 'x-env': 'prod' },
                add: { 'x-added': 'by-$method' },
                remove: ['x-remove-me'],
              },
              response_headers: {
                set: { 'x-frame-options': 'DENY' },
                add: { 'x-route': 'headers' },
                remove: ['server'],
              },
              pool: 'app',
            },
            { name: 'only-get', match: { path_prefix: '/exact', path: undefined }, pool: 'app' },
          ],
        },
      ],
      pools: {
        app: { servers: [{ address: app.address }] },
        static: { servers: [{ address: stat.address }] },
        mobile: { servers: [{ address: mobile.address }] },
        legacy: { servers: [{ address: legacy.address }] },
      },
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([app, stat, mobile, legacy].map((u) => u?.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes by path prefix, User-Agent regex (case-insensitive), host, method and query', async () => {
    assert.equal(json(await request(proxy.port, { path: '/static/app.js' })).name, 'static');
    assert.equal(
      json(await request(proxy.port, { path: '/x', headers: { 'user-agent': 'Mozilla/5.0 (iphone)' } })).name,
      'mobile',
    );
    assert.equal(
      json(await request(proxy.port, { path: '/x', headers: { host: 'www.shop.test' } })).name,
      'static',
    );
    assert.equal(
      json(await request(proxy.port, { method: 'POST', path: '/submit', body: 'a=1' })).name,
      'mobile',
    );
    assert.equal(json(await request(proxy.port, { path: '/q?variant=b' })).name, 'mobile');
    assert.equal(
      (await request(proxy.port, { path: '/submit' })).status,
      404,
      'GET /submit matches no route',
    );
  });

  it('rewrites legacy URLs with regex captures, keeping the original query as nginx does', async () => {
    const r = json(await request(proxy.port, { path: '/old/catalog/7?lang=en' }));
    assert.equal(r.name, 'legacy');
    assert.equal(r.url, '/legacy?page=catalog/7&lang=en');
    assert.equal(json(await request(proxy.port, { path: '/v1/users/42' })).url, '/api/users?id=42');
  });

  it('matches the client address, believing X-Forwarded-For only from trusted proxies', async () => {
    // 127.0.0.1 is not trusted: the header is ignored and replaced.
    const r = await request(proxy.port, { path: '/internal/x', headers: { 'x-forwarded-for': '10.1.1.1' } });
    assert.equal(r.status, 403);
    assert.equal(r.body, 'no\n');
  });

  it('answers redirects and fixed responses', async () => {
    const r = await request(proxy.port, { path: '/moved/a/b', headers: { host: 'old.test' } });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'https://new.test/a/b?from=old.test');
    const p = await request(proxy.port, { path: '/ping' });
    assert.equal(p.status, 200);
    assert.equal(p.body, 'pong\n');
    assert.equal(p.headers['x-ping'], '1');
  });

  it('serves static files with index, types and conditional 304', async () => {
    const css = await request(proxy.port, { path: '/assets/app.css' });
    assert.equal(css.status, 200);
    assert.equal(css.body, 'body{}\n');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(css.headers['last-modified'], 'Mon, 01 Jan 2024 00:00:00 GMT');
    const again = await request(proxy.port, {
      path: '/assets/app.css',
      headers: { 'if-none-match': String(css.headers.etag) },
    });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    assert.equal((await request(proxy.port, { path: '/assets/' })).body, '<h1>home</h1>\n');
    assert.equal((await request(proxy.port, { path: '/assets/missing.txt' })).status, 404);
    assert.equal((await request(proxy.port, { path: '/assets/%2e%2e/%2e%2e/etc/passwd' })).status, 400);
    assert.equal((await request(proxy.port, { method: 'DELETE', path: '/assets/app.css' })).status, 405);
  });

  it('sets, adds and removes request and response headers', async () => {
    const r = await request(proxy.port, {
      path: '/h/x',
      headers: {
        'x-remove-me': '1',
        'x-env': 'dev',
        connection: 'x-secret',
        'x-secret': 'hop',
        'keep-alive': 'timeout=1',
      },
    });
    const seen = json(r).headers;
    assert.equal(seen['x-env'], 'prod');
    assert.equal(seen['x-added'], 'by-GET');
    assert.equal(seen['x-remove-me'], undefined);
    assert.equal(seen['x-secret'], undefined, 'a field named by Connection is hop-by-hop');
    assert.equal(seen['keep-alive'], undefined);
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['x-route'], 'headers');
    assert.equal(r.headers.server, undefined);
    assert.equal(r.headers['x-hop-res'], undefined, 'response fields named by Connection are dropped');
    assert.equal(r.headers.via, '1.1 hastack');
  });

  it('adds X-Forwarded-For/-Proto/-Host, Forwarded and Via', async () => {
    const seen = json(
      await request(proxy.port, {
        path: '/h/y',
        headers: { host: 'front.test', 'x-forwarded-for': '6.6.6.6', via: '1.0 cdn' },
      }),
    ).headers;
    assert.equal(seen['x-forwarded-for'], '127.0.0.1', 'an untrusted peer cannot inject an address');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], 'front.test');
    assert.equal(seen.forwarded, 'for=127.0.0.1;proto=http;host=front.test');
    assert.equal(seen.via, '1.0 cdn, 1.1 hastack');
    assert.equal(seen.host, 'front.test');
  });

  it('routes absolute-form targets by their authority', async () => {
    const r = await rawExchange(
      proxy.port,
      'GET http://www.shop.test/abs?x=1 HTTP/1.1\r\nHost: ignored.test\r\nConnection: close\r\n\r\n',
    );
    assert.match(r.data, /^HTTP\/1\.1 200 /);
    const body = JSON.parse(r.data.slice(r.data.indexOf('\r\n\r\n') + 4));
    assert.equal(body.name, 'static');
    assert.equal(body.url, '/abs?x=1');
    assert.equal(body.headers.host, 'www.shop.test');
  });

  it('counts per route in the snapshot', () => {
    const snap = proxy.service.snapshot()!;
    const routes = snap.listeners[0]!.routes;
    assert.ok(routes.find((r) => r.name === 'legacy')!.stats.requests >= 1);
    assert.ok(routes.find((r) => r.name === 'static')!.stats.responses[2]! >= 1);
    assert.ok(snap.listeners[0]!.unmatched.requests >= 1);
  });
});
