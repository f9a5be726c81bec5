import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NIL, SEG_COLD, SEG_HOT, SEG_WARM } from '../../../src/memcache/item-layout.ts';
import {
  ALLOC_NO_MEMORY,
  ALLOC_TOO_LARGE,
  DELTA_NON_NUMERIC,
  DELTA_OK,
  EXISTS,
  type ItemStore,
  MODE_ADD,
  MODE_APPEND,
  MODE_CAS,
  MODE_PREPEND,
  MODE_REPLACE,
  MODE_SET,
  NOT_FOUND,
  NOT_STORED,
  parseStoredNumber,
  REALTIME_MAXDELTA,
  STORED,
} from '../../../src/memcache/item-store.ts';
import { murmur3, murmur3View } from '../../../src/memcache/key-hash.ts';
import { computeSlabClasses } from '../../../src/memcache/slab-classes.ts';
import { MIB, makeStore } from './helpers.ts';

const k = (s: string) => Buffer.from(s, 'latin1');

function put(store: ItemStore, key: string, value: string, mode = MODE_SET, exptime = 0, flags = 0): number {
  const kb = k(key);
  const ref = store.alloc(kb, 0, kb.length, flags, exptime, value.length);
  assert.ok(ref >= 0, `alloc ${key}`);
  store.page(ref).write(value, store.valueOffset(ref), 'latin1');
  store.terminateValue(ref);
  return store.storeItem(ref, mode);
}

function read(store: ItemStore, key: string, bump = true): string | undefined {
  const kb = k(key);
  const ref = store.get(kb, 0, kb.length, bump);
  if (ref === NIL) return undefined;
  const off = store.valueOffset(ref);
  return store.page(ref).toString('latin1', off, off + store.valueLength(ref));
}

describe('slab classes', () => {
  it('grow by the factor from header + chunk size, and the last class is a page', () => {
    const t = computeSlabClasses(MIB, 1.25, 48);
    assert.equal(t.chunkSizes[0], 88);
    for (let i = 1; i < t.chunkSizes.length; i++) {
      assert.ok(t.chunkSizes[i]! > t.chunkSizes[i - 1]!);
      assert.equal(t.chunkSizes[i]! % 8, 0);
    }
    assert.equal(t.chunkSizes[t.chunkSizes.length - 1], MIB);
    assert.ok(t.chunkSizes.length <= 63);
  });
});

describe('ItemStore basics', () => {
  it('stores, finds and replaces items; add/replace/append/prepend follow memcached', () => {
    const { store } = makeStore();
    assert.equal(put(store, 'a', 'one'), STORED);
    assert.equal(read(store, 'a'), 'one');
    assert.equal(put(store, 'a', 'two', MODE_ADD), NOT_STORED);
    assert.equal(put(store, 'b', 'x', MODE_REPLACE), NOT_STORED);
    assert.equal(put(store, 'a', 'three', MODE_REPLACE), STORED);
    assert.equal(put(store, 'a', '>', MODE_APPEND), STORED);
    assert.equal(put(store, 'a', '<', MODE_PREPEND), STORED);
    assert.equal(read(store, 'a'), '<three>');
    assert.equal(put(store, 'nope', 'x', MODE_APPEND), NOT_STORED);
    assert.equal(store.currItems, 1);
  });

  it('checks CAS: match stores, mismatch is EXISTS, missing is NOT_FOUND', () => {
    const { store } = makeStore();
    put(store, 'a', 'v');
    const ref = store.get(k('a'), 0, 1, false);
    const cas = store.casLo(ref);
    store.reqCasLo = cas + 5;
    store.reqCasHi = 0;
    assert.equal(put(store, 'a', 'w', MODE_CAS), EXISTS);
    store.reqCasLo = cas;
    assert.equal(put(store, 'a', 'w', MODE_CAS), STORED);
    assert.equal(put(store, 'zz', 'w', MODE_CAS), NOT_FOUND);
    assert.equal(read(store, 'a'), 'w');
    assert.equal(store.stats.casMisses, 1);
  });

  it('refuses items above item_size_max and reports no memory when evictions are off', () => {
    const { store } = makeStore({ memoryLimit: MIB, itemSizeMax: MIB, evictions: false });
    assert.equal(store.alloc(k('big'), 0, 3, 0, 0, MIB), ALLOC_TOO_LARGE);
    let last = 0;
    for (let i = 0; i < 100_000 && last >= 0; i++) {
      const kb = k(`key${i}`);
      last = store.alloc(kb, 0, kb.length, 0, 0, 1000);
      if (last >= 0) {
        store.terminateValue(last);
        store.storeItem(last, MODE_SET);
      }
    }
    assert.equal(last, ALLOC_NO_MEMORY);
    assert.ok(store.mem.totalPages * store.mem.pageSize <= MIB);
  });
});

