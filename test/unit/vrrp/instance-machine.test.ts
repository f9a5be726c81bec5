import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ManualClock } from '../../../src/core/clock.ts';
import type { GarpSettings } from '../../../src/vrrp/config-schema.ts';
import type {
  MachineAction,
  MachineSettings,
  VrrpInstanceMachine,
} from '../../../src/vrrp/instance-machine.ts';
import { masterDownIntervalMs, skewTimeMs } from '../../../src/vrrp/vrrp-timers.ts';
import { HIGHER_IP, LOWER_IP, newMachine, OWN_IP, transitions } from './machine-fixture.ts';

const machine = (priority = 100, settings: Partial<MachineSettings> = {}) => newMachine(priority, settings);

/** Advances to the machine's next deadline (or by `ms`) and ticks. */
function runUntil(m: VrrpInstanceMachine, clock: ManualClock, untilMs: number): MachineAction[] {
  const out: MachineAction[] = [];
  for (;;) {
    const next = m.nextDeadline();
    if (next === undefined || next > untilMs) break;
    clock.set(Math.max(clock.now(), next));
    out.push(...m.tick());
  }
  clock.set(Math.max(clock.now(), untilMs));
  return out;
}

const types = (actions: MachineAction[]) =>
  actions.map((a) => (a.type === 'send-advert' ? `advert:${a.priority}` : a.type));

describe('VRRP timers', () => {
  it('v2: skew and Master_Down_Interval (3.609 s at priority 100 and 1 s)', () => {
    assert.equal(skewTimeMs(100, 1000), 609.375);
    assert.equal(masterDownIntervalMs(100, 1000), 3609.375);
  });
  it('v3: in the master interval (FRR: 3210 ms at priority 200 and 1 s; 360 ms at 100 and 100 ms)', () => {
    assert.equal(Math.round(masterDownIntervalMs(200, 1000)), 3219);
    assert.equal(Math.round(masterDownIntervalMs(100, 100)), 361);
    assert.equal(masterDownIntervalMs(100, 1000, 5), 5609.375, 'down_timer_adverts replaces the 3');
  });
});

