import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hash32, knuthLowBits } from '../../../src/balance/hash32.ts';
import { foldHost } from '../../../src/balance/host-fold.ts';
import { SipHash13 } from '../../../src/balance/siphash.ts';
import { ipToInt } from '../../../src/core/address.ts';
import { seededRandom } from '../../../src/core/clock.ts';

describe('SipHash13 (kernel hsiphash, 64-bit)', () => {
  it('matches the kernel self-test vector for a 4-byte input', () => {
    // lib/siphash_kunit.c: key 00..0f, input 00 01 02 03 → test_vectors_hsiphash[4]
    const h = new SipHash13(0x07060504, 0x03020100, 0x0f0e0d0c, 0x0b0a0908);
    assert.equal(h.hashWord(0x03020100), 0x88d38328);
  });

  it('is a pure function of key and word (state does not leak between calls)', () => {
    const h = new SipHash13(0, 2654435761, 0, 2654435761);
    const first = h.hashWord(12345);
    h.hashWord(999);
    assert.equal(h.hashWord(12345), first);
    assert.notEqual(h.hashWord(12346), first);
  });
});

describe('hash32 and knuthLowBits', () => {
  it('hash32 is the top bits of val·0x61C88647 mod 2^32', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 1000; i++) {
      const v = Math.floor(random() * 2 ** 32);
      const expected = Number(((BigInt(v) * 0x61c88647n) & 0xffffffffn) >> 24n);
      assert.equal(hash32(v, 8), expected);
    }
  });

  it('knuthLowBits keeps the low bits of val·2654435761', () => {
    const random = seededRandom(8);
    for (let i = 0; i < 1000; i++) {
      const v = Math.floor(random() * 2 ** 32);
      assert.equal(knuthLowBits(v, 255), Number((BigInt(v) * 2654435761n) & 255n));
    }
  });
});

describe('foldHost', () => {
  it('agrees with ipToInt on IPv4', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 2000; i++) {
      const ip = [0, 0, 0, 0].map(() => Math.floor(random() * 256)).join('.');
      assert.equal(foldHost(ip) >>> 0, ipToInt(ip), ip);
    }
  });

  it('agrees with ipToInt on IPv6 (full, compressed, mixed case) and on ::ffff: mapped IPv4', () => {
    const random = seededRandom(2);
    for (let i = 0; i < 2000; i++) {
      const groups = Array.from({ length: 8 }, () => Math.floor(random() * 65536).toString(16));
      const full = groups.join(':');
      assert.equal(foldHost(full) >>> 0, ipToInt(full), full);
      assert.equal(foldHost(full.toUpperCase()) >>> 0, ipToInt(full), full);
      // compress a run of zeros
      const start = Math.floor(random() * 7);
      const len = 1 + Math.floor(random() * (8 - start - 1));
      const zeroed = groups.map((g, k) => (k >= start && k < start + len ? '0' : g));
      const compressed = `${zeroed.slice(0, start).join(':')}::${zeroed.slice(start + len).join(':')}`;
      assert.equal(foldHost(compressed) >>> 0, ipToInt(zeroed.join(':')), compressed);
    }
    for (const ip of ['::', '::1', 'fe80::1', '1::', '2001:db8::1', '::ffff:192.0.2.1', '::FFFF:10.1.2.3']) {
      assert.equal(foldHost(ip) >>> 0, ipToInt(ip), ip);
    }
  });

  it('ignores an IPv6 zone and treats every spelling of a mapped IPv4 alike', () => {
    assert.equal(foldHost('fe80::1%eth0'), foldHost('fe80::1'));
    assert.equal(foldHost('0:0:0:0:0:ffff:192.0.2.1'), foldHost('192.0.2.1'));
    assert.equal(foldHost('::ffff:c000:201'), foldHost('192.0.2.1'));
  });

  it('hashes anything else stably instead of failing', () => {
    for (const h of [
      'example.com',
      '',
      '1.2.3',
      '1.2.3.256',
      '1::2::3',
      ':::',
      '1:2:3:4:5:6:7:8:9',
      'g::1',
    ]) {
      const v = foldHost(h);
      assert.ok(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31, h);
      assert.equal(foldHost(h), v);
    }
    assert.notEqual(foldHost('a.example'), foldHost('b.example'));
  });
});