describe('expiry', () => {
  it('treats up to 30 days as relative, more as Unix time, negative as expired', () => {
    const { store, clock } = makeStore();
    const now = store.unixTime;
    assert.equal(store.realtime(0), 0);
    assert.equal(store.realtime(-1), 1);
    assert.equal(store.realtime(10), store.currentTime + 10);
    assert.equal(store.realtime(REALTIME_MAXDELTA), store.currentTime + REALTIME_MAXDELTA);
    assert.equal(store.realtime(now + 100), store.currentTime + 100);
    assert.equal(store.realtime(REALTIME_MAXDELTA + 1), 1, 'a Unix time in the past');
    put(store, 'rel', 'x', MODE_SET, store.realtime(10));
    put(store, 'abs', 'x', MODE_SET, store.realtime(now + 5));
    put(store, 'neg', 'x', MODE_SET, store.realtime(-1));
    put(store, 'never', 'x', MODE_SET, 0);
    assert.equal(read(store, 'neg'), undefined);
    clock.advance(5_000);
    store.refreshTime();
    assert.equal(read(store, 'abs'), undefined);
    assert.equal(read(store, 'rel'), 'x');
    clock.advance(5_000);
    store.refreshTime();
    assert.equal(read(store, 'rel'), undefined);
    clock.advance(REALTIME_MAXDELTA * 2000);
    store.refreshTime();
    assert.equal(read(store, 'never'), 'x');
    // 'neg' may already be reclaimed by LRU maintenance before the get sees it.
    assert.ok(store.stats.getExpired >= 2);
  });

  it('the crawler reclaims expired items without any get', () => {
    const { store, clock } = makeStore();
    for (let i = 0; i < 100; i++) put(store, `t${i}`, 'x', MODE_SET, store.realtime(i < 60 ? 2 : 100));
    clock.advance(3_000);
    store.refreshTime();
    const reclaimed = store.crawl(1_000_000);
    assert.equal(reclaimed, 60);
    assert.equal(store.currItems, 40);
    assert.equal(
      store.classStats.crawlerReclaimed.reduce((a, b) => a + b, 0),
      60,
    );
  });

  it('the crawler is wanted only while an item can expire or a flush is pending', () => {
    const { store, clock } = makeStore();
    const sweep = () => store.crawl(1_000_000);
    put(store, 'forever', 'x');
    assert.equal(store.crawlWanted, false, 'no expiry anywhere');
    put(store, 'soon', 'x', MODE_SET, store.realtime(2));
    assert.equal(store.crawlWanted, true);
    sweep();
    assert.equal(store.crawlWanted, true, 'a sweep saw an item that will expire');
    clock.advance(3_000);
    store.refreshTime();
    assert.equal(sweep(), 1);
    assert.equal(store.crawlWanted, false, 'a whole sweep found nothing left to expire');
    store.flushAll(10);
    assert.equal(store.crawlWanted, true);
    sweep();
    assert.equal(store.crawlWanted, true, 'the delayed flush is still pending');
    clock.advance(11_000);
    store.refreshTime();
    assert.equal(sweep(), 1, 'the flushed item is reclaimed');
    sweep();
    assert.equal(store.crawlWanted, false);
    put(store, 'touched', 'x');
    assert.equal(store.crawlWanted, false);
    const kb = k('touched');
    assert.notEqual(store.touch(kb, 0, kb.length, store.realtime(5)), NIL);
    assert.equal(store.crawlWanted, true, 'touch gave it an expiry');
  });

  it('flush_all hides older items at once, or at the delay', () => {
    const { store, clock } = makeStore();
    put(store, 'a', '1');
    store.flushAll(0);
    assert.equal(read(store, 'a'), undefined);
    put(store, 'b', '2');
    assert.equal(read(store, 'b'), '2', 'items stored after a flush are visible');
    store.flushAll(10);
    clock.advance(5_000);
    store.refreshTime();
    assert.equal(read(store, 'b', false), '2');
    clock.advance(6_000);
    store.refreshTime();
    assert.equal(read(store, 'b'), undefined);
  });
});

