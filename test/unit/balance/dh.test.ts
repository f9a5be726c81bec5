import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DestinationHashScheduler } from '../../../src/balance/dh.ts';
import { ctx, dests, shares } from './helpers.ts';

describe('dh', () => {
  it('maps the same destination address to the same server, whatever the client', () => {
    const s = new DestinationHashScheduler();
    s.update(dests({ A: 1, B: 1, C: 1 }));
    for (let last = 0; last < 256; last++) {
      const destHost = `203.0.113.${last}`;
      const first = s.pick(ctx({ destHost }));
      assert.ok(first);
      for (const clientHost of ['192.0.2.1', '2001:db8::5'])
        assert.equal(s.pick(ctx({ destHost, clientHost })), first);
    }
  });

  it('as the kernel: buckets are dealt one per server, weights do not shape the table', () => {
    const s = new DestinationHashScheduler();
    s.update(dests({ A: 1, B: 5, C: 10 }));
    assert.deepEqual(shares(s.buckets), { A: 86, B: 85, C: 85 });
  });

  it('as the kernel: the bucket is the low 8 bits of addr·2654435761 (last IPv4 octet decides)', () => {
    const s = new DestinationHashScheduler();
    s.update(dests({ A: 1, B: 1, C: 1, D: 1, E: 1 }));
    for (let last = 0; last < 256; last++) {
      const bucket = Number((BigInt(last) * 2654435761n) & 255n);
      assert.equal(s.pick(ctx({ destHost: `198.51.100.${last}` })), s.buckets[bucket]);
      assert.equal(s.pick(ctx({ destHost: `10.9.8.${last}` })), s.buckets[bucket]);
    }
  });

  it('returns undefined when the hashed server is quiesced or overloaded (no fallback)', () => {
    const s = new DestinationHashScheduler();
    const list = dests({ A: 1, B: 1 });
    s.update(list);
    const owner = s.pick(ctx())!;
    owner.weight = 0;
    assert.equal(s.pick(ctx()), undefined);
    owner.weight = 1;
    owner.overloaded = true;
    assert.equal(s.pick(ctx()), undefined);
    s.update([]);
    assert.equal(s.pick(ctx()), undefined);
  });
});
