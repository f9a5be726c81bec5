import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../src/core/clock.ts';
import { vrrpSectionSchema } from '../../../src/vrrp/config-schema.ts';
import type { MachineAction, MachineSettings } from '../../../src/vrrp/instance-machine.ts';
import { longestMasterDownMs, masterDownIntervalMs, vipLeaseMs } from '../../../src/vrrp/vrrp-timers.ts';
import { HIGHER_IP, LOWER_IP, NO_GARP, newMachine, transitions } from './machine-fixture.ts';

/*
 * VIP leases (issue 7) on the manual clock: the lifetime derived from the timers,
 * when a MASTER renews, that a master under load never loses its lease while a
 * lost lease always means every backup has taken over, the step down of a master
 * that was stopped, and the extra GARP burst after a silent master's lease.
 */

/** VRRPv3 at 100 ms with a default VIP lease and a 5-GARP burst on becoming MASTER. */
function machine(priority: number, settings: Partial<MachineSettings> = {}) {
  return newMachine(priority, {
    version: 3,
    advertIntMs: 100,
    garp: { ...NO_GARP, masterRepeat: 5 },
    vipLease: {},
    ...settings,
  });
}

const count = (actions: readonly MachineAction[], type: MachineAction['type']) =>
  actions.filter((a) => a.type === type).length;

/** A master by priority 255 (at once), with the clock at 1000. */
function master(settings: Partial<MachineSettings> = {}) {
  const made = machine(255, settings);
  made.m.start();
  return made;
}

describe('VIP lease lifetime', () => {
  it('is the longest backup Master_Down_Interval rounded up to whole seconds', () => {
    assert.equal(Math.round(longestMasterDownMs(100)), 400);
    assert.equal(vipLeaseMs(undefined, 100), 1000, 'v3 at 100 ms');
    assert.equal(vipLeaseMs(undefined, 200), 1000, 'v3 at 200 ms: 799 ms');
    assert.equal(vipLeaseMs(undefined, 250), 2000, '999 ms + a 50 ms margin');
    assert.equal(vipLeaseMs(undefined, 237), 1000, '947 ms + 50 ms');
    assert.equal(vipLeaseMs(undefined, 1000), 5000, 'v2 at 1 s: 3.996 s');
    assert.equal(vipLeaseMs(undefined, 1000, 5), 7000, 'down_timer_adverts 5');
    assert.equal(vipLeaseMs(3000, 1000), 3000, 'vip_lease overrides');
    for (let interval = 10; interval <= 40_950; interval += 7) {
      for (const priority of [1, 100, 254]) {
        assert.ok(vipLeaseMs(undefined, interval) >= masterDownIntervalMs(priority, interval) + 50);
      }
    }
  });

  it('config: on by default, false turns it off, a duration fixes it (whole seconds)', () => {
    const parse = (extra: Record<string, unknown>, section: Record<string, unknown> = {}) =>
      vrrpSectionSchema.safeParse({
        ...section,
        instances: [{ name: 'VI_1', interface: 'eth0', virtual_router_id: 51, ...extra }],
      });
    const lease = (r: ReturnType<typeof parse>) => (r.success ? r.data.instances[0]!.vipLease : 'error');
    assert.deepEqual(lease(parse({})), {});
    assert.equal(lease(parse({ vip_lease: false })), undefined);
    assert.deepEqual(lease(parse({ vip_lease: '3s' })), { fixedMs: 3000 });
    assert.deepEqual(lease(parse({ vip_lease: 4 })), { fixedMs: 4000 }, 'a bare number is seconds');
    assert.equal(lease(parse({}, { vip_lease: false })), undefined, 'a section default');
    assert.deepEqual(lease(parse({ vip_lease: true }, { vip_lease: false })), {}, 'the instance wins');
    for (const bad of ['1500ms', '0s', '2d']) {
      const r = parse({ vip_lease: bad });
      assert.equal(r.success, false, bad);
      assert.match(JSON.stringify(r.error?.issues), /whole seconds/);
      assert.deepEqual(r.error?.issues[0]?.path, ['instances', 0, 'vip_lease']);
    }
  });
});

