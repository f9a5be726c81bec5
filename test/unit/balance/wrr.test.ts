import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WeightedRoundRobinScheduler } from '../../../src/balance/wrr.ts';
import { ctx, dest, dests, pickSequence } from './helpers.ts';

function counts(s: WeightedRoundRobinScheduler, picks: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const k = s.pick(ctx())?.key ?? '-';
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

describe('wrr', () => {
  it('weights 4,3,2 give the kernel sequence AABABCABC, repeating', () => {
    const s = new WeightedRoundRobinScheduler();
    s.update(dests({ A: 4, B: 3, C: 2 }));
    assert.equal(pickSequence(s, 27), 'AABABCABC'.repeat(3));
  });

  it('steps by the gcd of the weights', () => {
    const s = new WeightedRoundRobinScheduler();
    s.update(dests({ A: 4, B: 2 }));
    assert.equal(pickSequence(s, 9), 'AABAABAAB');
    const t = new WeightedRoundRobinScheduler();
    t.update(dests({ A: 300, B: 200, C: 100 }));
    assert.equal(pickSequence(t, 12), 'AABABCAABABC');
  });

  it('equal weights behave as round-robin', () => {
    const s = new WeightedRoundRobinScheduler();
    s.update(dests({ A: 5, B: 5, C: 5 }));
    assert.equal(pickSequence(s, 6), 'ABCABC');
  });

  it('skips weight 0 and overloaded servers', () => {
    const s = new WeightedRoundRobinScheduler();
    const list = dests({ A: 2, B: 0, C: 1, D: 3 });
    s.update(list);
    assert.equal(pickSequence(s, 12), 'DADACD'.repeat(2));
    list[3]!.overloaded = true;
    assert.equal(pickSequence(s, 6), 'AACAAC');
  });

  it('returns undefined without looping forever when nothing can take the connection', () => {
    const s = new WeightedRoundRobinScheduler();
    assert.equal(s.pick(ctx()), undefined, 'before any update');
    s.update([]);
    assert.equal(s.pick(ctx()), undefined);
    s.update(dests({ A: 0, B: 0 }));
    assert.equal(s.pick(ctx()), undefined);
    const list = dests({ A: 3, B: 1 });
    s.update(list);
    assert.equal(pickSequence(s, 2), 'AA');
    list[0]!.overloaded = true;
    list[1]!.overloaded = true;
    assert.equal(pickSequence(s, 5), '-----');
    list[1]!.overloaded = false;
    assert.equal(pickSequence(s, 3), 'BBB');
  });

  it('finds a server whose weight dropped below the gcd without an update', () => {
    const s = new WeightedRoundRobinScheduler();
    const list = dests({ A: 4, B: 4 });
    s.update(list); // gcd 4, mw = 1
    list[0]!.weight = 1;
    list[1]!.weight = 0;
    assert.equal(pickSequence(s, 3), 'AAA');
  });

  it('gives each server exactly its weight per cycle, with hundreds of servers', () => {
    const s = new WeightedRoundRobinScheduler();
    const list = Array.from({ length: 300 }, (_, i) => dest(`s${i}`, (i % 7) + 1));
    s.update(list);
    const total = list.reduce((sum, d) => sum + d.weight, 0);
    const got = counts(s, total);
    for (const d of list) assert.equal(got[d.key], d.weight, d.key);
  });

  it('handles the largest weights (65535 vs 1: one B per 65536 picks)', () => {
    const s = new WeightedRoundRobinScheduler();
    s.update(dests({ A: 65535, B: 1 }));
    assert.deepEqual(counts(s, 65536), { A: 65535, B: 1 });
  });

  it('continues sanely after update() mid-sequence', () => {
    const s = new WeightedRoundRobinScheduler();
    const list = dests({ A: 4, B: 3, C: 2 });
    s.update(list);
    assert.equal(pickSequence(s, 4), 'AABA');
    // C leaves, D (weight 6) arrives: the kernel restarts from the head with cw kept.
    const next = [list[0]!, list[1]!, dest('D', 6)];
    s.update(next);
    const seq = pickSequence(s, 13 * 4);
    assert.ok(!seq.includes('-') && !seq.includes('C'));
    // Over whole cycles the shares follow the new weights 4:3:6.
    const after = counts(s, 13 * 100);
    assert.deepEqual(after, { A: 400, B: 300, D: 600 });
  });

  it('weight changes keep cw in range (gcd change mid-cycle)', () => {
    const s = new WeightedRoundRobinScheduler();
    const list = dests({ A: 6, B: 3 });
    s.update(list);
    pickSequence(s, 1);
    list[0]!.weight = 4;
    list[1]!.weight = 2;
    s.update(list);
    const after = counts(s, 300);
    assert.equal(after.A! + after.B!, 300);
    assert.ok(Math.abs(after.A! - 200) <= 2 && Math.abs(after.B! - 100) <= 2, JSON.stringify(after));
  });
});
