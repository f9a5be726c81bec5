import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckSpec } from '../../../src/config/model.ts';
import { ManualClock, seededRandom } from '../../../src/core/clock.ts';
import { isHastackError } from '../../../src/core/errors.ts';
import { HealthMonitor } from '../../../src/health/health-monitor.ts';
import type { HealthChange, ProbeResult, ProbeTarget } from '../../../src/health/types.ts';
import { httpSpec, ManualTimers, miscSpec, settle, tcpSpec } from './helpers.ts';

type Answer = Omit<ProbeResult, 'durationMs'>;

/** A prober whose answer per (port, check type) the test sets; can also hold probes in flight. */
class FakeProber {
  readonly answers = new Map<string, Answer>();
  readonly calls: { key: string; signal: AbortSignal }[] = [];
  hold = false;
  readonly held: { resolve: (r: ProbeResult) => void; signal: AbortSignal }[] = [];

  set(port: number, type: CheckSpec['type'], answer: boolean | Answer): void {
    this.answers.set(
      `${port}/${type}`,
      typeof answer === 'boolean'
        ? { ok: answer, message: answer ? 'ok' : 'nope', ...(!answer && { code: 'E' }) }
        : answer,
    );
  }

  probe = (spec: CheckSpec, target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> => {
    const key = `${target.port}/${spec.type}`;
    this.calls.push({ key, signal });
    if (this.hold) return new Promise((resolve) => this.held.push({ resolve, signal }));
    const answer = this.answers.get(key) ?? { ok: true, message: 'ok' };
    return Promise.resolve({ ...answer, durationMs: 1 });
  };

  count(port: number, type: CheckSpec['type']): number {
    return this.calls.filter((c) => c.key === `${port}/${type}`).length;
  }
}

function setup(options: { random?: () => number } = {}) {
  const timers = new ManualTimers();
  const prober = new FakeProber();
  const clock = new ManualClock(0, 1_700_000_000_000);
  const monitor = new HealthMonitor({
    prober: prober.probe,
    clock,
    random: options.random ?? (() => 0),
    setTimer: timers.set,
    clearTimer: timers.clear,
  });
  const changes: HealthChange[] = [];
  monitor.subscribe((change) => changes.push(change));
  return { timers, prober, monitor, changes, clock };
}

const rs = (port: number): ProbeTarget => ({ host: '10.0.0.1', port });

test('monitor: rise/fall damping decides the transitions; no event at add', async () => {
  const { timers, prober, monitor, changes } = setup();
  monitor.add('web1', rs(80), [tcpSpec({ rise: 2, fall: 2, intervalMs: 1000 })], false);
  assert.equal(monitor.status('web1')?.up, true);
  await timers.advance(0); // first probe (no warmup): ok
  assert.equal(changes.length, 0);

  prober.set(80, 'tcp', false);
  await timers.advance(1000);
  assert.equal(monitor.status('web1')?.up, true, 'one failure is not enough with fall 2');
  await timers.advance(1000);
  assert.equal(changes.length, 1);
  assert.equal(changes[0]!.id, 'web1');
  assert.equal(changes[0]!.up, false);
  assert.equal(changes[0]!.reason, 'tcp check: nope');
  assert.equal(changes[0]!.at, 1_700_000_000_000);

  prober.set(80, 'tcp', true);
  await timers.advance(1000);
  assert.equal(changes.length, 1, 'one success is not enough with rise 2');
  assert.equal(monitor.status('web1')?.checks[0]?.consecutiveOk, 1);
  await timers.advance(1000);
  assert.equal(changes.length, 2);
  assert.equal(changes[1]!.up, true);
  await monitor.close();
});

test('monitor: alpha starts down until `rise` successes (server-level and check-level alpha)', async () => {
  const { timers, monitor, changes } = setup();
  monitor.add('a', rs(1), [tcpSpec({ rise: 2 })], true);
  monitor.add('b', rs(2), [tcpSpec({ rise: 1, startDown: true })], false);
  assert.equal(monitor.status('a')?.up, false);
  assert.equal(monitor.status('b')?.up, false);
  await timers.advance(0);
  assert.deepEqual(
    changes.map((c) => [c.id, c.up]),
    [['b', true]],
  );
  await timers.advance(1000);
  assert.deepEqual(
    changes.map((c) => [c.id, c.up]),
    [
      ['b', true],
      ['a', true],
    ],
  );
  await monitor.close();
});

test('monitor: several checks are AND-ed; the server is up only when all are up', async () => {
  const { timers, prober, monitor, changes } = setup();
  monitor.add('web', rs(80), [tcpSpec(), httpSpec()], false);
  await timers.advance(0);
  prober.set(80, 'tcp', false);
  await timers.advance(1000);
  assert.deepEqual(
    changes.map((c) => [c.up, c.reason]),
    [[false, 'tcp check: nope']],
  );
  prober.set(80, 'http', false);
  await timers.advance(1000);
  prober.set(80, 'tcp', true);
  await timers.advance(1000);
  assert.equal(changes.length, 1, 'still down while http fails');
  assert.equal(monitor.status('web')?.up, false);
  assert.deepEqual(
    monitor.status('web')?.checks.map((c) => [c.type, c.up]),
    [
      ['tcp', true],
      ['http', false],
    ],
  );
  prober.set(80, 'http', { ok: true, message: 'status 200' });
  await timers.advance(1000);
  assert.deepEqual(changes[1], { id: 'web', up: true, reason: 'http check: status 200', at: changes[1]!.at });
  await monitor.close();
});

test('monitor: first probe after a random warmup delay, then interval after each probe finished', async () => {
  const { timers, prober, monitor } = setup({ random: () => 0.5 });
  monitor.add('w', rs(80), [tcpSpec({ warmupMs: 1000, intervalMs: 3000 })], false);
  assert.deepEqual(timers.delays(), [500]);
  await timers.advance(499);
  assert.equal(prober.calls.length, 0);
  await timers.advance(1);
  assert.equal(prober.calls.length, 1);
  assert.deepEqual(timers.delays(), [3000]);
  await monitor.close();
  assert.equal(timers.pending, 0);
});

test('monitor: warmup draws stay within [0, warmupMs]', () => {
  for (const r of [0, 0.25, 0.999999]) {
    const { timers, monitor } = setup({ random: () => r });
    monitor.add('w', rs(80), [tcpSpec({ warmupMs: 400 })], false);
    const [delay] = timers.delays();
    assert.ok(delay! >= 0 && delay! <= 400, String(delay));
    void monitor.close();
  }
  const { timers, monitor } = setup({ random: seededRandom(7) });
  monitor.add('x', rs(80), [tcpSpec({ warmupMs: 0 })], false);
  assert.deepEqual(timers.delays(), [0]);
  void monitor.close();
});

test('monitor: retries are used while the check is up, not once it is down', async () => {
  const { timers, prober, monitor } = setup();
  monitor.add('w', rs(80), [tcpSpec({ retries: 2, retryDelayMs: 100, intervalMs: 1000 })], false);
  prober.set(80, 'tcp', false);
  await timers.advance(0);
  await timers.advance(200); // two retry delays
  assert.equal(prober.count(80, 'tcp'), 3);
  assert.equal(monitor.status('w')?.up, false);
  assert.equal(monitor.status('w')?.checks[0]?.lastResult?.attempts, 3);
  await timers.advance(1000);
  assert.equal(prober.count(80, 'tcp'), 4, 'a down check is probed once per interval');
  await monitor.close();
});

test('monitor: remove during an in-flight probe aborts it and drops its result', async () => {
  const { timers, prober, monitor, changes } = setup();
  monitor.add('w', rs(80), [tcpSpec()], false);
  prober.hold = true;
  await timers.advance(0);
  assert.equal(prober.held.length, 1);
  monitor.remove('w');
  assert.equal(prober.held[0]!.signal.aborted, true);
  assert.equal(monitor.status('w'), undefined);
  prober.held[0]!.resolve({ ok: false, message: 'late', durationMs: 1 });
  await settle();
  assert.equal(changes.length, 0);
  assert.equal(timers.pending, 0, 'no next probe scheduled');
  monitor.remove('w'); // removing twice is harmless
  await monitor.close();
});

test('monitor: remove cancels pending timers; re-adding the id starts fresh', async () => {
  const { timers, prober, monitor } = setup();
  monitor.add('w', rs(80), [tcpSpec(), httpSpec()], false);
  assert.equal(timers.pending, 2);
  monitor.remove('w');
  assert.equal(timers.pending, 0);
  monitor.add('w', rs(81), [tcpSpec()], true);
  await timers.advance(0);
  assert.equal(prober.count(81, 'tcp'), 1);
  assert.equal(monitor.status('w')?.up, true);
  await monitor.close();
});

test('monitor: close stops everything and resolves once in-flight probes settled', async () => {
  const { timers, prober, monitor } = setup();
  monitor.add('a', rs(1), [tcpSpec()], false);
  monitor.add('b', rs(2), [tcpSpec()], false);
  prober.hold = true;
  await timers.advance(0);
  assert.equal(prober.held.length, 2);
  let closed = false;
  const closing = monitor.close().then(() => {
    closed = true;
  });
  await settle();
  assert.equal(closed, false, 'waits for the in-flight probes');
  assert.ok(prober.held.every((h) => h.signal.aborted));
  for (const h of prober.held)
    h.resolve({ ok: false, code: 'HASTACK_CHECK_ABORTED', message: 'aborted', durationMs: 0 });
  await closing;
  assert.equal(timers.pending, 0);
  assert.equal(monitor.status('a'), undefined);
  assert.throws(
    () => monitor.add('c', rs(3), [], false),
    (err) => isHastackError(err, 'HASTACK_HEALTH_CLOSED'),
  );
});

test('monitor: misc_dynamic weight changes while up are reported; carried on the next up', async () => {
  const { timers, prober, monitor, changes } = setup();
  monitor.add('w', rs(80), [miscSpec('check', { dynamic: true })], false);
  prober.set(80, 'misc', { ok: true, weight: 10, message: 'exit 12: weight 10' });
  await timers.advance(0);
  assert.deepEqual(
    changes.map((c) => [c.up, c.weight]),
    [[true, 10]],
  );
  await timers.advance(1000); // same weight: nothing new
  assert.equal(changes.length, 1);
  prober.set(80, 'misc', { ok: true, message: 'exit 0' }); // exit 0 keeps the weight
  await timers.advance(1000);
  assert.equal(changes.length, 1);
  assert.equal(monitor.status('w')?.weight, 10);
  prober.set(80, 'misc', false);
  await timers.advance(1000);
  prober.set(80, 'misc', { ok: true, weight: 3, message: 'exit 5: weight 3' });
  await timers.advance(1000);
  assert.deepEqual(
    changes.map((c) => [c.up, c.weight]),
    [
      [true, 10],
      [false, 10],
      [true, 3],
    ],
  );
  await monitor.close();
});

test('monitor: per-server counters in status, monotonic totals by type', async () => {
  const { timers, prober, monitor } = setup();
  monitor.add('a', rs(1), [tcpSpec(), httpSpec()], false);
  monitor.add('b', rs(2), [tcpSpec()], false);
  prober.set(1, 'http', false);
  await timers.advance(0);
  await timers.advance(1000);
  assert.deepEqual(monitor.status('a')?.counters, { probes: 4, failures: 2, transitions: 1 });
  assert.deepEqual(monitor.status('b')?.counters, { probes: 2, failures: 0, transitions: 0 });
  monitor.remove('a');
  const totals = monitor.counters();
  assert.equal(totals.probes, 6);
  assert.equal(totals.failures, 2);
  assert.deepEqual(totals.transitions, { up: 0, down: 1 });
  assert.deepEqual(totals.byType.http, { probes: 2, failures: 2, transitions: 1 });
  assert.deepEqual(totals.byType.tcp, { probes: 4, failures: 0, transitions: 0 });
  assert.deepEqual(totals.byType.dns, { probes: 0, failures: 0, transitions: 0 });
  assert.deepEqual(
    monitor.list().map((s) => s.id),
    ['b'],
  );
  await monitor.close();
});

test('monitor: status shows the last result and when it was checked', async () => {
  const { timers, prober, monitor, clock } = setup();
  monitor.add('w', rs(80), [tcpSpec()], false);
  clock.advance(250);
  prober.set(80, 'tcp', { ok: false, code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
  await timers.advance(0);
  const status = monitor.status('w')!;
  assert.deepEqual(status.target, rs(80));
  assert.equal(status.checks[0]!.lastCheckedAt, 1_700_000_000_250);
  assert.equal(status.checks[0]!.lastResult?.code, 'ECONNREFUSED');
  assert.equal(status.checks[0]!.consecutiveFail, 1);
  await monitor.close();
});

test('monitor: a server without checks is always up and never probed', async () => {
  const { timers, prober, monitor } = setup();
  monitor.add('static', rs(80), [], true);
  assert.equal(monitor.status('static')?.up, true);
  assert.equal(timers.pending, 0);
  await timers.advance(10_000);
  assert.equal(prober.calls.length, 0);
  await monitor.close();
});

test('monitor: a throwing listener does not stop others; unsubscribe works', async () => {
  const { timers, prober, monitor, changes } = setup();
  const seen: boolean[] = [];
  monitor.subscribe(() => {
    throw new Error('listener bug');
  });
  const unsubscribe = monitor.subscribe((c) => seen.push(c.up));
  monitor.add('w', rs(80), [tcpSpec()], false);
  prober.set(80, 'tcp', false);
  await timers.advance(0);
  unsubscribe();
  prober.set(80, 'tcp', true);
  await timers.advance(1000);
  assert.deepEqual(seen, [false]);
  assert.equal(changes.length, 2);
  await monitor.close();
});

test('monitor: a prober that rejects counts as a failed probe', async () => {
  const timers = new ManualTimers();
  const monitor = new HealthMonitor({
    prober: () => Promise.reject(new Error('boom')),
    setTimer: timers.set,
    clearTimer: timers.clear,
  });
  const changes: HealthChange[] = [];
  monitor.subscribe((c) => changes.push(c));
  monitor.add('w', rs(80), [tcpSpec()], false);
  await timers.advance(0);
  assert.equal(changes[0]?.up, false);
  assert.match(changes[0]!.reason, /prober failed: boom/);
  assert.equal(timers.pending, 1, 'keeps probing');
  await monitor.close();
});

test('monitor: duplicate ids and invalid timing are refused with clear errors', async () => {
  const { monitor } = setup();
  monitor.add('w', rs(80), [], false);
  assert.throws(
    () => monitor.add('w', rs(80), [], false),
    (err) => isHastackError(err, 'HASTACK_HEALTH_DUPLICATE_ID'),
  );
  assert.throws(
    () => monitor.add('x', rs(80), [tcpSpec({ intervalMs: 0 })], false),
    (err) => isHastackError(err, 'HASTACK_HEALTH_INVALID_CHECK'),
  );
  assert.throws(
    () => monitor.add('y', rs(80), [tcpSpec({ fall: 0 })], false),
    (err) => isHastackError(err, 'HASTACK_HEALTH_INVALID_DAMPING'),
  );
  assert.equal(monitor.status('x'), undefined);
  await monitor.close();
});

test('monitor: transitions are logged as JSON lines with component health', async () => {
  const { Writable } = await import('node:stream');
  const { createLogger } = await import('../../../src/core/logger.ts');
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const timers = new ManualTimers();
  const prober = new FakeProber();
  const monitor = new HealthMonitor({
    logger: createLogger({ level: 'info', destination }),
    prober: prober.probe,
    setTimer: timers.set,
    clearTimer: timers.clear,
  });
  monitor.add('web1', rs(80), [tcpSpec()], false);
  prober.set(80, 'tcp', false);
  await timers.advance(0);
  prober.set(80, 'tcp', true);
  await timers.advance(1000);
  await monitor.close();
  const transitions = lines.filter((l) => l.id === 'web1' && typeof l.up === 'boolean');
  assert.deepEqual(
    transitions.map((l) => [l.component, l.msg, l.up, l.level]),
    [
      ['health', 'real server down', false, 40],
      ['health', 'real server up', true, 30],
    ],
  );
  assert.equal(transitions[0]!.target, '10.0.0.1:80');
});
