import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, seededRandom } from '../../../src/core/clock.ts';
import { Backoff } from '../../../src/db/backoff.ts';
import { type SemiSyncOutcome, SemiSyncTracker } from '../../../src/db/semi-sync.ts';

function tracker(count = 1, timeoutMs = 1000) {
  const clock = new ManualClock();
  const t = new SemiSyncTracker({ enabled: true, waitForReplicaCount: count, timeoutMs }, clock);
  const outcomes = new Map<number, SemiSyncOutcome>();
  const wait = (key: number) => t.waitFor(key, (o) => outcomes.set(key, o));
  return { clock, t, outcomes, wait };
}

describe('semi-sync tracker', () => {
  it('releases a commit once one replica acknowledged its position', () => {
    const { t, outcomes, wait } = tracker();
    t.replicaConnected('r1');
    wait(100);
    wait(200);
    assert.equal(outcomes.size, 0);
    t.ack('r1', 150);
    assert.deepEqual([...outcomes], [[100, 'acked']]);
    t.ack('r1', 250);
    assert.equal(outcomes.get(200), 'acked');
    assert.equal(t.status().yesTx, 2);
    wait(240);
    assert.equal(outcomes.get(240), 'acked', 'already acknowledged positions pass at once');
  });

  it('waits for N distinct replicas', () => {
    const { t, outcomes, wait } = tracker(2);
    t.replicaConnected('a');
    t.replicaConnected('b');
    wait(10);
    t.ack('a', 50);
    t.ack('a', 60);
    assert.equal(outcomes.size, 0, 'one replica twice is not two');
    t.ack('b', 10);
    assert.equal(outcomes.get(10), 'acked');
    t.ack('b', 5);
    assert.equal(t.status().clients, 2);
  });

  it('falls back to async after the timeout, reports it, and comes back ON', () => {
    const { clock, t, outcomes, wait } = tracker(1, 1000);
    t.replicaConnected('r1');
    wait(100);
    wait(200);
    clock.advance(999);
    t.tick();
    assert.equal(outcomes.size, 0);
    assert.equal(t.nextDeadline(), 1000);
    clock.advance(1);
    t.tick();
    assert.deepEqual([...outcomes.values()], ['async', 'async']);
    assert.deepEqual([t.status().status, t.status().timeouts, t.status().noTx], ['OFF', 1, 2]);
    wait(300);
    assert.equal(outcomes.get(300), 'async', 'while OFF commits do not wait');
    t.ack('r1', 250);
    assert.equal(t.status().status, 'OFF', 'not caught up with the latest commit yet');
    t.ack('r1', 300);
    assert.equal(t.status().status, 'ON');
    wait(400);
    assert.equal(outcomes.has(400), false);
  });

  it('waits (until the timeout) when no semi-sync replica is connected, and forgets departed ones', () => {
    const { clock, t, outcomes, wait } = tracker();
    wait(1);
    clock.advance(1000);
    t.tick();
    assert.equal(outcomes.get(1), 'async');
    t.replicaConnected('r');
    t.replicaGone('r');
    t.ack('r', 10);
    assert.equal(t.status().clients, 0);
  });

  it('is a no-op when disabled, and can be switched at run time', () => {
    const clock = new ManualClock();
    const t = new SemiSyncTracker({ enabled: false, waitForReplicaCount: 1, timeoutMs: 10 }, clock);
    let out: SemiSyncOutcome | undefined;
    t.waitFor(5, (o) => (out = o));
    assert.equal(out, 'off');
    t.update({ enabled: true, waitForReplicaCount: 1, timeoutMs: 10 });
    t.waitFor(6, (o) => (out = o));
    assert.equal(out, 'off');
    assert.equal(t.status().waiting, 1);
    t.update({ enabled: false, waitForReplicaCount: 1, timeoutMs: 10 });
    assert.equal(out, 'off');
    assert.equal(t.status().waiting, 0);
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially with jitter, caps, and resets', () => {
    const b = new Backoff(100, 1000, seededRandom(3));
    const delays = Array.from({ length: 8 }, () => b.next());
    const ceilings = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
    delays.forEach((d, i) => {
      assert.ok(d >= ceilings[i]! / 2 && d <= ceilings[i]!, `attempt ${i}: ${d}`);
    });
    b.reset();
    assert.ok(b.next() <= 100);
  });
});
