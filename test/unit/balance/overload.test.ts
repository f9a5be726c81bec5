import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connOverhead } from '../../../src/balance/overhead.ts';
import { updateOverload } from '../../../src/balance/overload.ts';
import { dest } from './helpers.ts';

describe('connOverhead', () => {
  it('weighs an active connection as 256 inactive ones', () => {
    assert.equal(connOverhead(dest('a', 1, { activeConns: 0, inactiveConns: 0 })), 0);
    assert.equal(connOverhead(dest('a', 1, { activeConns: 1, inactiveConns: 0 })), 256);
    assert.equal(connOverhead(dest('a', 1, { activeConns: 3, inactiveConns: 7 })), 3 * 256 + 7);
  });
});

describe('updateOverload', () => {
  it('sets the flag when active + inactive reaches the upper threshold', () => {
    const d = dest('a', 1, { activeConns: 5, inactiveConns: 4 });
    assert.equal(updateOverload(d, 10, 0), false);
    assert.equal(d.overloaded, false);
    d.inactiveConns = 5;
    assert.equal(updateOverload(d, 10, 0), true);
    assert.equal(d.overloaded, true);
    assert.equal(updateOverload(d, 10, 0), false, 'no change reported twice');
  });

  it('with no lower threshold, clears only below three quarters of upper', () => {
    const d = dest('a', 1, { activeConns: 10, overloaded: true });
    for (const total of [9, 8]) {
      d.activeConns = total;
      assert.equal(updateOverload(d, 10, 0), false, `still overloaded at ${total}`);
      assert.equal(d.overloaded, true);
    }
    d.activeConns = 7; // 7·4 = 28 < 30
    assert.equal(updateOverload(d, 10, 0), true);
    assert.equal(d.overloaded, false);
  });

  it('three quarters uses exact arithmetic (upper 4: clears at 2, not at 3)', () => {
    const d = dest('a', 1, { activeConns: 3, overloaded: true });
    assert.equal(updateOverload(d, 4, 0), false); // 12 < 12 is false
    d.activeConns = 2;
    assert.equal(updateOverload(d, 4, 0), true);
  });

  it('with a lower threshold, clears strictly below it', () => {
    const d = dest('a', 1, { activeConns: 100, overloaded: true });
    d.activeConns = 50;
    assert.equal(updateOverload(d, 100, 50), false);
    d.activeConns = 49;
    assert.equal(updateOverload(d, 100, 50), true);
    assert.equal(d.overloaded, false);
  });

  it('counts inactive connections too', () => {
    const d = dest('a', 1, { activeConns: 1, inactiveConns: 9 });
    assert.equal(updateOverload(d, 10, 5), true);
    d.inactiveConns = 3;
    assert.equal(updateOverload(d, 10, 5), true);
    assert.equal(d.overloaded, false);
  });

  it('upper 0 means no limit and clears a stale flag', () => {
    const d = dest('a', 1, { activeConns: 1_000_000, overloaded: true });
    assert.equal(updateOverload(d, 0, 0), true);
    assert.equal(d.overloaded, false);
    assert.equal(updateOverload(d, 0, 10), false);
    assert.equal(d.overloaded, false);
  });

  it('does not set the flag between the thresholds (hysteresis)', () => {
    const d = dest('a', 1, { activeConns: 8 });
    assert.equal(updateOverload(d, 10, 5), false);
    assert.equal(d.overloaded, false);
  });
});