describe('VIP lease renewal', () => {
  it('the VIPs are added with the lease, and renewed only as often as the lease needs (100 ms adverts)', () => {
    const { m, clock } = machine(100);
    m.start();
    clock.advance(400);
    const takeover = m.tick();
    const enter = takeover.find((a) => a.type === 'enter-master');
    assert.deepEqual(enter, { type: 'enter-master', leaseMs: 1000, downTimerLateMs: 39.0625 });
    assert.equal(count(takeover, 'renew-vips'), 0, 'the add carries the lease');
    const renewedAt: number[] = [];
    for (let i = 0; i < 60; i++) {
      clock.set(m.nextDeadline()!);
      if (m.tick().some((a) => a.type === 'renew-vips')) renewedAt.push(clock.now());
    }
    const gaps = renewedAt.slice(1).map((t, i) => Math.round(t - renewedAt[i]!));
    // 1000 − 400 − 50 = 550 ms of slack: every 6th advert.
    assert.ok(
      gaps.every((g) => g === 600),
      gaps.join(' '),
    );
    assert.equal(m.counters.leaseRenewals, renewedAt.length);
  });

  it('1 s adverts renew with every advert; no lease means no renewals and permanent VIPs', () => {
    const { m, clock } = master({ version: 2, advertIntMs: 1000 });
    let renewals = 0;
    for (let i = 0; i < 10; i++) {
      clock.set(m.nextDeadline()!);
      renewals += count(m.tick(), 'renew-vips');
    }
    assert.equal(renewals, 10);
    const off = machine(255, { vipLease: undefined });
    const actions = off.m.start();
    assert.deepEqual(
      actions.find((a) => a.type === 'enter-master'),
      { type: 'enter-master' },
    );
    for (let i = 0; i < 20; i++) {
      off.clock.set(off.m.nextDeadline()!);
      assert.equal(count(off.m.tick(), 'renew-vips'), 0);
    }
    assert.equal(off.m.leaseMs, undefined);
  });

  it('after a failed renewal the next advert renews again', () => {
    const { m, clock } = master();
    clock.set(m.nextDeadline()!);
    assert.equal(count(m.tick(), 'renew-vips'), 0);
    m.renewFailed();
    clock.set(m.nextDeadline()!);
    assert.equal(count(m.tick(), 'renew-vips'), 1);
  });

  it('under load (adverts up to 2.5 intervals late) a master never loses its lease', () => {
    for (const [interval, seed] of [
      [100, 1],
      [200, 2],
      [1000, 3],
    ] as const) {
      const { m, clock } = master({ advertIntMs: interval, version: interval === 1000 ? 2 : 3 });
      const random = seededRandom(seed);
      const lease = m.leaseMs!;
      let renewedAt = clock.now();
      let worstAge = 0;
      for (let i = 0; i < 5000; i++) {
        // The event loop fires the advert timer late by up to 2.5 intervals.
        clock.set(m.nextDeadline()! + random() * interval * 2.5);
        const actions = m.tick();
        worstAge = Math.max(worstAge, clock.now() - renewedAt);
        assert.equal(transitions(actions).length, 0, `interval ${interval}: no transition at ${clock.now()}`);
        if (actions.some((a) => a.type === 'renew-vips')) renewedAt = clock.now();
      }
      assert.equal(m.state, 'MASTER');
      assert.equal(m.counters.leaseLapses, 0);
      // The kernel removes the address no earlier than lease − 20 ms after a renewal.
      assert.ok(worstAge < lease - 20, `interval ${interval}: oldest lease ${worstAge} of ${lease}`);
    }
  });

  it('a lost lease always means every backup has taken over (random stalls)', () => {
    // 237 ms: a lease (1 s) only 53 ms longer than the longest down interval.
    for (const interval of [100, 200, 237, 330, 1000]) {
      const { m, clock } = master({ advertIntMs: interval });
      const random = seededRandom(interval);
      const lease = m.leaseMs!;
      const longest = longestMasterDownMs(interval);
      let renewedAt = clock.now();
      let advertAt = clock.now();
      let lapses = 0;
      for (let i = 0; i < 5000 && m.state === 'MASTER'; i++) {
        const stall = random() < 0.02 ? random() * lease * 1.5 : random() * interval;
        clock.set(m.nextDeadline()! + stall);
        // Kernel view: the lease ended (at the earliest) before this event.
        const leaseGone = clock.now() >= renewedAt + lease - 20;
        if (leaseGone) {
          assert.ok(
            renewedAt + lease - 20 >= advertAt + longest,
            `interval ${interval}: lease gone at ${renewedAt + lease - 20}, a backup heard us at ${advertAt}`,
          );
        }
        const actions = m.tick();
        if (transitions(actions).includes('MASTER->BACKUP')) {
          lapses++;
          assert.ok(leaseGone || clock.now() >= renewedAt + lease - 50, 'steps down only near the lease end');
          assert.equal(count(actions, 'send-advert'), 0, 'no advert, no renewal after a lapse');
          assert.equal(count(actions, 'leave-master'), 1);
          break;
        }
        assert.ok(!leaseGone, 'the machine noticed every lost lease');
        if (actions.some((a) => a.type === 'send-advert')) advertAt = clock.now();
        if (actions.some((a) => a.type === 'renew-vips')) renewedAt = clock.now();
      }
      assert.equal(lapses, 1, `interval ${interval}: a long enough stall happened`);
    }
  });
});