describe('VRRP state machine', () => {
  it('INIT → BACKUP, then MASTER when no advert arrives within Master_Down_Interval', () => {
    const { m, clock } = machine(100);
    assert.deepEqual(transitions(m.start()), ['INIT->BACKUP']);
    assert.equal(m.nextDeadline(), 1000 + 3609.375);
    assert.deepEqual(runUntil(m, clock, 4600), []);
    const actions = runUntil(m, clock, 4610);
    // The advert before the VIPs (RFC 5798 6.4.2, as keepalived).
    assert.deepEqual(types(actions), ['transition', 'advert:100', 'enter-master']);
    assert.equal(m.state, 'MASTER');
    assert.equal(m.masterIp, OWN_IP);
  });

  it('priority 255 (address owner) goes MASTER at once', () => {
    const { m } = machine(255);
    const actions = m.start();
    assert.deepEqual(transitions(actions), ['INIT->MASTER']);
    assert.ok(types(actions).includes('advert:255'));
  });

  it('a MASTER advertises every Adver_Int', () => {
    const { m, clock } = machine(255);
    m.start();
    const actions = runUntil(m, clock, 1000 + 3500);
    assert.deepEqual(types(actions), ['advert:255', 'advert:255', 'advert:255']);
  });

  it('a BACKUP restarts its down timer on each advert of a higher or equal priority', () => {
    const { m, clock } = machine(100);
    m.start();
    for (let t = 1000; t < 20_000; t += 1000) {
      clock.set(t);
      m.receive({ priority: 150, src: HIGHER_IP, advertIntMs: 1000 });
      assert.deepEqual(m.tick(), []);
    }
    assert.equal(m.state, 'BACKUP');
    assert.equal(m.masterIp, HIGHER_IP);
    assert.equal(m.masterPriority, 150);
    clock.set(19_000);
    m.receive({ priority: 100, src: LOWER_IP, advertIntMs: 1000 }); // equal priority: still the master
    assert.equal(m.nextDeadline(), 19_000 + 3609.375);
  });

  it('a priority 0 advert makes the BACKUP take over after Skew_Time only', () => {
    const { m, clock } = machine(100);
    m.start();
    m.receive({ priority: 150, src: HIGHER_IP, advertIntMs: 1000 });
    clock.set(1500);
    m.receive({ priority: 0, src: HIGHER_IP, advertIntMs: 1000 });
    assert.equal(m.nextDeadline(), 1500 + 609.375);
    assert.equal(m.counters.priorityZeroReceived, 1);
    assert.deepEqual(transitions(runUntil(m, clock, 2110)), ['BACKUP->MASTER']);
  });

  it('a MASTER answers a priority 0 advert with an advert at once', () => {
    const { m, clock } = machine(255);
    m.start();
    clock.set(1200);
    assert.deepEqual(types(m.receive({ priority: 0, src: LOWER_IP, advertIntMs: 1000 })), ['advert:255']);
    assert.equal(m.nextDeadline(), 2200, 'the advert timer restarts');
  });

  it('preempt: a higher priority BACKUP ignores a lower priority master and takes over', () => {
    const { m, clock } = machine(150);
    m.start();
    for (let t = 1000; t <= 4000; t += 1000) {
      clock.set(t);
      m.receive({ priority: 100, src: LOWER_IP, advertIntMs: 1000 });
      if (m.state === 'MASTER') break;
      m.tick();
    }
    assert.equal(m.counters.lowerPriorityIgnored, 4);
    runUntil(m, clock, 1000 + masterDownIntervalMs(150, 1000) + 1);
    assert.equal(m.state, 'MASTER');
  });

  it('nopreempt: a higher priority BACKUP stays BACKUP while a lower priority master advertises', () => {
    const { m, clock } = machine(150, { preempt: false });
    m.start();
    for (let t = 1000; t <= 30_000; t += 1000) {
      clock.set(t);
      m.receive({ priority: 100, src: LOWER_IP, advertIntMs: 1000 });
      m.tick();
    }
    assert.equal(m.state, 'BACKUP');
    assert.equal(m.masterIp, LOWER_IP);
  });

  it('preempt_delay: a lower priority master is accepted for preempt_delay, then preempted', () => {
    const { m, clock } = machine(150, { preemptDelayMs: 10_000 });
    m.start();
    let becameMasterAt: number | undefined;
    for (let t = 1000; t <= 30_000 && becameMasterAt === undefined; t += 1000) {
      clock.set(t);
      m.receive({ priority: 100, src: LOWER_IP, advertIntMs: 1000 });
      const actions = runUntil(m, clock, t + 999);
      if (transitions(actions).includes('BACKUP->MASTER')) becameMasterAt = m.lastTransitionAt;
    }
    assert.equal(m.state, 'MASTER');
    // Adverts accepted until 1000 + 10 s; the last one (at 10 s) starts the final Master_Down_Interval.
    assert.equal(becameMasterAt, 10_000 + masterDownIntervalMs(150, 1000));
  });

  it('a MASTER yields to a higher priority advert', () => {
    const { m } = machine(255);
    m.start();
    // A 255 owner never sees higher, so use a machine at 100 that became master.
    const { m: m2, clock } = machine(100);
    m2.start();
    runUntil(m2, clock, 5000);
    assert.equal(m2.state, 'MASTER');
    const actions = m2.receive({ priority: 101, src: LOWER_IP, advertIntMs: 1000 });
    assert.deepEqual(types(actions), ['transition', 'leave-master']);
    assert.equal(m2.state, 'BACKUP');
    assert.equal(m2.masterIp, LOWER_IP);
    assert.equal(m.state, 'MASTER');
  });

  it('equal priorities: the higher primary address wins', () => {
    const { m, clock } = machine(100);
    m.start();
    runUntil(m, clock, 5000);
    // Lower address at equal priority: we stay MASTER and answer (RFC 9568).
    assert.deepEqual(types(m.receive({ priority: 100, src: LOWER_IP, advertIntMs: 1000 })), ['advert:100']);
    assert.equal(m.state, 'MASTER');
    m.receive({ priority: 100, src: HIGHER_IP, advertIntMs: 1000 });
    assert.equal(m.state, 'BACKUP');
  });

  it('RFC 9568: a MASTER re-advertises on a lower priority advert; lower_prio_no_advert turns it off', () => {
    const { m, clock } = machine(100);
    m.start();
    runUntil(m, clock, 5000);
    assert.deepEqual(types(m.receive({ priority: 50, src: HIGHER_IP, advertIntMs: 1000 })), ['advert:100']);
    assert.equal(m.counters.lowerPriorityAnswered, 1);
    const { m: quiet, clock: c2 } = machine(100, { lowerPrioNoAdvert: true });
    quiet.start();
    runUntil(quiet, c2, 5000);
    assert.deepEqual(quiet.receive({ priority: 50, src: HIGHER_IP, advertIntMs: 1000 }), []);
  });

  it('higher_prio_send_advert: one advert before yielding', () => {
    const { m, clock } = machine(100, { higherPrioSendAdvert: true });
    m.start();
    runUntil(m, clock, 5000);
    assert.deepEqual(types(m.receive({ priority: 200, src: LOWER_IP, advertIntMs: 1000 })), [
      'advert:100',
      'transition',
      'leave-master',
    ]);
  });

  it('graceful stop: a MASTER sends priority 0 and removes its VIPs', () => {
    const { m, clock } = machine(100);
    m.start();
    runUntil(m, clock, 5000);
    assert.deepEqual(types(m.stop()), ['advert:0', 'leave-master', 'transition']);
    assert.equal(m.state, 'STOP');
    assert.equal(m.nextDeadline(), undefined);
    assert.equal(m.counters.priorityZeroSent, 1);
    const { m: backup } = machine(100);
    backup.start();
    assert.deepEqual(types(backup.stop()), ['transition'], 'a BACKUP just stops');
  });

  it('FAULT: a MASTER releases (priority 0) and waits; clearing the fault goes BACKUP', () => {
    const { m, clock } = machine(100);
    m.start();
    runUntil(m, clock, 5000);
    const actions = m.setFault('interface eth0 is down');
    assert.deepEqual(types(actions), ['advert:0', 'leave-master', 'transition']);
    assert.equal(m.state, 'FAULT');
    assert.equal(m.faultReason, 'interface eth0 is down');
    assert.equal(m.nextDeadline(), undefined);
    assert.deepEqual(
      m.receive({ priority: 50, src: LOWER_IP, advertIntMs: 1000 }),
      [],
      'FAULT ignores adverts',
    );
    assert.deepEqual(transitions(m.setFault(undefined)), ['FAULT->BACKUP']);
    const { m: f } = machine(100);
    f.setFault('script chk is down');
    assert.deepEqual(transitions(f.start()), ['INIT->FAULT'], 'a fault at start');
  });

  it('priority changes (trackers): a MASTER tells the backups at once', () => {
    const { m, clock } = machine(100);
    m.start();
    runUntil(m, clock, 5000);
    assert.deepEqual(types(m.setPriority(80)), ['advert:80']);
    assert.equal(m.priority, 80);
    assert.equal(m.configuredPriority, 100);
    assert.deepEqual(m.setPriority(80), []);
    // The lower priority shortens nothing for a backup but the skew grows.
    const { m: b } = machine(100);
    b.start();
    b.setPriority(50);
    assert.equal(b.masterDownIntervalMs(), masterDownIntervalMs(50, 1000));
  });

  it('v3: a BACKUP times the master with the interval the master advertises', () => {
    const { m, clock } = machine(100, { version: 3, advertIntMs: 1000 });
    m.start();
    clock.set(2000);
    m.receive({ priority: 150, src: HIGHER_IP, advertIntMs: 100 });
    assert.equal(m.masterAdvertIntMs, 100);
    assert.equal(m.nextDeadline(), 2000 + masterDownIntervalMs(100, 100));
  });

  it('GARP schedule: a burst on MASTER, a second after garp_master_delay, refresh, lower-prio rate limit', () => {
    const garp: GarpSettings = {
      masterDelayMs: 5000,
      masterRepeat: 5,
      masterRefreshMs: 60_000,
      masterRefreshRepeat: 2,
      lowerPrioRepeat: 1,
      lowerPrioDelayMs: 5000,
      intervalMs: 0,
    };
    const { m, clock } = machine(255, { garp });
    const start = m.start();
    assert.deepEqual(
      start.filter((a) => a.type === 'garp'),
      [{ type: 'garp', repeat: 5, why: 'master' }],
    );
    const later = runUntil(m, clock, 1000 + 61_000).filter((a) => a.type === 'garp');
    assert.deepEqual(later, [
      { type: 'garp', repeat: 5, why: 'master-delay' },
      { type: 'garp', repeat: 2, why: 'refresh' },
    ]);
    const lower = () =>
      m.receive({ priority: 100, src: LOWER_IP, advertIntMs: 1000 }).filter((a) => a.type === 'garp');
    assert.equal(lower().length, 1);
    const at = clock.now();
    clock.advance(1000);
    assert.equal(lower().length, 0, 'rate limited by garp_lower_prio_delay');
    assert.deepEqual(
      runUntil(m, clock, at + 5000).filter((a) => a.type === 'garp'),
      [{ type: 'garp', repeat: 1, why: 'lower-prio' }],
      'the second set after garp_lower_prio_delay',
    );
    clock.advance(1);
    assert.equal(lower().length, 1);
  });

  it('sync grouped: an expired down timer asks the group instead of going MASTER', () => {
    const { m, clock } = machine(100, { syncGrouped: true });
    m.start();
    const actions = runUntil(m, clock, 4700);
    assert.deepEqual(types(actions), ['want-master']);
    assert.equal(m.state, 'BACKUP');
    assert.equal(m.wantsMaster, true);
    m.receive({ priority: 200, src: HIGHER_IP, advertIntMs: 1000 });
    assert.equal(m.wantsMaster, false, 'a master is heard again');
    assert.deepEqual(transitions(m.forceMaster('group')), ['BACKUP->MASTER']);
    assert.deepEqual(transitions(m.forceBackup('group')), ['MASTER->BACKUP']);
  });
});
