import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpSectionSchema } from '../../../src/http/config-schema.ts';
import { IpSet, parsePrefix } from '../../../src/http/ip-match.ts';
import type { RouteConfig } from '../../../src/http/model.ts';
import { type RouteInput, Router, routingHost } from '../../../src/http/router.ts';
import { rewrittenTarget, Template, type TemplateVars } from '../../../src/http/template.ts';
import { normalizePath, queryParam } from '../../../src/http/url-path.ts';

function routes(raw: unknown[]): RouteConfig[] {
  return httpSectionSchema.parse({
    listeners: [{ listen: '127.0.0.1:0', routes: raw }],
    pools: { a: { servers: [{ address: '127.0.0.1:1' }] }, b: { servers: [{ address: '127.0.0.1:2' }] } },
  }).listeners[0]!.routes;
}

function input(over: Partial<RouteInput> = {}): RouteInput {
  return {
    method: 'GET',
    host: 'example.com',
    path: '/',
    query: '',
    headers: [],
    clientIp: '192.0.2.1',
    ...over,
  };
}

describe('router', () => {
  it('takes the first route whose conditions all hold', () => {
    const r = new Router(
      routes([
        { name: 'static', match: { path_prefix: '/static/' }, pool: 'a' },
        { name: 'mobile', match: { header: { 'User-Agent': '~*(iphone|android)' } }, pool: 'b' },
        { name: 'api-post', match: { path_prefix: '/api/', method: ['post', 'PUT'] }, pool: 'b' },
        {
          name: 'old',
          match: { path_regex: '^/old/(.*)$' },
          rewrite: { path: '/legacy?page=$1' },
          pool: 'a',
        },
        { name: 'admin', match: { path: '/admin', client_ip: ['10.0.0.0/8', '::1'] }, pool: 'a' },
        { name: 'vhost', match: { host: ['*.shop.test', 'shop.test'] }, pool: 'b' },
        { name: 'q', match: { query: { debug: '1', mode: '~^(a|b)$' } }, pool: 'a' },
        { name: 'default', pool: 'a' },
      ]),
    );
    const name = (i: RouteInput) => r.route(i)?.route.config.name;
    assert.equal(name(input({ path: '/static/app.css', headers: ['user-agent', 'iPhone'] })), 'static');
    assert.equal(
      name(input({ path: '/x', headers: ['user-agent', 'Mozilla (Linux; ANDROID 14)'] })),
      'mobile',
    );
    assert.equal(name(input({ path: '/api/v1', method: 'POST' })), 'api-post');
    assert.equal(name(input({ path: '/api/v1', method: 'GET' })), 'default');
    const old = r.route(input({ path: '/old/page7' }));
    assert.equal(old?.route.config.name, 'old');
    assert.equal(old?.captures[1], 'page7');
    assert.equal(name(input({ path: '/admin', clientIp: '10.1.2.3' })), 'admin');
    assert.equal(name(input({ path: '/admin', clientIp: '::1' })), 'admin');
    assert.equal(name(input({ path: '/admin', clientIp: '11.1.2.3' })), 'default');
    assert.equal(name(input({ host: 'www.shop.test' })), 'vhost');
    assert.equal(name(input({ host: 'shop.test' })), 'vhost');
    assert.equal(name(input({ host: 'evilshop.test' })), 'default');
    assert.equal(name(input({ query: '?mode=b&debug=1' })), 'q');
    assert.equal(name(input({ query: '?mode=c&debug=1' })), 'default');
    assert.equal(name(input({ query: '?debug=%31&mode=a' })), 'q');
  });

  it('matches header presence and absence, and exact values', () => {
    const r = new Router(
      routes([
        { name: 'no-cookie', match: { header: { cookie: false } }, pool: 'a' },
        { name: 'exact', match: { header: { 'x-env': 'canary' } }, pool: 'b' },
        { name: 'rest', pool: 'a' },
      ]),
    );
    assert.equal(r.route(input())?.route.config.name, 'no-cookie');
    assert.equal(
      r.route(input({ headers: ['cookie', 'a=1', 'x-env', 'canary'] }))?.route.config.name,
      'exact',
    );
    assert.equal(
      r.route(input({ headers: ['cookie', 'a=1', 'x-env', 'Canary'] }))?.route.config.name,
      'rest',
    );
  });

  it('returns nothing when no route matches', () => {
    const r = new Router(routes([{ match: { path: '/only' }, pool: 'a' }]));
    assert.equal(r.route(input({ path: '/other' })), undefined);
  });

  it('normalizes the routing host', () => {
    assert.equal(routingHost('Example.COM:8080'), 'example.com');
    assert.equal(routingHost('example.com.'), 'example.com');
    assert.equal(routingHost('[::1]:80'), '[::1]');
  });
});