describe('incr/decr', () => {
  const delta = (store: ItemStore, key: string, incr: boolean, d: bigint) =>
    store.addDelta(k(key), 0, key.length, incr, d, false);

  it('wraps at 2^64 on incr, clamps at 0 on decr, and pads a shorter result in place', () => {
    const { store } = makeStore();
    put(store, 'n', '18446744073709551615');
    assert.equal(delta(store, 'n', true, 2n), DELTA_OK);
    assert.equal(store.deltaResult, 1n);
    assert.equal(read(store, 'n'), `1${' '.repeat(19)}`);
    put(store, 'm', '10');
    assert.equal(delta(store, 'm', false, 100n), DELTA_OK);
    assert.equal(store.deltaResult, 0n);
    put(store, 'g', '9');
    assert.equal(delta(store, 'g', true, 1n), DELTA_OK);
    assert.equal(read(store, 'g'), '10', 'a longer result gets a new item');
    put(store, 's', 'abc');
    assert.equal(delta(store, 's', true, 1n), DELTA_NON_NUMERIC);
  });

  it('parses stored numbers as memcached strtoull does', () => {
    const p = (s: string) => parseStoredNumber(k(s), 0, s.length);
    assert.equal(p(' 12'), 12n);
    assert.equal(p('12 '), 12n);
    assert.equal(p('+4'), 4n);
    assert.equal(p('-0'), 0n);
    assert.equal(p('-1'), -1n);
    assert.equal(p('12a'), -1n);
    assert.equal(p(''), -1n);
    assert.equal(p('18446744073709551616'), -1n);
  });
});

describe('segmented LRU and eviction', () => {
  function fill(store: ItemStore, prefix: string, n: number, size = 900): void {
    for (let i = 0; i < n; i++) assert.equal(put(store, `${prefix}${i}`, 'v'.repeat(size)), STORED);
  }

  it('stays within the memory limit and evicts least recently used items first', () => {
    const { store } = makeStore({ memoryLimit: 2 * MIB });
    fill(store, 'k', 5000);
    assert.ok(store.mem.totalPages * store.mem.pageSize <= 2 * MIB);
    const evicted = store.classStats.evicted.reduce((a, b) => a + b, 0);
    assert.ok(evicted > 2000, `evicted ${evicted}`);
    // The oldest keys went first; the newest are all there.
    assert.equal(read(store, 'k0'), undefined);
    for (let i = 4990; i < 5000; i++) assert.ok(read(store, `k${i}`) !== undefined, `k${i}`);
  });

  it('keeps a hot working set through a scan of new keys (scan resistance)', () => {
    const { store } = makeStore({ memoryLimit: 2 * MIB });
    fill(store, 'work', 200);
    // Two hits make an item active: it moves to WARM instead of being evicted from COLD.
    for (let round = 0; round < 3; round++) for (let i = 0; i < 200; i++) read(store, `work${i}`);
    store.maintain(1000);
    fill(store, 'scan', 10_000);
    let kept = 0;
    for (let i = 0; i < 200; i++) if (read(store, `work${i}`) !== undefined) kept++;
    assert.ok(kept >= 190, `working set kept: ${kept}/200`);
    const cls = store.slabClass(store.get(k('work0'), 0, 5, false));
    assert.ok(store.lruSizes[cls * 3 + SEG_WARM]! > 0);
    assert.ok(store.lruSizes[cls * 3 + SEG_HOT]! + store.lruSizes[cls * 3 + SEG_COLD]! > 0);
  });

  it('frees every chunk it hands out (no leak after deletes)', () => {
    const { store } = makeStore();
    fill(store, 'd', 1000, 100);
    for (let i = 0; i < 1000; i++) assert.ok(store.delete(k(`d${i}`), 0, `d${i}`.length));
    assert.equal(store.currItems, 0);
    assert.equal(store.currBytes, 0);
    assert.equal(
      store.mem.usedChunks.reduce((a, b) => a + b, 0),
      0,
    );
  });

  it('grows the hash table and still finds every key', () => {
    const { store } = makeStore({ memoryLimit: 64 * MIB, hashPowerInit: 4 });
    fill(store, 'h', 5000, 10);
    assert.ok(store.hashPower > 4);
    for (let i = 0; i < 5000; i += 97) assert.equal(read(store, `h${i}`), 'v'.repeat(10));
  });

  it('doubles the hash table a few buckets per link: finds, replaces and deletes keys in moved and unmoved buckets meanwhile', () => {
    const { store } = makeStore({ memoryLimit: 64 * MIB, hashPowerInit: 10 });
    const live = new Map<string, string>();
    let n = 0;
    const add = () => {
      const key = `x${n++}`;
      assert.equal(put(store, key, `v${key}`), STORED);
      live.set(key, `v${key}`);
    };
    while (!store.hashExpanding) add();
    assert.equal(store.hashPower, 11);
    assert.equal(n, 1537, 'expands past 1.5 items per bucket');
    let checkedDuring = 0;
    while (store.hashExpanding) {
      // Every key, old or new, whichever table its bucket is in.
      for (const [key, value] of live) assert.equal(read(store, key, false), value, key);
      const victim = `x${checkedDuring * 7}`;
      if (live.delete(victim)) assert.equal(store.delete(k(victim), 0, victim.length), true);
      const replaced = `x${checkedDuring * 5 + 1}`;
      if (live.has(replaced)) {
        assert.equal(put(store, replaced, 'new'), STORED);
        live.set(replaced, 'new');
      }
      add();
      checkedDuring++;
    }
    // 1024 old buckets, 16 moved per link (a replace links too).
    assert.ok(checkedDuring > 20 && checkedDuring < 64, `expansion took ${checkedDuring} rounds`);
    for (const [key, value] of live) assert.equal(read(store, key, false), value, key);
    for (let i = 0; i < n; i += 7) assert.equal(read(store, `x${i}`, false), live.get(`x${i}`), `x${i}`);
    assert.equal(store.currItems, live.size);
  });
});

