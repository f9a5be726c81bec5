import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProcessQuorum, type QuorumConfig } from '../../../src/vrrp/process-quorum.ts';

/* vrrp_track_process quorum: up iff quorum <= count <= quorum_max, damped by fork/terminate delays. */

function quorum(over: Partial<QuorumConfig> = {}): ProcessQuorum {
  return new ProcessQuorum({
    quorum: 1,
    quorumMax: Number.POSITIVE_INFINITY,
    forkDelayMs: 0,
    terminateDelayMs: 0,
    ...over,
  });
}

describe('ProcessQuorum', () => {
  it('takes the first count as the initial state, without delay and without a change', () => {
    const up = quorum({ forkDelayMs: 5000, terminateDelayMs: 5000 });
    assert.equal(up.started, false);
    assert.equal(up.update(1, 0), undefined);
    assert.deepEqual([up.started, up.up, up.pending, up.nextDeadline()], [true, true, undefined, undefined]);
    const down = quorum({ forkDelayMs: 5000, terminateDelayMs: 5000 });
    assert.equal(down.update(0, 0), undefined);
    assert.deepEqual([down.up, down.pending, down.nextDeadline()], [false, undefined, undefined]);
  });

  it('changes at once without delays, and reports only changes', () => {
    const q = quorum();
    q.update(0, 0);
    assert.equal(q.update(1, 10), true);
    assert.equal(q.update(3, 20), undefined);
    assert.equal(q.update(0, 30), false);
    assert.equal(q.update(0, 40), undefined);
    assert.equal(q.count, 0);
  });

  it('fork_delay: up only after the delay, then checked again', () => {
    const q = quorum({ forkDelayMs: 1000 });
    q.update(0, 0);
    assert.equal(q.update(1, 100), undefined);
    assert.deepEqual([q.up, q.pending, q.nextDeadline()], [false, 'up', 1100]);
    assert.equal(q.tick(1099), undefined);
    assert.equal(q.update(2, 500), undefined, 'a further fork keeps the first deadline');
    assert.equal(q.nextDeadline(), 1100);
    assert.equal(q.tick(1100), true);
    assert.deepEqual([q.up, q.pending, q.nextDeadline()], [true, undefined, undefined]);
  });

  it('fork_delay is cancelled when the process goes away before it ends', () => {
    const q = quorum({ forkDelayMs: 1000 });
    q.update(0, 0);
    q.update(1, 100);
    assert.equal(q.update(0, 200), undefined);
    assert.deepEqual([q.up, q.pending, q.nextDeadline()], [false, undefined, undefined]);
    assert.equal(q.tick(5000), undefined);
    // Back again: a fresh delay from now.
    q.update(1, 6000);
    assert.equal(q.nextDeadline(), 7000);
  });

  it('terminate_delay: down only after the delay; a restart within it cancels (reload)', () => {
    const q = quorum({ terminateDelayMs: 2000 });
    q.update(1, 0);
    assert.equal(q.update(0, 100), undefined);
    assert.deepEqual([q.up, q.pending, q.nextDeadline()], [true, 'down', 2100]);
    assert.equal(q.update(1, 1500), undefined, 'restarted within the delay');
    assert.deepEqual([q.up, q.pending, q.nextDeadline()], [true, undefined, undefined]);
    q.update(0, 3000);
    assert.equal(q.tick(4999), undefined);
    assert.equal(q.tick(5000), false);
    assert.equal(q.up, false);
  });

  it('a fork delay does not delay going down, nor a terminate delay going up', () => {
    const q = quorum({ forkDelayMs: 1000 });
    q.update(1, 0);
    assert.equal(q.update(0, 10), false);
    const r = quorum({ terminateDelayMs: 1000 });
    r.update(0, 0);
    assert.equal(r.update(1, 10), true);
  });

  it('quorum_max 0: up only while none runs', () => {
    const q = quorum({ quorum: 0, quorumMax: 0 });
    q.update(0, 0);
    assert.equal(q.up, true);
    assert.equal(q.update(1, 10), false);
    assert.equal(q.update(2, 20), undefined);
    assert.equal(q.update(0, 30), true);
  });

  it('quorum 2 (and quorum_max 3): too few and too many are both down', () => {
    const q = quorum({ quorum: 2, quorumMax: 3 });
    q.update(1, 0);
    assert.equal(q.up, false);
    assert.equal(q.update(2, 10), true);
    assert.equal(q.update(3, 20), undefined);
    assert.equal(q.update(4, 30), false);
    assert.equal(q.update(3, 40), true);
    assert.equal(q.update(1, 50), false);
  });

  it('going over quorum_max waits terminate_delay (towards down); back under cancels it', () => {
    const q = quorum({ quorum: 1, quorumMax: 1, forkDelayMs: 100, terminateDelayMs: 500 });
    q.update(1, 0);
    assert.equal(q.update(2, 10), undefined);
    assert.deepEqual([q.pending, q.nextDeadline()], ['down', 510]);
    assert.equal(q.update(1, 20), undefined, 'the forked child exec-ed something else');
    assert.deepEqual([q.up, q.pending], [true, undefined]);
  });

  it('a pending change stays while the count moves on its side, and the re-check decides', () => {
    const q = quorum({ quorum: 2, terminateDelayMs: 1000 });
    q.update(3, 0);
    q.update(1, 10);
    q.update(0, 20);
    assert.equal(q.nextDeadline(), 1010);
    assert.equal(q.tick(1010), false);
    assert.equal(q.count, 0);
  });

  it('a deadline already passed is applied before a later count', () => {
    const q = quorum({ forkDelayMs: 100, terminateDelayMs: 100 });
    q.update(0, 0);
    q.update(1, 0);
    // No tick at 100: the next count, at 150, finds the delay over (up), then starts going down.
    assert.equal(q.update(0, 150), true);
    assert.deepEqual([q.up, q.pending, q.nextDeadline()], [true, 'down', 250]);
    assert.equal(q.tick(250), false);
  });

  it('tick before any count or without a pending change does nothing', () => {
    const q = quorum({ forkDelayMs: 100 });
    assert.equal(q.tick(1000), undefined);
    q.update(1, 0);
    assert.equal(q.tick(1000), undefined);
  });
});
