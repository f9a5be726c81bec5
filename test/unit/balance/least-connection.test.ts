import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeastConnectionScheduler } from '../../../src/balance/lc.ts';
import { NeverQueueScheduler } from '../../../src/balance/nq.ts';
import { ShortestExpectedDelayScheduler } from '../../../src/balance/sed.ts';
import type { Destination, Scheduler } from '../../../src/balance/types.ts';
import { WeightedLeastConnectionScheduler } from '../../../src/balance/wlc.ts';
import { ctx, dest } from './helpers.ts';

function choose(s: Scheduler, list: Destination[]): string | undefined {
  s.update(list);
  return s.pick(ctx())?.key;
}

describe('lc', () => {
  it('picks the lowest active·256 + inactive', () => {
    const s = new LeastConnectionScheduler();
    assert.equal(
      choose(s, [dest('A', 1, { activeConns: 1 }), dest('B', 1, { inactiveConns: 255 })]),
      'B',
      '255 inactive < 1 active',
    );
    assert.equal(
      choose(s, [dest('A', 1, { activeConns: 1 }), dest('B', 1, { inactiveConns: 257 })]),
      'A',
      '257 inactive > 1 active',
    );
  });

  it('breaks ties with the first in list', () => {
    const s = new LeastConnectionScheduler();
    assert.equal(choose(s, [dest('A', 1, { activeConns: 1 }), dest('B', 1, { inactiveConns: 256 })]), 'A');
    assert.equal(choose(s, [dest('B', 1, { inactiveConns: 256 }), dest('A', 1, { activeConns: 1 })]), 'B');
  });

  it('ignores weights except 0, and skips overloaded servers', () => {
    const s = new LeastConnectionScheduler();
    assert.equal(choose(s, [dest('A', 100, { activeConns: 2 }), dest('B', 1, { activeConns: 1 })]), 'B');
    assert.equal(choose(s, [dest('A', 0), dest('B', 1, { activeConns: 9 })]), 'B');
    assert.equal(choose(s, [dest('A', 1, { overloaded: true }), dest('B', 1, { activeConns: 9 })]), 'B');
    assert.equal(choose(s, [dest('A', 0), dest('B', 1, { overloaded: true })]), undefined);
  });

  it('follows counters that change between picks', () => {
    const s = new LeastConnectionScheduler();
    const list = [dest('A'), dest('B'), dest('C')];
    s.update(list);
    const seq: string[] = [];
    for (let i = 0; i < 6; i++) {
      const d = s.pick(ctx())!;
      d.activeConns++;
      seq.push(d.key);
    }
    assert.deepEqual(seq, ['A', 'B', 'C', 'A', 'B', 'C']);
  });
});

describe('wlc', () => {
  it('picks the lowest overhead/weight, compared without division', () => {
    const s = new WeightedLeastConnectionScheduler();
    // A: 256/1 = 256, B: 511/2 = 255.5 → B
    assert.equal(
      choose(s, [dest('A', 1, { activeConns: 1 }), dest('B', 2, { activeConns: 1, inactiveConns: 255 })]),
      'B',
    );
    // B: 513/2 = 256.5 → A
    assert.equal(
      choose(s, [dest('A', 1, { activeConns: 1 }), dest('B', 2, { activeConns: 2, inactiveConns: 1 })]),
      'A',
    );
  });

  it('breaks exact ties with the first in list', () => {
    const s = new WeightedLeastConnectionScheduler();
    // 256/1 = 512/2
    assert.equal(choose(s, [dest('A', 1, { activeConns: 1 }), dest('B', 2, { activeConns: 2 })]), 'A');
    assert.equal(choose(s, [dest('B', 2, { activeConns: 2 }), dest('A', 1, { activeConns: 1 })]), 'B');
    // all idle: the first available
    assert.equal(choose(s, [dest('A', 0), dest('B', 1), dest('C', 9)]), 'B');
  });

  it('skips weight 0 and overloaded servers even when they are idle', () => {
    const s = new WeightedLeastConnectionScheduler();
    assert.equal(
      choose(s, [dest('A', 5, { activeConns: 50 }), dest('B', 0), dest('C', 5, { overloaded: true })]),
      'A',
    );
    assert.equal(choose(s, [dest('A', 0), dest('B', 3, { overloaded: true })]), undefined);
    assert.equal(choose(s, []), undefined);
  });

  it('spreads new connections in proportion to weight', () => {
    const s = new WeightedLeastConnectionScheduler();
    const list = [dest('A', 1), dest('B', 2), dest('C', 3)];
    s.update(list);
    for (let i = 0; i < 600; i++) s.pick(ctx())!.activeConns++;
    assert.deepEqual(
      list.map((d) => d.activeConns),
      [100, 200, 300],
    );
  });

  it('does not lose precision with large counters and weights', () => {
    const s = new WeightedLeastConnectionScheduler();
    const a = dest('A', 65535, { activeConns: 4_000_000, inactiveConns: 1 });
    const b = dest('B', 65534, { activeConns: 4_000_000 });
    // A: (1024000001)/65535 vs B: 1024000000/65534 → A is lower
    assert.equal(choose(s, [b, a]), 'A');
  });
});

describe('sed', () => {
  it('uses (active + 1) / weight and ignores inactive connections', () => {
    const s = new ShortestExpectedDelayScheduler();
    // A: 1/1, B: 3/3 → tie → A; inactive on A does not matter
    assert.equal(choose(s, [dest('A', 1, { inactiveConns: 1000 }), dest('B', 3, { activeConns: 2 })]), 'A');
    // B: 2/3 < 1 → B
    assert.equal(choose(s, [dest('A', 1, { inactiveConns: 1000 }), dest('B', 3, { activeConns: 1 })]), 'B');
  });

  it('differs from wlc on idle servers: the heavier one wins', () => {
    const list = () => [dest('A', 1), dest('B', 10)];
    assert.equal(choose(new WeightedLeastConnectionScheduler(), list()), 'A');
    assert.equal(choose(new ShortestExpectedDelayScheduler(), list()), 'B');
  });

  it('skips weight 0 and overloaded servers', () => {
    const s = new ShortestExpectedDelayScheduler();
    assert.equal(
      choose(s, [dest('A', 0), dest('B', 9, { overloaded: true }), dest('C', 1, { activeConns: 100 })]),
      'C',
    );
    assert.equal(choose(s, [dest('A', 0), dest('B', 9, { overloaded: true })]), undefined);
  });
});

describe('nq', () => {
  it('sends to the first idle server whatever the weights', () => {
    const s = new NeverQueueScheduler();
    assert.equal(
      choose(s, [dest('A', 10, { activeConns: 1 }), dest('B', 1, { inactiveConns: 50 }), dest('C', 1)]),
      'B',
    );
  });

  it('falls back to sed when no server is idle', () => {
    const s = new NeverQueueScheduler();
    // A: 3/1, B: 6/5 → B
    assert.equal(choose(s, [dest('A', 1, { activeConns: 2 }), dest('B', 5, { activeConns: 5 })]), 'B');
    // A: 2/2, B: 2/2 → tie → A
    assert.equal(choose(s, [dest('A', 2, { activeConns: 1 }), dest('B', 2, { activeConns: 1 })]), 'A');
  });

  it('does not take an idle server that is quiesced or overloaded', () => {
    const s = new NeverQueueScheduler();
    assert.equal(
      choose(s, [dest('A', 0), dest('B', 1, { overloaded: true }), dest('C', 1, { activeConns: 7 })]),
      'C',
    );
    assert.equal(choose(s, [dest('A', 0), dest('B', 1, { overloaded: true })]), undefined);
  });
});
