import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createScheduler } from '../../../src/balance/create-scheduler.ts';
import { isHastackError } from '../../../src/core/errors.ts';
import { ServiceTable, type TableAction } from '../../../src/l4/service-table.ts';
import { SERVICE_SLOT } from '../../../src/l4/slot-counters.ts';
import { CountingRr, connection, realServer, tcpCheck, vsConfig } from './fixtures.ts';

const A = realServer('10.0.0.1', 80);
const B = realServer('10.0.0.2', 80);
const C = realServer('10.0.0.3', 80);

function table(over: Parameters<typeof vsConfig>[0] = {}, scheduler = new CountingRr()) {
  const t = new ServiceTable(vsConfig({ realServers: [A, B, C], ...over }), { scheduler, capacity: 64 });
  return { t, scheduler };
}

function scripts(actions: TableAction[]): string[] {
  return actions.flatMap((a) => (a.kind === 'script' ? [`${a.event}:${a.command}`] : []));
}

function members(t: ServiceTable): string[] {
  return t.poolState().members.map((m) => `${m.key}=${m.weight}`);
}

/** Routes `n` connections and returns the chosen keys (connections stay open). */
function pickMany(t: ServiceTable, n: number, now = 0): string[] {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = connection('192.0.2.1', 1000 + i);
    const d = t.pool.pick(c, now);
    if (d === undefined) {
      keys.push('none');
      continue;
    }
    t.pool.bind(c, d, true);
    keys.push(d.key);
  }
  return keys;
}

