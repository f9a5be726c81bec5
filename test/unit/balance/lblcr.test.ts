import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalityLeastConnectionReplicationScheduler } from '../../../src/balance/lblcr.ts';
import { ctx, dests } from './helpers.ts';

const HOUR = 60 * 60 * 1000;
const at = (now: number, destHost = '203.0.113.7') => ctx({ now, destHost });
const keys = (s: LocalityLeastConnectionReplicationScheduler, host = '203.0.113.7') =>
  s.serverSetOf(host)?.map((d) => d.key);

describe('lblcr', () => {
  it('starts a set with the wlc choice and sticks to it while it is not overloaded', () => {
    const s = new LocalityLeastConnectionReplicationScheduler();
    const list = dests({ A: 2, B: 2 });
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'A');
    list[0]!.activeConns = 2;
    assert.equal(s.pick(at(1))?.key, 'A');
    assert.deepEqual(keys(s), ['A']);
  });

  it('grows the set when its best member is overloaded, then picks the least loaded member', () => {
    const s = new LocalityLeastConnectionReplicationScheduler();
    const list = dests({ A: 1, B: 1, C: 1 });
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'A');
    list[0]!.activeConns = 2; // > weight, and B/C are below half: A is overloaded
    assert.equal(s.pick(at(1))?.key, 'B');
    assert.deepEqual(keys(s), ['B', 'A'], 'newest member first');
    list[1]!.activeConns = 1;
    list[0]!.activeConns = 1; // A: 256/1 = B: 256/1 → first in the set (B)
    assert.equal(s.pick(at(2))?.key, 'B');
    list[1]!.inactiveConns = 1; // now A is lighter
    assert.equal(s.pick(at(3))?.key, 'A');
  });

  it('skips members that are quiesced, overloaded (flag) or gone, adding a new one if needed', () => {
    const s = new LocalityLeastConnectionReplicationScheduler();
    const list = dests({ A: 1, B: 1, C: 1 });
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'A');
    list[0]!.overloaded = true;
    assert.equal(s.pick(at(1))?.key, 'B');
    assert.deepEqual(keys(s), ['B', 'A']);
    list[0]!.overloaded = false;
    list[1]!.weight = 0;
    assert.equal(s.pick(at(2))?.key, 'A');
    s.update([list[1]!, list[2]!]); // A leaves
    assert.equal(s.pick(at(3))?.key, 'C');
    assert.deepEqual(keys(s), ['C', 'B', 'A'], 'left members stay in the set, as in the kernel trash');
    s.update(list); // A is back
    list[2]!.activeConns = 1;
    assert.equal(s.pick(at(4))?.key, 'A');
  });

  it('drops the most loaded member once the set has not changed for 24 h', () => {
    const s = new LocalityLeastConnectionReplicationScheduler();
    const list = dests({ A: 1, B: 1, C: 1 });
    s.update(list);
    s.pick(at(0));
    list[0]!.activeConns = 2;
    assert.equal(s.pick(at(1))?.key, 'B'); // set changed at t=1
    assert.deepEqual(keys(s), ['B', 'A']);
    assert.equal(s.pick(at(12 * HOUR))?.key, 'B');
    assert.equal(s.pick(at(1 + 24 * HOUR))?.key, 'B', 'not strictly after lastMod + 24 h yet');
    assert.deepEqual(keys(s), ['B', 'A']);
    assert.equal(s.pick(at(2 + 24 * HOUR))?.key, 'B');
    assert.deepEqual(keys(s), ['B'], 'A (most loaded) dropped');
    assert.equal(s.pick(at(3 + 48 * HOUR))?.key, 'B', 'a single member is never dropped');
    assert.deepEqual(keys(s), ['B']);
  });

  it('expires the whole entry after 24 h without lookups', () => {
    const s = new LocalityLeastConnectionReplicationScheduler({ expirationMs: 60_000 });
    const list = dests({ A: 1, B: 1 });
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'A');
    list[0]!.inactiveConns = 1;
    assert.equal(s.pick(at(59_999))?.key, 'A');
    assert.equal(s.pick(at(59_999 + 60_000))?.key, 'B');
    assert.deepEqual(keys(s), ['B']);
  });

  it('returns undefined when nothing can take the connection', () => {
    const s = new LocalityLeastConnectionReplicationScheduler();
    assert.equal(s.pick(at(0)), undefined);
    const list = dests({ A: 1 });
    s.update(list);
    assert.equal(s.pick(at(0))?.key, 'A');
    list[0]!.weight = 0;
    assert.equal(s.pick(at(1)), undefined);
    assert.equal(s.entryCount, 1);
  });
});
