import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoundRobinScheduler } from '../../../src/balance/rr.ts';
import { ctx, dest, dests, pickSequence } from './helpers.ts';

describe('rr', () => {
  it('cycles through the servers in list order', () => {
    const s = new RoundRobinScheduler();
    s.update(dests({ A: 1, B: 1, C: 1 }));
    assert.equal(pickSequence(s, 7), 'ABCABCA');
  });

  it('ignores weights other than 0', () => {
    const s = new RoundRobinScheduler();
    s.update(dests({ A: 100, B: 1, C: 7 }));
    assert.equal(pickSequence(s, 6), 'ABCABC');
  });

  it('skips quiesced (weight 0) and overloaded servers', () => {
    const s = new RoundRobinScheduler();
    const list = dests({ A: 1, B: 0, C: 1, D: 1 });
    list[2]!.overloaded = true;
    s.update(list);
    assert.equal(pickSequence(s, 4), 'ADAD');
  });

  it('sees flag and weight changes made in place without an update', () => {
    const s = new RoundRobinScheduler();
    const list = dests({ A: 1, B: 1, C: 1 });
    s.update(list);
    assert.equal(pickSequence(s, 2), 'AB');
    list[2]!.overloaded = true;
    assert.equal(pickSequence(s, 2), 'AB');
    list[2]!.overloaded = false;
    list[0]!.weight = 0;
    assert.equal(pickSequence(s, 3), 'CBC');
  });

  it('returns undefined for an empty list, all quiesced or all overloaded, and recovers', () => {
    const s = new RoundRobinScheduler();
    assert.equal(s.pick(ctx()), undefined, 'before any update');
    s.update([]);
    assert.equal(s.pick(ctx()), undefined);
    const list = dests({ A: 0, B: 0 });
    s.update(list);
    assert.equal(s.pick(ctx()), undefined);
    list[0]!.weight = 1;
    list[0]!.overloaded = true;
    list[1]!.weight = 1;
    list[1]!.overloaded = true;
    assert.equal(s.pick(ctx()), undefined);
    list[1]!.overloaded = false;
    assert.equal(pickSequence(s, 3), 'BBB');
  });

  it('continues after the last pick when the list changes', () => {
    const s = new RoundRobinScheduler();
    const [a, b, c, d] = [dest('A'), dest('B'), dest('C'), dest('D')];
    s.update([a!, b!, c!]);
    assert.equal(pickSequence(s, 2), 'AB');
    s.update([a!, b!, d!, c!]); // D inserted after the last pick
    assert.equal(pickSequence(s, 4), 'DCAB');
  });

  it('when the last-picked server leaves, continues with the one that followed it', () => {
    const s = new RoundRobinScheduler();
    const list = dests({ A: 1, B: 1, C: 1, D: 1 });
    s.update(list);
    assert.equal(pickSequence(s, 2), 'AB');
    s.update([list[0]!, list[2]!, list[3]!]); // B removed
    assert.equal(pickSequence(s, 3), 'CDA');
    s.update([list[2]!, list[3]!]); // A (the last pick) removed; it had no predecessor
    assert.equal(pickSequence(s, 2), 'CD');
  });

  it('keeps its place when the same server objects are replaced by equal keys', () => {
    const s = new RoundRobinScheduler();
    s.update(dests({ A: 1, B: 1, C: 1 }));
    assert.equal(pickSequence(s, 1), 'A');
    s.update(dests({ A: 1, B: 1, C: 1 }));
    assert.equal(pickSequence(s, 3), 'BCA');
  });

  it('handles hundreds of servers, visiting each once per cycle', () => {
    const s = new RoundRobinScheduler();
    const list = Array.from({ length: 500 }, (_, i) => dest(`s${i}`, i % 5 === 0 ? 0 : 65535));
    s.update(list);
    const seen = new Map<string, number>();
    for (let i = 0; i < 400 * 3; i++) {
      const k = s.pick(ctx())!.key;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    assert.equal(seen.size, 400);
    for (const n of seen.values()) assert.equal(n, 3);
  });
});
