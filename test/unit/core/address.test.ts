import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatHostPort, ipToInt, isLoopback, parseHostPort } from '../../../src/core/address.ts';

describe('parseHostPort', () => {
  it('parses IPv4, hostnames and bracketed IPv6', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:80'), { host: '127.0.0.1', port: 80 });
    assert.deepEqual(parseHostPort('web.local:8080'), { host: 'web.local', port: 8080 });
    assert.deepEqual(parseHostPort('[::1]:443'), { host: '::1', port: 443 });
    assert.deepEqual(parseHostPort('10.0.0.1', 9090), { host: '10.0.0.1', port: 9090 });
    assert.deepEqual(parseHostPort('::1', 9090), { host: '::1', port: 9090 });
  });

  for (const bad of [
    '',
    ':80',
    '127.0.0.1:',
    '127.0.0.1:99999',
    '127.0.0.1:8x',
    '[::1',
    '[::1]x',
    '10.0.0.1',
  ]) {
    it(`rejects "${bad}"`, () => {
      assert.throws(() => parseHostPort(bad), { code: 'HASTACK_ADDRESS_INVALID' });
    });
  }

  it('formats IPv6 with brackets', () => {
    assert.equal(formatHostPort('::1', 80), '[::1]:80');
    assert.equal(formatHostPort('1.2.3.4', 80), '1.2.3.4:80');
  });

  it('knows loopback', () => {
    assert.equal(isLoopback('127.0.0.1'), true);
    assert.equal(isLoopback('127.1.2.3'), true);
    assert.equal(isLoopback('::1'), true);
    assert.equal(isLoopback('0.0.0.0'), false);
    assert.equal(isLoopback('10.0.0.1'), false);
  });

  it('turns addresses into integers for hashing', () => {
    assert.equal(ipToInt('1.2.3.4'), 0x01020304);
    assert.equal(ipToInt('255.255.255.255'), 0xffffffff);
    assert.equal(ipToInt('::ffff:1.2.3.4'), 0x01020304);
    assert.equal(typeof ipToInt('2001:db8::1'), 'number');
    assert.notEqual(ipToInt('2001:db8::1'), ipToInt('2001:db8::2'));
  });
});
