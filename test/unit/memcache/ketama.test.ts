import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { KetamaRing, keyHash } from '../../../src/memcache/client/ketama.ts';
import { ServerPool } from '../../../src/memcache/client/server-pool.ts';

const require = createRequire(import.meta.url);
// The `memcached` npm client: its HashRing is the ketama ring it routes keys with (no connection is made).
const Memcached = require('memcached') as new (
  servers: string | string[] | Record<string, number>,
  options?: object,
) => { HashRing: { get(key: string): string }; end(): void };

function keys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `user:${i}:profile-${(i * 7919) % 1000}`);
}

describe('ketama ring', () => {
  it('maps keys exactly as the memcached npm client (hashring, ketama mode)', () => {
    const servers = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11212', '192.168.1.20:22122'];
    const ref = new Memcached(servers);
    const ring = new KetamaRing(servers.map((address) => ({ address, weight: 1 })));
    assert.equal(ring.points.length, 160 * servers.length);
    for (const key of keys(20_000)) assert.equal(ring.get(key)?.address, ref.HashRing.get(key), key);
    ref.end();
  });

  it('maps keys exactly as the memcached npm client with weights', () => {
    const weights = { '127.0.0.1:11211': 1, '127.0.0.1:11212': 3, '127.0.0.1:11213': 2 };
    const ref = new Memcached(weights);
    const ring = new KetamaRing(Object.entries(weights).map(([address, weight]) => ({ address, weight })));
    for (const key of keys(20_000)) assert.equal(ring.get(key)?.address, ref.HashRing.get(key), key);
    ref.end();
  });

  it('uses MD5 little-endian key points and wraps past the last point', () => {
    assert.equal(keyHash(''), 0xd98c1dd4); // MD5("") = d41d8cd9...: first word little-endian
    const ring = new KetamaRing([{ address: 'a:1', weight: 1 }]);
    assert.equal(ring.pointIndex(0xffffffff), 0);
    assert.equal(ring.pointIndex(0), 0);
    assert.equal(new KetamaRing([]).get('x'), undefined);
  });

  it('moves only the keys of a removed server', () => {
    const all = ['a:1', 'b:1', 'c:1', 'd:1'].map((address) => ({ address, weight: 1 }));
    const full = new KetamaRing(all);
    const less = new KetamaRing(all.filter((s) => s.address !== 'c:1'));
    let moved = 0;
    for (const key of keys(5000)) {
      const before = full.get(key)!.address;
      const after = less.get(key)!.address;
      if (before !== 'c:1') assert.equal(after, before);
      else moved++;
    }
    assert.ok(moved > 500 && moved < 2000, `moved ${moved}`);
  });
});

describe('server pool (ejection and retry)', () => {
  const servers = ['a:1', 'b:1', 'c:1'].map((address) => ({ address, weight: 1 }));

  it('ejects a server after repeated failures and takes it back after the retry delay', () => {
    const clock = new ManualClock();
    const pool = new ServerPool(servers, clock, {
      failureLimit: 2,
      retryDelayMs: 10_000,
      remapOnFailure: true,
    });
    const key = keys(200).find((k) => pool.pick(k)?.address === 'b:1')!;
    pool.failure('b:1');
    assert.equal(pool.pick(key)?.address, 'b:1', 'one failure is not enough');
    pool.failure('b:1');
    assert.ok(pool.isDead('b:1'));
    assert.notEqual(pool.pick(key)?.address, 'b:1');
    clock.advance(10_000);
    assert.equal(pool.pick(key)?.address, 'b:1', 'retried after the delay');
  });

  it('without remapping, keys of a dead server stay on it (fail fast)', () => {
    const clock = new ManualClock();
    const pool = new ServerPool(servers, clock, {
      failureLimit: 1,
      retryDelayMs: 1000,
      remapOnFailure: false,
    });
    const key = keys(200).find((k) => pool.pick(k)?.address === 'a:1')!;
    pool.failure('a:1');
    assert.equal(pool.pick(key)?.address, 'a:1');
  });
});