describe('key hash', () => {
  it('murmur3View (word loads) equals murmur3 (byte loads) at every offset and tail length', () => {
    const buf = Buffer.alloc(300);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 0xff;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let start = 0; start < 8; start++)
      for (let length = 0; length <= 250; length += length < 12 ? 1 : 37)
        assert.equal(
          murmur3View(view, start, length, 42),
          murmur3(buf, start, length, 42),
          `${start}+${length}`,
        );
    // A known value, so the hash (and bucket layout) does not change by accident.
    assert.equal(murmur3(Buffer.from('hello'), 0, 5, 0), 0x248bfa47);
  });

  it('matches the reference MurmurHash3_x86_32 vectors (every tail length, seeds with the top bit set)', () => {
    const vectors: [string, number, number][] = [
      ['', 0, 0],
      ['', 1, 0x514e28b7],
      ['', 0xffffffff, 0x81f16f39],
      ['\0\0\0\0', 0, 0x2362f9de],
      ['aaaa', 0x9747b28c, 0x5a97808a],
      ['abc', 0, 0xb3dd93fa],
      ['Hello, world!', 0x9747b28c, 0x24884cba],
      ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ];
    for (const [text, seed, expected] of vectors) {
      const buf = Buffer.from(text, 'latin1');
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      assert.equal(murmur3(buf, 0, buf.length, seed), expected, text);
      assert.equal(murmur3View(view, 0, buf.length, seed), expected, text);
    }
  });

  it('finds keys that differ only in their last bytes, whatever their length', () => {
    // Two buckets: every lookup walks a chain of same-length keys.
    const { store } = makeStore({ hashPowerInit: 1 });
    for (let n = 1; n <= 11; n++) {
      const base = 'k'.repeat(n - 1);
      for (const last of ['a', 'b', '\u0010'])
        assert.equal(put(store, base + last, `v-${base}${last}`), STORED);
    }
    for (let n = 1; n <= 11; n++) {
      const base = 'k'.repeat(n - 1);
      for (const last of ['a', 'b', '\u0010']) assert.equal(read(store, base + last), `v-${base}${last}`);
      assert.equal(read(store, `${base}c`), undefined);
    }
  });
});
