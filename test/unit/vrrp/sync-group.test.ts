import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { type MachineAction, VrrpInstanceMachine } from '../../../src/vrrp/instance-machine.ts';
import { type GroupMember, SyncGroup } from '../../../src/vrrp/sync-group.ts';

function group(n = 2) {
  const clock = new ManualClock(0);
  const members: GroupMember[] = [];
  for (let i = 0; i < n; i++) {
    members.push({
      name: `VI_${i + 1}`,
      machine: new VrrpInstanceMachine(
        {
          version: 3,
          advertIntMs: 100,
          preempt: true,
          preemptDelayMs: 0,
          primaryIp: 10,
          downTimerAdverts: 3,
          lowerPrioNoAdvert: false,
          higherPrioSendAdvert: false,
          garp: {
            masterDelayMs: 0,
            masterRepeat: 0,
            masterRefreshMs: 0,
            masterRefreshRepeat: 1,
            lowerPrioRepeat: 0,
            lowerPrioDelayMs: 0,
            intervalMs: 0,
          },
          syncGrouped: true,
        },
        100,
        clock,
      ),
    });
  }
  const g = new SyncGroup('G1', members);
  /** Runs actions of a member and the group's reactions, like the service does. */
  const run = (member: GroupMember, actions: MachineAction[]) => {
    const queue = [{ member, actions }];
    while (queue.length > 0) {
      const next = queue.shift()!;
      queue.push(...g.react(next.member, next.actions));
    }
  };
  return { clock, members, g, run };
}

describe('vrrp_sync_group', () => {
  it('goes MASTER only when every member wants to', () => {
    const { clock, members, g, run } = group();
    for (const m of members) run(m, m.machine.start());
    clock.set(members[0]!.machine.nextDeadline()!);
    // Member 2 still hears a master: member 1 alone must not go MASTER.
    members[1]!.machine.receive({ priority: 200, src: 20, advertIntMs: 100 });
    run(members[0]!, members[0]!.machine.tick());
    assert.deepEqual(
      members.map((m) => m.machine.state),
      ['BACKUP', 'BACKUP'],
    );
    assert.equal(members[0]!.machine.wantsMaster, true);
    // Now member 2 times out too: both go MASTER together.
    clock.set(members[1]!.machine.nextDeadline()!);
    run(members[1]!, members[1]!.machine.tick());
    assert.deepEqual(
      members.map((m) => m.machine.state),
      ['MASTER', 'MASTER'],
    );
    assert.equal(g.state, 'MASTER');
  });

  it('one member yielding to a higher priority takes the others to BACKUP', () => {
    const { clock, members, g, run } = group(3);
    for (const m of members) run(m, m.machine.start());
    run(members[0]!, members[0]!.machine.forceMaster('test'));
    assert.deepEqual(
      members.map((m) => m.machine.state),
      ['MASTER', 'MASTER', 'MASTER'],
    );
    clock.advance(50);
    run(members[2]!, members[2]!.machine.receive({ priority: 200, src: 20, advertIntMs: 100 }));
    assert.deepEqual(
      members.map((m) => m.machine.state),
      ['BACKUP', 'BACKUP', 'BACKUP'],
    );
    assert.equal(g.state, 'BACKUP');
  });

  it('a fault in one member holds every member in FAULT until no member has one', () => {
    const { members, g, run } = group(2);
    for (const m of members) run(m, m.machine.start());
    run(members[0]!, members[0]!.machine.forceMaster('test'));
    members[0]!.machine.setFault('interface eth1 is down');
    for (const r of g.syncFault()) run(r.member, r.actions);
    assert.deepEqual(
      members.map((m) => m.machine.state),
      ['FAULT', 'FAULT'],
    );
    members[1]!.machine.setFault('script chk is down');
    members[0]!.machine.setFault(undefined);
    for (const r of g.syncFault()) run(r.member, r.actions);
    assert.deepEqual(
      members.map((m) => m.machine.state),
      ['FAULT', 'FAULT'],
      'member 2 still has a fault',
    );
    members[1]!.machine.setFault(undefined);
    for (const r of g.syncFault()) run(r.member, r.actions);
    assert.deepEqual(
      members.map((m) => m.machine.state),
      ['BACKUP', 'BACKUP'],
    );
  });
});