describe('ServiceTable', () => {
  it('hands the live servers to the scheduler and spreads connections', () => {
    const { t } = table();
    t.start();
    assert.deepEqual(members(t), ['10.0.0.1:80=1', '10.0.0.2:80=1', '10.0.0.3:80=1']);
    assert.deepEqual(pickMany(t, 4), ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.1:80']);
    assert.equal(t.quorumUp, true);
  });

  it('removes a failed server from the list, or keeps it at weight 0 with inhibit_on_failure', () => {
    const plain = table().t;
    plain.start();
    plain.applyHealth('10.0.0.2:80', false, undefined, 'connect ECONNREFUSED');
    assert.deepEqual(members(plain), ['10.0.0.1:80=1', '10.0.0.3:80=1']);

    const inhibit = table({ inhibitOnFailure: true }).t;
    inhibit.start();
    inhibit.applyHealth('10.0.0.2:80', false, undefined, 'down');
    assert.deepEqual(members(inhibit), ['10.0.0.1:80=1', '10.0.0.2:80=0', '10.0.0.3:80=1']);
    const row = inhibit.rows().find((r) => r.key === '10.0.0.2:80')!;
    assert.equal(row.inTable, true);
    assert.equal(row.up, false);
    assert.ok(!pickMany(inhibit, 6).includes('10.0.0.2:80'));
  });

  it('quiesces a server with configured weight 0: listed, never picked', () => {
    const { t } = table({ realServers: [A, realServer('10.0.0.2', 80, { weight: 0 })] });
    t.start();
    assert.deepEqual(members(t), ['10.0.0.1:80=1', '10.0.0.2:80=0']);
    assert.deepEqual(pickMany(t, 3), ['10.0.0.1:80', '10.0.0.1:80', '10.0.0.1:80']);
  });

  it('calls scheduler.update only when the list or a weight changes', () => {
    const { t, scheduler } = table();
    t.start();
    const after = scheduler.updates;
    t.applyHealth('10.0.0.1:80', true, undefined, 'still up');
    pickMany(t, 5);
    assert.equal(scheduler.updates, after, 'no change, no update');
    t.setWeight('10.0.0.1:80', 3);
    assert.equal(scheduler.updates, after + 1);
    t.setWeight('10.0.0.1:80', 3);
    assert.equal(scheduler.updates, after + 1);
    const d1 = t.pool.members[0];
    t.applyHealth('10.0.0.3:80', false, undefined, 'down');
    assert.equal(scheduler.updates, after + 2);
    assert.equal(t.pool.members[0], d1, 'destination objects are stable');
  });

  it('drains: weight 0 for new connections while existing ones stay counted', () => {
    const { t } = table();
    t.start();
    const c = connection();
    const d = t.pool.pick(c, 0)!;
    t.pool.bind(c, d, true);
    t.pool.establish(c);
    t.drain(d.key);
    const row = t.rows().find((r) => r.key === d.key)!;
    assert.equal(row.weight, 0);
    assert.equal(row.draining, true);
    assert.equal(row.activeConns, 1);
    assert.ok(!pickMany(t, 4).includes(d.key));
    t.setWeight(d.key, 2);
    assert.equal(t.rows().find((r) => r.key === d.key)!.weight, 2);
    assert.equal(t.rows().find((r) => r.key === d.key)!.draining, false);
  });

  it('keeps a server removed from the config until its connections end, then reaps it', () => {
    const { t } = table();
    t.start();
    const c = connection();
    const d = t.pool.pick(c, 0)!; // 10.0.0.1
    t.pool.bind(c, d, true);
    const { removed } = t.reconfigure(vsConfig({ realServers: [B, C] }));
    assert.deepEqual(
      removed.map((r) => r.host),
      ['10.0.0.1'],
    );
    assert.deepEqual(members(t), ['10.0.0.2:80=1', '10.0.0.3:80=1']);
    const row = t.rows().find((r) => r.key === '10.0.0.1:80')!;
    assert.equal(row.removed, true);
    assert.equal(row.draining, true);
    assert.deepEqual(t.reap(), [], 'still has a connection');
    t.pool.unbind(c, 0);
    assert.equal(t.reap().length, 1);
    assert.equal(
      t.rows().some((r) => r.key === '10.0.0.1:80'),
      false,
    );
    assert.throws(
      () => t.setWeight('10.0.0.1:80', 1),
      (e) => isHastackError(e, 'HASTACK_L4_UNKNOWN_REAL_SERVER'),
    );
  });

  it('applies a misc_dynamic weight and admin overrides in order', () => {
    const { t } = table();
    t.start();
    t.applyHealth('10.0.0.1:80', true, 7, 'misc exit 9');
    assert.deepEqual(members(t)[0], '10.0.0.1:80=7');
    t.setWeight('10.0.0.1:80', 2);
    assert.deepEqual(members(t)[0], '10.0.0.1:80=2');
    // A reload that changes the configured weight drops the admin override.
    t.reconfigure(vsConfig({ realServers: [{ ...A, weight: 4 }, B, C] }));
    assert.deepEqual(members(t)[0], '10.0.0.1:80=7', 'dynamic weight still wins over configured');
  });

  it('rejects invalid admin weights and unknown servers', () => {
    const { t } = table();
    t.start();
    assert.throws(
      () => t.setWeight('10.0.0.9:80', 1),
      (e) => isHastackError(e, 'HASTACK_L4_UNKNOWN_REAL_SERVER'),
    );
    assert.throws(
      () => t.setWeight('10.0.0.1:80', -1),
      (e) => isHastackError(e, 'HASTACK_L4_INVALID_WEIGHT'),
    );
    assert.throws(
      () => t.setWeight('10.0.0.1:80', 65536),
      (e) => isHastackError(e, 'HASTACK_L4_INVALID_WEIGHT'),
    );
    assert.throws(
      () => t.drain('nope'),
      (e) => isHastackError(e, 'HASTACK_L4_UNKNOWN_REAL_SERVER'),
    );
  });

  it('runs notify_up / notify_down on real server transitions', () => {
    const rs = realServer('10.0.0.1', 80, { notifyUp: '/bin/up web1', notifyDown: '/bin/down web1' });
    const { t } = table({ realServers: [rs, B] });
    t.start();
    assert.deepEqual(scripts(t.applyHealth('10.0.0.1:80', false, undefined, 'x')), [
      'notify_down:/bin/down web1',
    ]);
    assert.deepEqual(scripts(t.applyHealth('10.0.0.1:80', false, undefined, 'x')), []);
    assert.deepEqual(scripts(t.applyHealth('10.0.0.1:80', true, undefined, 'ok')), [
      'notify_up:/bin/up web1',
    ]);
  });

  it('quorum 7 with hysteresis 2 comes up at 9 and goes down below 5 (doc sample)', () => {
    const servers = Array.from({ length: 10 }, (_, i) => realServer(`10.0.1.${i + 1}`, 80));
    const { t } = table({
      realServers: servers,
      quorum: 7,
      hysteresis: 2,
      startDown: true,
      quorumUp: '/bin/qup',
      quorumDown: '/bin/qdown',
    });
    const start = t.start();
    assert.equal(t.quorumUp, false, 'alpha: everything starts down');
    assert.deepEqual(scripts(start), [], 'without a sorry server keepalived does not notify at start');
    const keys = servers.map((s) => `${s.host}:80`);
    for (let i = 0; i < 8; i++) assert.deepEqual(scripts(t.applyHealth(keys[i]!, true, undefined, 'ok')), []);
    assert.equal(t.liveWeight, 8);
    assert.equal(t.quorumUp, false, '8 < 7+2');
    assert.deepEqual(scripts(t.applyHealth(keys[8]!, true, undefined, 'ok')), ['quorum_up:/bin/qup']);
    assert.equal(t.quorumUp, true);
    // Down again: 9 → 5 keeps quorum (≥ 7−2), 4 loses it.
    for (let i = 8; i >= 5; i--)
      assert.deepEqual(scripts(t.applyHealth(keys[i]!, false, undefined, 'x')), []);
    assert.equal(t.liveWeight, 5);
    assert.equal(t.quorumUp, true);
    assert.deepEqual(scripts(t.applyHealth(keys[4]!, false, undefined, 'x')), ['quorum_down:/bin/qdown']);
    assert.equal(t.quorumUp, false);
    assert.equal(t.liveWeight, 4);
  });

  it('starts up per alpha: with checks down, without checks up', () => {
    const noChecks = realServer('10.0.0.9', 80, { checks: [] });
    const { t } = table({ realServers: [A, noChecks], startDown: true });
    t.start();
    const rows = Object.fromEntries(t.rows().map((r) => [r.key, r.up]));
    assert.deepEqual(rows, { '10.0.0.1:80': false, '10.0.0.9:80': true });
    const perCheck = table({ realServers: [realServer('10.0.0.1', 80, { checks: [tcpCheck(true)] })] }).t;
    perCheck.start();
    assert.equal(perCheck.rows()[0]!.up, false, 'a check with alpha starts its server down');
  });

  it('notifies notify_down on the first failed check of a server that started down (alpha)', () => {
    const rs = realServer('10.0.0.1', 80, { notifyDown: '/bin/down' });
    const { t } = table({ realServers: [rs], startDown: true });
    t.start();
    assert.deepEqual(
      scripts(t.applyHealth('10.0.0.1:80', false, undefined, 'x')),
      ['/bin/down'].map((c) => `notify_down:${c}`),
    );
    assert.deepEqual(scripts(t.applyHealth('10.0.0.1:80', false, undefined, 'x')), []);
  });

  it('uses health known at registration instead of the alpha default', () => {
    const { t } = table({ startDown: true });
    t.start((key) => (key === '10.0.0.2:80' ? { up: true, weight: 5 } : undefined));
    assert.deepEqual(members(t), ['10.0.0.2:80=5']);
  });

  it('activates the sorry server when quorum is lost and removes it when quorum returns', () => {
    const { t } = table({
      realServers: [A, B],
      sorryServer: { host: '10.9.9.9', port: 8080 },
      quorumDown: '/bin/qdown',
      quorumUp: '/bin/qup',
    });
    t.start();
    assert.equal(t.sorryActive, false);
    assert.equal(t.sorryRow()!.inTable, false);
    t.applyHealth('10.0.0.1:80', false, undefined, 'x');
    const lost = t.applyHealth('10.0.0.2:80', false, undefined, 'x');
    assert.deepEqual(scripts(lost), ['quorum_down:/bin/qdown']);
    assert.equal(t.sorryActive, true);
    assert.deepEqual(pickMany(t, 2), ['10.9.9.9:8080', '10.9.9.9:8080']);
    assert.equal(t.sorryRow()!.active, true);
    const back = t.applyHealth('10.0.0.1:80', true, undefined, 'ok');
    assert.deepEqual(scripts(back), ['quorum_up:/bin/qup']);
    assert.equal(t.sorryActive, false);
    assert.deepEqual(pickMany(t, 2), ['10.0.0.1:80', '10.0.0.1:80']);
  });

  it('replaces every real server with the sorry server while quorum is lost, even live ones', () => {
    const { t } = table({
      realServers: [A, B, C],
      quorum: 3,
      sorryServer: { host: '10.9.9.9', port: 8080 },
    });
    t.start();
    t.applyHealth('10.0.0.3:80', false, undefined, 'x');
    assert.equal(t.quorumUp, false);
    assert.deepEqual(members(t), [], 'live servers leave the pool for the sorry server');
    assert.deepEqual(pickMany(t, 1), ['10.9.9.9:8080']);
  });

  it('starts with the sorry server (and quorum_down) when alpha leaves no live server', () => {
    const { t } = table({
      startDown: true,
      sorryServer: { host: '10.9.9.9', port: 8080 },
      quorumDown: '/bin/qd',
    });
    const actions = t.start();
    assert.equal(t.sorryActive, true);
    assert.deepEqual(scripts(actions), ['quorum_down:/bin/qd']);
  });

  it('sorry_server_inhibit keeps the sorry server listed at weight 0 while unused', () => {
    const { t } = table({ sorryServer: { host: '10.9.9.9', port: 8080 }, sorryServerInhibit: true });
    t.start();
    const idle = t.sorryRow()!;
    assert.equal(idle.inTable, true);
    assert.equal(idle.weight, 0);
    assert.equal(idle.active, false);
    for (const k of ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']) t.applyHealth(k, false, undefined, 'x');
    const used = t.sorryRow()!;
    assert.equal(used.active, true);
    assert.equal(used.weight, 1);
  });

  it('with no sorry server and no live server, nothing is picked', () => {
    const { t } = table();
    t.start();
    for (const k of ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']) t.applyHealth(k, false, undefined, 'x');
    assert.deepEqual(pickMany(t, 1), ['none']);
  });

  it('sets overload at uthreshold and clears it below lthreshold (or 3/4 of upper)', () => {
    const { t } = table({
      realServers: [
        realServer('10.0.0.1', 80, { upperThreshold: 4 }),
        realServer('10.0.0.2', 80, { upperThreshold: 3, lowerThreshold: 1 }),
      ],
    });
    t.start();
    const [a, b] = t.pool.members;
    const conns = [];
    for (let i = 0; i < 4; i++) {
      const c = connection('192.0.2.1', i);
      t.pool.bind(c, a!, true);
      conns.push(c);
    }
    assert.equal(a!.overloaded, true);
    assert.ok(!pickMany(t, 2).includes(a!.key), 'an overloaded server is skipped');
    t.pool.unbind(conns.pop()!, 0); // 3: 3*4 = 12 ≥ 4*3 → still overloaded
    assert.equal(a!.overloaded, true);
    t.pool.unbind(conns.pop()!, 0); // 2: 8 < 12 → clear
    assert.equal(a!.overloaded, false);

    const bc = [];
    // pickMany above bound two connections to b already.
    for (let i = 0; i < 1; i++) {
      const c = connection('192.0.2.2', i);
      t.pool.bind(c, b!, true);
      bc.push(c);
    }
    assert.equal(b!.activeConns + b!.inactiveConns, 3);
    assert.equal(b!.overloaded, true);
    assert.equal(t.rows().find((r) => r.key === b!.key)!.overloaded, true);
  });

  it('counts active and inactive like IPVS: connecting and half-closed are inactive', () => {
    const { t } = table();
    t.start();
    const c = connection();
    const d = t.pool.pick(c, 0)!;
    t.pool.bind(c, d, true);
    assert.deepEqual([d.activeConns, d.inactiveConns], [0, 1]);
    t.pool.establish(c);
    assert.deepEqual([d.activeConns, d.inactiveConns], [1, 0]);
    t.pool.finish(c);
    assert.deepEqual([d.activeConns, d.inactiveConns], [0, 1]);
    t.pool.unbind(c, 0);
    assert.deepEqual([d.activeConns, d.inactiveConns], [0, 0]);
    assert.equal(t.counters.active(SERVICE_SLOT) + t.counters.inactive(SERVICE_SLOT), 0);
  });

  it('runs omega notifiers at stop, and nothing without omega', () => {
    const rs = realServer('10.0.0.1', 80, { notifyDown: '/bin/down a' });
    const rs2 = realServer('10.0.0.2', 80, { notifyDown: '/bin/down b' });
    const omega = table({ realServers: [rs, rs2], notifyDownOnStop: true, quorumDown: '/bin/qd' }).t;
    omega.start();
    omega.applyHealth('10.0.0.2:80', false, undefined, 'x');
    assert.deepEqual(scripts(omega.stop()), ['notify_down:/bin/down a', 'quorum_down:/bin/qd']);
    assert.deepEqual(omega.stop(), []);
    const plain = table({ realServers: [rs], quorumDown: '/bin/qd' }).t;
    plain.start();
    assert.deepEqual(scripts(plain.stop()), []);
  });

  it('reload: added servers join, changed checks are reported, removed live servers notify down', () => {
    const rs = realServer('10.0.0.1', 80, { notifyDown: '/bin/down a' });
    const { t } = table({ realServers: [rs, B] });
    t.start();
    const changedB = { ...B, checks: [tcpCheck(), tcpCheck()] };
    const result = t.reconfigure(vsConfig({ realServers: [changedB, C] }));
    assert.deepEqual(scripts(result.actions), ['notify_down:/bin/down a']);
    assert.deepEqual(
      result.checksChanged.map((r) => r.host),
      ['10.0.0.2'],
    );
    assert.deepEqual(members(t), ['10.0.0.2:80=1', '10.0.0.3:80=1']);
  });

  it('persistence keeps a client network on one server and follows granularity', () => {
    const scheduler = createScheduler('rr');
    const { t } = table({ persistenceTimeoutMs: 60_000, persistenceGranularity: 24 }, scheduler as never);
    t.start();
    const first = pickMany(t, 1)[0];
    const c = connection('192.0.2.77', 5555);
    assert.equal(t.pool.pick(c, 10)!.key, first, 'same /24 → same server');
    const other = connection('198.51.100.1', 1);
    assert.notEqual(t.pool.pick(other, 10)!.key, first);
  });
});