describe('paths, templates and rewrites', () => {
  it('normalizes percent-encoded unreserved characters and dot-segments', () => {
    assert.equal(normalizePath('/a/b'), '/a/b');
    assert.equal(normalizePath('/%61dmin'), '/admin');
    assert.equal(normalizePath('/a/./b/../c'), '/a/c');
    assert.equal(normalizePath('/a/%2e%2e/admin'), '/admin');
    assert.equal(normalizePath('/a%2Fb'), '/a%2Fb');
    assert.equal(normalizePath('/a/..'), '/');
    assert.equal(normalizePath('/..'), undefined);
    assert.equal(normalizePath('/%2e%2e/etc'), undefined);
  });

  it('reads query parameters', () => {
    assert.equal(queryParam('?a=1&b=x+y&c', 'b'), 'x y');
    assert.equal(queryParam('?a=1&b=2&c', 'c'), '');
    assert.equal(queryParam('?a=1', 'z'), undefined);
    assert.equal(queryParam('', 'a'), undefined);
  });

  it('expands captures and variables', () => {
    const vars: TemplateVars = {
      captures: ['/old/x', 'x'],
      host: 'h.test',
      path: '/old/x',
      query: 'q=1',
      requestUri: '/old/x?q=1',
      scheme: 'https',
      method: 'GET',
      remoteAddr: '192.0.2.9',
    };
    assert.equal(new Template('/legacy?page=$1').expand(vars), '/legacy?page=x');
    assert.equal(new Template('$scheme://$host$' + '{request_uri}').expand(vars), 'https://h.test/old/x?q=1');
    assert.equal(new Template('$remote_addr $method $2 $unknown').expand(vars), '192.0.2.9 GET  $unknown');
    assert.equal(new Template('plain').constant, true);
  });

  it("follows nginx's rule for the original query after a rewrite", () => {
    assert.equal(rewrittenTarget('/new', '?a=1'), '/new?a=1');
    assert.equal(rewrittenTarget('/new?b=2', '?a=1'), '/new?b=2&a=1');
    assert.equal(rewrittenTarget('/new?b=2', ''), '/new?b=2');
    assert.equal(rewrittenTarget('/new?', '?a=1'), '/new');
  });
});

describe('ip matching', () => {
  it('matches IPv4, IPv6 and IPv4-mapped addresses against prefixes', () => {
    const set = new IpSet(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);
    assert.equal(set.contains('10.255.0.1'), true);
    assert.equal(set.contains('::ffff:10.1.1.1'), true);
    assert.equal(set.contains('11.0.0.1'), false);
    assert.equal(set.contains('192.168.1.7'), true);
    assert.equal(set.contains('192.168.1.8'), false);
    assert.equal(set.contains('fd12:3456::1'), true);
    assert.equal(set.contains('fe80::1'), false);
    assert.equal(set.contains('::1'), true);
    assert.equal(set.contains('not-an-ip'), false);
    assert.equal(new IpSet(['0.0.0.0/0']).contains('203.0.113.5'), true);
  });

  it('rejects invalid prefixes', () => {
    assert.throws(() => parsePrefix('10.0.0.0/33'), { code: 'HASTACK_HTTP_INVALID_CIDR' });
    assert.throws(() => parsePrefix('banana'), { code: 'HASTACK_HTTP_INVALID_CIDR' });
  });
});
