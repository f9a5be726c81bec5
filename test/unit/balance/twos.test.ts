import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TwoChoicesScheduler } from '../../../src/balance/twos.ts';
import { seededRandom } from '../../../src/core/clock.ts';
import { ctx, dests } from './helpers.ts';

function tally(s: TwoChoicesScheduler, picks: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const k = s.pick(ctx())?.key ?? '-';
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

describe('twos', () => {
  it('with equal load, picks in proportion to weight (kernel draw: the first gets one extra chance)', () => {
    const s = new TwoChoicesScheduler(seededRandom(42));
    s.update(dests({ A: 1, B: 2, C: 3 }));
    const n = 70_000;
    const got = tally(s, n);
    // draws are uniform over 0..6: A wins 0 and 1, B 2..3, C 4..6
    const expected = { A: 2 / 7, B: 2 / 7, C: 3 / 7 };
    for (const [k, p] of Object.entries(expected)) {
      assert.ok(Math.abs(got[k]! / n - p) < 0.01, `${k}: ${got[k]} of ${n}`);
    }
  });

  it('keeps the lower overhead/weight of the two draws', () => {
    const s = new TwoChoicesScheduler(seededRandom(7));
    const list = dests({ A: 100, B: 100, C: 100 });
    list[0]!.activeConns = 10; // A is busy: chosen only when both draws are A
    s.update(list);
    const n = 60_000;
    const got = tally(s, n);
    const pA = 101 / 301; // first server's draw share
    assert.ok(Math.abs(got.A! / n - pA * pA) < 0.01, `A: ${got.A}`);
  });

  it('is reproducible with the same seed', () => {
    const run = () => {
      const s = new TwoChoicesScheduler(seededRandom(99));
      s.update(dests({ A: 3, B: 5, C: 1 }));
      return Array.from({ length: 200 }, () => s.pick(ctx())!.key).join('');
    };
    assert.equal(run(), run());
  });

  it('never picks quiesced or overloaded servers; none available → undefined', () => {
    const s = new TwoChoicesScheduler(seededRandom(5));
    const list = dests({ A: 0, B: 4, C: 4 });
    list[2]!.overloaded = true;
    s.update(list);
    assert.deepEqual(tally(s, 1000), { B: 1000 });
    list[1]!.weight = 0;
    assert.equal(s.pick(ctx()), undefined);
    s.update([]);
    assert.equal(s.pick(ctx()), undefined);
  });

  it('copes with a random source that returns its extremes', () => {
    for (const value of [0, 0.999999999999, 1]) {
      const s = new TwoChoicesScheduler(() => value);
      s.update(dests({ A: 65535, B: 65535 }));
      assert.ok(s.pick(ctx()));
    }
  });
});
