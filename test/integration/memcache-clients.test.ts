import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.ts';
import { MemcacheClient } from '../../src/memcache/client/memcache-client.ts';
import { startMemcache } from './memcache-helpers.ts';

const require = createRequire(import.meta.url);
const memjs = require('memjs') as {
  Client: {
    create(
      servers: string,
      options?: object,
    ): {
      set(key: string, value: string | Buffer, options: { expires?: number }): Promise<boolean>;
      get(key: string): Promise<{ value: Buffer | null; flags: Buffer | null }>;
      add(key: string, value: string, options: object): Promise<boolean>;
      replace(key: string, value: string, options: object): Promise<boolean>;
      delete(key: string): Promise<boolean>;
      increment(
        key: string,
        amount: number,
        options: object,
      ): Promise<{ success: boolean; value?: number | null }>;
      decrement(
        key: string,
        amount: number,
        options: object,
      ): Promise<{ success: boolean; value?: number | null }>;
      append(key: string, value: string): Promise<boolean>;
      prepend(key: string, value: string): Promise<boolean>;
      touch(key: string, expires: number): Promise<boolean>;
      flush(): Promise<Record<string, boolean | Error>>;
      stats(cb: (err: unknown, server: string, stats: Record<string, string>) => void): void;
      close(): void;
    };
  };
};
type CallbackClient = {
  set(k: string, v: unknown, lifetime: number, cb: (err: unknown, ok: boolean) => void): void;
  get(k: string, cb: (err: unknown, v: unknown) => void): void;
  getMulti(keys: string[], cb: (err: unknown, v: Record<string, unknown>) => void): void;
  gets(k: string, cb: (err: unknown, v: Record<string, unknown>) => void): void;
  cas(k: string, v: unknown, cas: string, lifetime: number, cb: (err: unknown, ok: boolean) => void): void;
  incr(k: string, by: number, cb: (err: unknown, v: number | boolean) => void): void;
  del(k: string, cb: (err: unknown, ok: boolean) => void): void;
  end(): void;
  HashRing: { get(key: string): string };
};
const Memcached = require('memcached') as new (
  servers: string | string[],
  options?: object,
) => CallbackClient;