describe('a stopped or hung master (lease lapsed)', () => {
  it('returns to BACKUP on its first timer after SIGCONT, without re-adding the VIPs', () => {
    const { m, clock } = master();
    clock.advance(3000); // SIGSTOP … SIGCONT
    const actions = m.tick();
    assert.deepEqual(transitions(actions), ['MASTER->BACKUP']);
    assert.deepEqual(
      actions.map((a) => a.type),
      ['transition', 'leave-master'],
    );
    const reason = actions.find((a) => a.type === 'transition');
    assert.match(
      reason?.type === 'transition' ? reason.reason : '',
      /VIP lease lapsed: not renewed for 3000 ms/,
    );
    assert.equal(m.counters.leaseLapses, 1);
    assert.equal(m.leaseRenewedAt, undefined);
  });

  it('reads the queued adverts as a BACKUP: a higher master is accepted', () => {
    const { m, clock } = machine(150);
    m.start();
    clock.advance(400);
    m.tick();
    assert.equal(m.state, 'MASTER');
    clock.advance(3000);
    const actions = m.receive({ priority: 200, src: HIGHER_IP, advertIntMs: 100 });
    assert.deepEqual(transitions(actions), ['MASTER->BACKUP']);
    assert.equal(count(actions, 'send-advert'), 0);
    assert.equal(m.masterIp, HIGHER_IP);
    for (let t = 0; t < 20; t++) {
      clock.advance(100);
      m.receive({ priority: 200, src: HIGHER_IP, advertIntMs: 100 });
      assert.deepEqual(m.tick(), []);
    }
    assert.equal(m.state, 'BACKUP');
  });

  it('nopreempt: stays BACKUP behind the lower priority node that took over', () => {
    const { m, clock } = machine(150, { preempt: false });
    m.start();
    clock.advance(400);
    m.tick();
    clock.advance(3000);
    assert.deepEqual(transitions(m.receive({ priority: 100, src: LOWER_IP, advertIntMs: 100 })), [
      'MASTER->BACKUP',
    ]);
    for (let t = 0; t < 50; t++) {
      clock.advance(100);
      m.receive({ priority: 100, src: LOWER_IP, advertIntMs: 100 });
      assert.equal(transitions(m.tick()).length, 0);
    }
    assert.equal(m.masterIp, LOWER_IP);
  });

  it('preempt: ignores the lower master and takes over after its down interval (a normal preemption)', () => {
    const { m, clock } = machine(150);
    m.start();
    clock.advance(400);
    m.tick();
    clock.advance(3000);
    const resumedAt = clock.now();
    m.receive({ priority: 100, src: LOWER_IP, advertIntMs: 100 });
    let tookOver: number | undefined;
    let taken: MachineAction[] = [];
    while (tookOver === undefined) {
      clock.advance(100);
      m.receive({ priority: 100, src: LOWER_IP, advertIntMs: 100 });
      clock.set(Math.min(clock.now() + 99, m.nextDeadline() ?? Number.POSITIVE_INFINITY));
      taken = m.tick();
      if (m.state === 'MASTER') tookOver = clock.now();
    }
    assert.equal(Math.round(tookOver - resumedAt), Math.round(masterDownIntervalMs(150, 100)));
    assert.ok(taken.some((a) => a.type === 'enter-master'));
    assert.ok(m.counters.lowerPriorityIgnored > 0);
  });

  it('a stall shorter than the lease keeps MASTER (and renews at the late advert)', () => {
    const { m, clock } = master({ advertIntMs: 1000, version: 2 });
    clock.advance(3900); // late by ~3 intervals, lease 5 s
    const actions = m.tick();
    assert.equal(transitions(actions).length, 0);
    assert.equal(count(actions, 'renew-vips'), 1);
    assert.equal(m.state, 'MASTER');
  });
});

describe('GARP after a silent master’s lease', () => {
  it('a backup that took over from a silent master announces again once that lease must be gone', () => {
    const { m, clock } = machine(100);
    m.start();
    clock.set(1050);
    m.receive({ priority: 150, src: HIGHER_IP, advertIntMs: 100 });
    const lastHeard = clock.now();
    clock.set(m.nextDeadline()!);
    const takeover = m.tick();
    assert.deepEqual(transitions(takeover), ['BACKUP->MASTER']);
    const garps: [number, string][] = [];
    for (const a of takeover) if (a.type === 'garp') garps.push([clock.now(), a.why]);
    while (clock.now() < 5000) {
      clock.set(m.nextDeadline()!);
      for (const a of m.tick()) if (a.type === 'garp') garps.push([clock.now(), a.why]);
    }
    // The peer's lease (1 s) plus the kernel's removal delay (1.3 s) after its last advert.
    assert.deepEqual(garps, [
      [lastHeard + masterDownIntervalMs(100, 100), 'master'],
      [lastHeard + 2300, 'lease'],
    ]);
  });

  it('not after a priority 0 advert (the master removed its VIPs) nor with leases off', () => {
    for (const [settings, goodbye] of [
      [{}, true],
      [{ vipLease: undefined }, false],
    ] as const) {
      const { m, clock } = machine(100, settings);
      m.start();
      clock.set(1050);
      m.receive({ priority: 150, src: HIGHER_IP, advertIntMs: 100 });
      if (goodbye) {
        clock.set(1100);
        m.receive({ priority: 0, src: HIGHER_IP, advertIntMs: 100 });
      }
      const whys: string[] = [];
      while (clock.now() < 5000) {
        clock.set(m.nextDeadline()!);
        for (const a of m.tick()) if (a.type === 'garp') whys.push(a.why);
      }
      assert.deepEqual(whys, ['master']);
    }
  });
});
