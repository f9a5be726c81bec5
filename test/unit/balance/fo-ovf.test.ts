import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailoverScheduler } from '../../../src/balance/fo.ts';
import { OverflowScheduler } from '../../../src/balance/ovf.ts';
import { ctx, dest } from './helpers.ts';

describe('fo', () => {
  it('always picks the highest weight, whatever the load', () => {
    const s = new FailoverScheduler();
    const list = [dest('A', 5), dest('B', 10, { activeConns: 1000 }), dest('C', 7)];
    s.update(list);
    assert.equal(s.pick(ctx())?.key, 'B');
    assert.equal(s.pick(ctx())?.key, 'B');
  });

  it('fails over to the next weight when the top one is quiesced or overloaded', () => {
    const s = new FailoverScheduler();
    const list = [dest('A', 5), dest('B', 10), dest('C', 7)];
    s.update(list);
    list[1]!.overloaded = true;
    assert.equal(s.pick(ctx())?.key, 'C');
    list[2]!.weight = 0;
    assert.equal(s.pick(ctx())?.key, 'A');
    list[0]!.overloaded = true;
    assert.equal(s.pick(ctx()), undefined);
  });

  it('breaks ties with the first in list', () => {
    const s = new FailoverScheduler();
    s.update([dest('A', 3), dest('B', 9), dest('C', 9)]);
    assert.equal(s.pick(ctx())?.key, 'B');
  });
});

describe('ovf', () => {
  it('fills the highest weight up to its weight in active connections, then overflows', () => {
    const s = new OverflowScheduler();
    const list = [dest('A', 2), dest('B', 3)];
    s.update(list);
    const seq: string[] = [];
    for (let i = 0; i < 8; i++) {
      const d = s.pick(ctx());
      seq.push(d?.key ?? '-');
      if (d) d.activeConns++;
    }
    // B accepts while active ≤ 3 (kernel skips only active > weight): 4 connections, then A 3.
    assert.deepEqual(seq, ['B', 'B', 'B', 'B', 'A', 'A', 'A', '-']);
  });

  it('counts only active connections', () => {
    const s = new OverflowScheduler();
    s.update([dest('A', 1), dest('B', 2, { activeConns: 2, inactiveConns: 1000 })]);
    assert.equal(s.pick(ctx())?.key, 'B');
  });

  it('skips quiesced and overloaded servers; ties → first in list', () => {
    const s = new OverflowScheduler();
    s.update([dest('A', 0), dest('B', 4, { overloaded: true }), dest('C', 2), dest('D', 2)]);
    assert.equal(s.pick(ctx())?.key, 'C');
    s.update([dest('A', 0), dest('B', 4, { overloaded: true })]);
    assert.equal(s.pick(ctx()), undefined);
  });
});