function call<T>(fn: (cb: (err: unknown, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

describe('memjs (binary protocol) against hastack', () => {
  it('set/get/add/replace/append/prepend/incr/decr/touch/delete/flush/stats', async (t) => {
    const { address } = await startMemcache(t);
    const client = memjs.Client.create(address, { retries: 0, timeout: 2, logger: { log() {} } });
    t.after(() => client.close());
    assert.equal(await client.set('greeting', 'hello', { expires: 0 }), true);
    assert.equal((await client.get('greeting')).value?.toString(), 'hello');
    assert.equal((await client.get('missing')).value, null);
    assert.equal(await client.add('greeting', 'x', {}), false);
    assert.equal(await client.replace('greeting', 'hi', {}), true);
    assert.equal(await client.append('greeting', '!'), true);
    assert.equal(await client.prepend('greeting', '>'), true);
    // memjs 1.3.2 sends prepend with the append opcode (0x0e), so both land at the end.
    assert.equal((await client.get('greeting')).value?.toString(), 'hi!>');
    const big = Buffer.alloc(500_000, 7);
    assert.equal(await client.set('big', big, {}), true);
    assert.ok((await client.get('big')).value?.equals(big));
    assert.equal((await client.increment('n', 5, { initial: 10 })).value, 10);
    assert.equal((await client.increment('n', 5, {})).value, 15);
    assert.equal((await client.decrement('n', 100, {})).value, 0);
    assert.equal(await client.touch('greeting', 100), true);
    assert.equal(await client.delete('greeting'), true);
    assert.equal(await client.delete('greeting'), false);
    const stats = await new Promise<Record<string, string>>((resolve, reject) =>
      client.stats((err, _server, s) => (err ? reject(err) : resolve(s))),
    );
    assert.equal(stats.curr_items, '2');
    assert.equal(stats.version, '1.6.18-hastack');
    await client.flush();
    assert.equal((await client.get('big')).value, null);
  });
});

describe('memcached npm client (text protocol) against hastack', () => {
  it('set/get/getMulti/gets/cas/incr/del', async (t) => {
    const { address } = await startMemcache(t);
    const client = new Memcached(address, { retries: 0, timeout: 2000 });
    t.after(() => client.end());
    assert.equal(await call<boolean>((cb) => client.set('a', 'alpha', 0, cb)), true);
    assert.equal(await call((cb) => client.set('obj', { x: 1, list: [1, 2] }, 0, cb)), true);
    assert.equal(await call((cb) => client.get('a', cb)), 'alpha');
    assert.deepEqual(await call((cb) => client.get('obj', cb)), { x: 1, list: [1, 2] });
    assert.deepEqual(await call((cb) => client.getMulti(['a', 'obj', 'none'], cb)), {
      a: 'alpha',
      obj: { x: 1, list: [1, 2] },
    });
    const g = await call<Record<string, unknown>>((cb) => client.gets('a', cb));
    assert.equal(await call((cb) => client.cas('a', 'beta', String(g.cas), 0, cb)), true);
    assert.equal(await call((cb) => client.cas('a', 'gamma', String(g.cas), 0, cb)), false);
    assert.equal(await call((cb) => client.get('a', cb)), 'beta');
    assert.equal(await call((cb) => client.set('n', 41, 0, cb)), true);
    assert.equal(await call((cb) => client.incr('n', 1, cb)), 42);
    assert.equal(await call((cb) => client.del('a', cb)), true);
    assert.equal(await call((cb) => client.get('a', cb)), undefined);
  });
});

describe('hastack client (ketama) against three hastack servers', () => {
  it('places keys on the server the memcached npm client picks, and reads them back', async (t) => {
    const servers = await Promise.all([startMemcache(t), startMemcache(t), startMemcache(t)]);
    const addresses = servers.map((s) => s.address);
    const client = new MemcacheClient({ servers: addresses, timeoutMs: 2000 });
    t.after(() => client.close());
    const reference = new Memcached(addresses);
    t.after(() => reference.end());
    const keys = Array.from({ length: 300 }, (_, i) => `session:${i}`);
    for (const key of keys) assert.equal(await client.set(key, `v-${key}`), true);
    for (const key of keys) {
      const expected = reference.HashRing.get(key);
      assert.equal(client.serverFor(key), expected);
      const owner = servers.find((s) => s.address === expected)!;
      const kb = Buffer.from(key);
      assert.notEqual(owner.server.store.get(kb, 0, kb.length, false), -1, `${key} on ${expected}`);
    }
    const counts = servers.map((s) => s.server.store.currItems);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      300,
    );
    assert.ok(
      counts.every((c) => c > 50),
      `spread: ${counts}`,
    );
    const multi = await client.getMulti(keys.slice(0, 50));
    assert.equal(multi.size, 50);
    assert.equal((await client.get('session:7'))?.toString(), 'v-session:7');
    assert.equal(await client.add('session:7', 'x'), false);
    assert.equal(await client.incr('nope'), undefined);
    await client.set('n', '10');
    assert.equal(await client.incr('n', 5n), 15n);
    const g = await client.gets('n');
    assert.equal(await client.cas('n', '1', g!.cas!), 'STORED');
    assert.equal(await client.cas('n', '2', g!.cas!), 'EXISTS');
    assert.equal(await client.delete('n'), true);
    assert.equal((await client.stats()).size, 3);
  });

  it('ejects a dead server, remaps its keys, and takes it back after the retry delay', async (t) => {
    const a = await startMemcache(t);
    const b = await startMemcache(t);
    const clock = new ManualClock();
    const client = new MemcacheClient({
      servers: [a.address, b.address],
      timeoutMs: 2000,
      failureLimit: 1,
      retryDelayMs: 60_000,
      clock,
    });
    t.after(() => client.close());
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find(
      (k) => client.serverFor(k) === b.address,
    )!;
    assert.equal(await client.set(key, 'on-b'), true);
    await b.server.stop(0);
    await assert.rejects(client.get(key));
    assert.equal(client.serverFor(key), a.address, 'remapped to the live server');
    assert.equal(await client.get(key), undefined);
    assert.equal(await client.set(key, 'on-a'), true);
    clock.advance(60_000);
    assert.equal(client.serverFor(key), b.address, 'retried after the delay');
  });
});
