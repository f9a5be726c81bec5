import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildClientResponseHead,
  buildUpstreamRequestHead,
  clientAddress,
  type ForwardingInfo,
  FRAME_CHUNKED,
  FRAME_LENGTH,
  FRAME_NONE,
  forwardedElement,
} from '../../../src/http/forward-headers.ts';
import { IpSet } from '../../../src/http/ip-match.ts';
import { Template, type TemplateVars } from '../../../src/http/template.ts';

const vars: TemplateVars = {
  captures: undefined,
  host: 'h',
  path: '/',
  query: '',
  requestUri: '/',
  scheme: 'http',
  method: 'GET',
  remoteAddr: '192.0.2.1',
};
const noRules = { set: [], add: [], remove: [] };

function info(over: Partial<ForwardingInfo> = {}): ForwardingInfo {
  return {
    peer: '192.0.2.1',
    peerTrusted: false,
    proto: 'http',
    host: 'h.test',
    xForwarded: true,
    forwarded: false,
    via: true,
    ...over,
  };
}

function lines(head: string): string[] {
  assert.ok(head.endsWith('\r\n\r\n'));
  return head.slice(0, -4).split('\r\n');
}

describe('upstream request head', () => {
  it('drops hop-by-hop fields and the fields Connection names, then adds forwarding fields', () => {
    const head = buildUpstreamRequestHead({
      method: 'GET',
      target: '/x',
      headers: [
        'host',
        'h.test',
        'connection',
        'keep-alive, x-secret',
        'keep-alive',
        'timeout=5',
        'x-secret',
        's',
        'te',
        'trailers',
        'upgrade',
        'h2c',
        'proxy-connection',
        'close',
        'x-keep',
        'k',
        'expect',
        '100-continue',
      ],
      connectionTokens: ['keep-alive', 'x-secret'],
      rules: noRules,
      vars,
      info: info(),
      framing: FRAME_NONE,
      contentLength: -1,
      upgrade: '',
      keepAlive: true,
    });
    assert.deepEqual(lines(head), [
      'GET /x HTTP/1.1',
      'host: h.test',
      'x-keep: k',
      'x-forwarded-for: 192.0.2.1',
      'x-forwarded-proto: http',
      'x-forwarded-host: h.test',
      'via: 1.1 hastack',
    ]);
  });

  it('replaces forwarding fields from untrusted peers and extends those from trusted ones', () => {
    const base = {
      method: 'POST',
      target: '/',
      headers: [
        'x-forwarded-for',
        '6.6.6.6',
        'x-forwarded-proto',
        'https',
        'forwarded',
        'for=6.6.6.6',
        'via',
        '1.0 edge',
      ],
      connectionTokens: [],
      rules: noRules,
      vars,
      framing: FRAME_LENGTH,
      contentLength: 3,
      upgrade: '',
      keepAlive: false,
    };
    const untrusted = lines(buildUpstreamRequestHead({ ...base, info: info({ forwarded: true }) }));
    assert.ok(untrusted.includes('x-forwarded-for: 192.0.2.1'));
    assert.ok(untrusted.includes('x-forwarded-proto: http'));
    assert.ok(untrusted.includes('forwarded: for=192.0.2.1;proto=http;host=h.test'));
    assert.ok(untrusted.includes('via: 1.0 edge, 1.1 hastack'));
    assert.ok(untrusted.includes('content-length: 3'));
    assert.ok(untrusted.includes('connection: close'));
    const trusted = lines(
      buildUpstreamRequestHead({ ...base, info: info({ peerTrusted: true, forwarded: true }) }),
    );
    assert.ok(trusted.includes('x-forwarded-for: 6.6.6.6, 192.0.2.1'));
    assert.ok(trusted.includes('x-forwarded-proto: https'));
    assert.ok(trusted.includes('forwarded: for=6.6.6.6, for=192.0.2.1;proto=http;host=h.test'));
  });

  it('applies set, add and remove rules and keeps Upgrade for tunnels', () => {
    const head = lines(
      buildUpstreamRequestHead({
        method: 'GET',
        target: '/ws',
        headers: [
          'host',
          'h',
          'x-drop',
          '1',
          'x-set',
          'old',
          'upgrade',
          'websocket',
          'connection',
          'upgrade',
        ],
        connectionTokens: ['upgrade'],
        rules: {
          set: [['x-set', new Template('new-$method')]],
          add: [['x-add', new Template('a')]],
          remove: ['x-drop'],
        },
        vars,
        info: info({ xForwarded: false, via: false }),
        framing: FRAME_NONE,
        contentLength: -1,
        upgrade: 'websocket',
        keepAlive: true,
      }),
    );
    assert.deepEqual(head, [
      'GET /ws HTTP/1.1',
      'host: h',
      'x-set: new-GET',
      'x-add: a',
      'connection: upgrade',
      'upgrade: websocket',
    ]);
  });

  it('formats Forwarded elements (RFC 7239)', () => {
    assert.equal(forwardedElement(info({ peer: '::1', host: '' })), 'for="[::1]";proto=http');
    assert.equal(
      forwardedElement(info({ peer: '::ffff:10.0.0.1', proto: 'https', host: 'a b' })),
      'for=10.0.0.1;proto=https;host="a b"',
    );
  });
});

describe('client address behind trusted proxies', () => {
  const trusted = new IpSet(['10.0.0.0/8']);
  it('believes X-Forwarded-For only from trusted peers, taking the last untrusted hop', () => {
    assert.equal(
      clientAddress('10.0.0.5', ['x-forwarded-for', '203.0.113.9, 10.0.0.7'], trusted),
      '203.0.113.9',
    );
    assert.equal(
      clientAddress('10.0.0.5', ['x-forwarded-for', '1.1.1.1, 203.0.113.9'], trusted),
      '203.0.113.9',
    );
    assert.equal(clientAddress('192.0.2.50', ['x-forwarded-for', '203.0.113.9'], trusted), '192.0.2.50');
    assert.equal(clientAddress('10.0.0.5', [], trusted), '10.0.0.5');
    assert.equal(clientAddress('::ffff:192.0.2.50', [], undefined), '192.0.2.50');
  });
});

describe('client response head', () => {
  it('re-frames, adds Via and response rules, says close or keep-alive', () => {
    const head = lines(
      buildClientResponseHead({
        status: 200,
        reason: 'OK',
        headers: [
          'content-type',
          'text/plain',
          'transfer-encoding',
          'chunked',
          'connection',
          'x-hop',
          'x-hop',
          '1',
          'server',
          'up',
        ],
        connectionTokens: ['x-hop'],
        rules: { set: [], add: [['x-served-by', new Template('hastack')]], remove: ['server'] },
        vars,
        via: true,
        framing: FRAME_CHUNKED,
        contentLength: -1,
        close: true,
        keepAlive10: false,
        upgrade: '',
      }),
    );
    assert.deepEqual(head, [
      'HTTP/1.1 200 OK',
      'content-type: text/plain',
      'via: 1.1 hastack',
      'x-served-by: hastack',
      'transfer-encoding: chunked',
      'connection: close',
    ]);
    const ka = lines(
      buildClientResponseHead({
        status: 204,
        reason: 'No Content',
        headers: [],
        connectionTokens: [],
        rules: noRules,
        vars,
        via: false,
        framing: FRAME_NONE,
        contentLength: -1,
        close: false,
        keepAlive10: true,
        upgrade: '',
      }),
    );
    assert.deepEqual(ka, ['HTTP/1.1 204 No Content', 'connection: keep-alive']);
  });
});
