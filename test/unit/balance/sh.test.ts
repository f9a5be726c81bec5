import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SourceHashScheduler } from '../../../src/balance/sh.ts';
import { clientAddress, ctx, dest, dests, shares } from './helpers.ts';

describe('sh', () => {
  it('maps the same client address to the same server, whatever its port', () => {
    const s = new SourceHashScheduler();
    s.update(dests({ A: 1, B: 1, C: 1, D: 1 }));
    for (let i = 0; i < 200; i++) {
      const host = clientAddress(i * 37);
      const first = s.pick(ctx({ clientHost: host, clientPort: 1000 }));
      assert.ok(first);
      for (const port of [1, 2000, 65535])
        assert.equal(s.pick(ctx({ clientHost: host, clientPort: port })), first);
    }
  });

  it('uses the kernel hash: bucket = hash_32(addr + port, 8)', () => {
    const s = new SourceHashScheduler({ hashPort: true });
    const list = Array.from({ length: 256 }, (_, i) => dest(`b${i}`, 1));
    s.update(list); // bucket i belongs to b<i>
    const addr = (192 << 24) + (2 << 8) + 10; // 192.0.2.10
    for (const port of [0, 80, 40000]) {
      const bucket = Number(((BigInt(addr + port) * 0x61c88647n) & 0xffffffffn) >> 24n);
      assert.equal(s.pick(ctx({ clientHost: '192.0.2.10', clientPort: port }))?.key, `b${bucket}`);
    }
  });

  it('sh-port spreads one address over servers by source port', () => {
    const s = new SourceHashScheduler({ hashPort: true });
    s.update(dests({ A: 1, B: 1, C: 1, D: 1 }));
    const seen = new Set<string>();
    for (let port = 1024; port < 1124; port++) seen.add(s.pick(ctx({ clientPort: port }))!.key);
    assert.equal(seen.size, 4);
  });

  it('deals buckets in runs of weight: weights 1,2,3 → 43, 86, 127 of 256', () => {
    const s = new SourceHashScheduler();
    s.update(dests({ A: 1, B: 2, C: 3 }));
    assert.deepEqual(shares(s.buckets), { A: 43, B: 86, C: 127 });
    assert.deepEqual(
      s.buckets.slice(0, 12).map((d) => d!.key),
      ['A', 'B', 'B', 'C', 'C', 'C', 'A', 'B', 'B', 'C', 'C', 'C'],
    );
  });

  it('client shares follow bucket shares', () => {
    const s = new SourceHashScheduler();
    s.update(dests({ A: 1, B: 3 }));
    const counts: Record<string, number> = {};
    for (let i = 0; i < 65536; i++) {
      const k = s.pick(ctx({ clientHost: clientAddress(i) }))!.key;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    // 64 and 192 buckets; the hash covers the table evenly for this address range.
    assert.ok(Math.abs(counts.A! / 65536 - 0.25) < 0.02, JSON.stringify(counts));
  });

  it('as the kernel: weights summing past 256 are cut off (200,200 → 200, 56)', () => {
    const s = new SourceHashScheduler();
    s.update(dests({ A: 200, B: 200 }));
    assert.deepEqual(shares(s.buckets), { A: 200, B: 56 });
  });

  it('as the kernel: a weight-0 server holds one bucket per round but is never returned', () => {
    const s = new SourceHashScheduler();
    s.update(dests({ A: 1, B: 0, C: 1 }));
    assert.deepEqual(shares(s.buckets), { A: 86, B: 85, C: 85 });
    for (let i = 0; i < 2000; i++) assert.notEqual(s.pick(ctx({ clientHost: clientAddress(i) }))?.key, 'B');
  });

  it('without sh-fallback, a client whose server is down gets nothing; others are unaffected', () => {
    const s = new SourceHashScheduler();
    const list = dests({ A: 1, B: 1, C: 1 });
    s.update(list);
    const before = Array.from({ length: 3000 }, (_, i) => s.pick(ctx({ clientHost: clientAddress(i) }))!.key);
    list[1]!.overloaded = true;
    for (let i = 0; i < 3000; i++) {
      const got = s.pick(ctx({ clientHost: clientAddress(i) }))?.key;
      assert.equal(got, before[i] === 'B' ? undefined : before[i]);
    }
  });

  it('with sh-fallback, those clients move to another server, deterministically; others stay', () => {
    const s = new SourceHashScheduler({ fallback: true });
    const list = dests({ A: 1, B: 1, C: 1 });
    s.update(list);
    const before = Array.from({ length: 3000 }, (_, i) => s.pick(ctx({ clientHost: clientAddress(i) }))!.key);
    list[1]!.weight = 0; // quiesced without a table rebuild
    for (let i = 0; i < 3000; i++) {
      const c = ctx({ clientHost: clientAddress(i) });
      const got = s.pick(c)?.key;
      if (before[i] === 'B') {
        assert.ok(got === 'A' || got === 'C');
        assert.equal(s.pick(c)?.key, got);
      } else {
        assert.equal(got, before[i]);
      }
    }
    list[0]!.weight = 0;
    list[2]!.overloaded = true;
    assert.equal(s.pick(ctx()), undefined);
  });

  it('works with IPv6 clients and handles an empty list', () => {
    const s = new SourceHashScheduler();
    s.update([]);
    assert.equal(s.pick(ctx({ clientHost: '2001:db8::1' })), undefined);
    s.update(dests({ A: 1, B: 1 }));
    const a = s.pick(ctx({ clientHost: '2001:db8::1' }));
    assert.ok(a);
    assert.equal(s.pick(ctx({ clientHost: '2001:0db8:0:0:0:0:0:1' })), a);
  });
});
