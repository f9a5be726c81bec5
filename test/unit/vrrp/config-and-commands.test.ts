import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYamlConfig } from '../../../src/config/load-config.ts';
import { addressCommand, batchErrors, IpAddressCommands } from '../../../src/vrrp/ip-address-commands.ts';
import { formatVrrpStatus } from '../../../src/vrrp/status-format.ts';
import type { VrrpSnapshot } from '../../../src/vrrp/vrrp-service.ts';

const BASE = `
admin: false
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: 51
      virtual_ipaddress: [10.0.0.100/24]
`;

describe('vrrp section of hastack.yaml', () => {
  it('fills keepalived defaults', () => {
    const vrrp = parseYamlConfig(BASE).sections.vrrp!;
    const i = vrrp.instances[0]!;
    assert.deepEqual(
      [
        i.priority,
        i.version,
        i.advertIntMs,
        i.preempt,
        i.preemptDelayMs,
        i.initialState,
        i.mcastGroup,
        i.trackPrimary,
      ],
      [100, 2, 1000, true, 0, 'BACKUP', '224.0.0.18', true],
    );
    assert.deepEqual(i.garp, {
      masterDelayMs: 5000,
      masterRepeat: 5,
      masterRefreshMs: 0,
      masterRefreshRepeat: 1,
      lowerPrioRepeat: 1,
      lowerPrioDelayMs: 5000,
      intervalMs: 0,
    });
    assert.deepEqual(i.vips, [{ address: '10.0.0.100', prefix: 24 }]);
    assert.equal(vrrp.startupDelayMs, 0);
  });

  it('reads every feature: v3, unicast, VIP options, trackers, scripts, groups, notify, vmac, globals', () => {
    const vrrp = parseYamlConfig(`
vrrp:
  version: 3
  garp_master_delay: 1
  notify_fifo: /run/vrrp.fifo
  scripts:
    - { name: chk, script: "/bin/true", interval: 2, weight: -20, fall: 2, rise: 3 }
  instances:
    - name: VI_1
      interface: eth0
      state: MASTER
      virtual_router_id: 51
      priority: 150
      advert_int: 100ms
      nopreempt: true
      unicast_src_ip: 10.0.0.11
      unicast_peer: [10.0.0.12, { address: 10.0.0.13, min_ttl: 250 }]
      virtual_ipaddress:
        - 10.0.0.100/24 dev eth1 brd + label eth1:vip scope global
        - { address: 10.0.0.101, dev: eth1 }
        - 10.0.0.102
      virtual_ipaddress_excluded: [10.0.1.100/24]
      track_interface: [eth1, { interface: eth2, weight: -10 }]
      track_script: [chk, { script: chk, weight: 5, reverse: true }]
      notify_master: /bin/m
      notify: /bin/n
      use_vmac: true
      garp_master_repeat: 2
    - name: VI_2
      interface: eth0
      virtual_router_id: 52
      use_vmac: vip52
  sync_groups:
    - { name: G1, group: [VI_1, VI_2], notify_fault: /bin/f }
`).sections.vrrp!;
    const [a, b] = vrrp.instances;
    assert.deepEqual([a!.version, a!.advertIntMs, a!.preempt, a!.initialState], [3, 100, false, 'MASTER']);
    assert.deepEqual(a!.unicastPeers, [{ address: '10.0.0.12' }, { address: '10.0.0.13', minTtl: 250 }]);
    assert.deepEqual(a!.vips, [
      { address: '10.0.0.100', prefix: 24, dev: 'eth1', brd: '+', label: 'eth1:vip', scope: 'global' },
      { address: '10.0.0.101', prefix: 32, dev: 'eth1' },
      { address: '10.0.0.102', prefix: 32 },
    ]);
    assert.deepEqual(a!.trackInterfaces, [
      { interface: 'eth1', weight: 0, reverse: false },
      { interface: 'eth2', weight: -10, reverse: false },
    ]);
    assert.deepEqual(a!.trackScripts, [{ script: 'chk' }, { script: 'chk', weight: 5, reverse: true }]);
    assert.deepEqual(a!.notify, { master: '/bin/m', notify: '/bin/n' });
    assert.deepEqual(a!.vmac, { name: 'vrrp.51' });
    assert.deepEqual([a!.garp.masterRepeat, a!.garp.masterDelayMs], [2, 1000]);
    assert.deepEqual(b!.vmac, { name: 'vip52' });
    assert.equal(b!.version, 3);
    assert.deepEqual(vrrp.scripts[0], {
      name: 'chk',
      command: '/bin/true',
      intervalMs: 2000,
      timeoutMs: 2000,
      weight: -20,
      weightReverse: false,
      rise: 3,
      fall: 2,
      initFail: false,
    });
    assert.deepEqual(vrrp.syncGroups, [
      { name: 'G1', members: ['VI_1', 'VI_2'], notify: { fault: '/bin/f' } },
    ]);
    assert.equal(vrrp.notifyFifo, '/run/vrrp.fifo');
  });

  it('rejects bad values with the key path and line', () => {
    const bad = (yaml: string, pattern: RegExp) =>
      assert.throws(
        () => parseYamlConfig(yaml),
        (err: Error & { issues?: { path: string; line?: number }[] }) => {
          assert.match(`${err.message} ${JSON.stringify(err.issues)}`, pattern);
          return true;
        },
      );
    bad(BASE.replace('51', '0'), /virtual_router_id/);
    bad(BASE.replace('10.0.0.100/24', '10.0.0.300/24'), /IPv4 address/);
    bad(BASE.replace('[10.0.0.100/24]', '["10.0.0.100/24 dev"]'), /dev IF/);
    bad(`${BASE}      advert_int: 1.5\n`, /whole seconds/);
    bad(`${BASE}      version: 3\n      advert_int: 5ms\n`, /10ms/);
    bad(
      `${BASE}      version: 3\n      authentication: { auth_type: PASS, auth_pass: x }\n`,
      /no authentication/,
    );
    bad(`${BASE}      track_script: [nope]\n`, /no vrrp script named "nope"/);
    bad(
      `${BASE}    - name: VI_1\n      interface: eth0\n      virtual_router_id: 52\n`,
      /duplicate instance name/,
    );
    bad(`${BASE}    - name: VI_2\n      interface: eth0\n      virtual_router_id: 51\n`, /already used/);
    bad(`${BASE}  sync_groups: [{ name: G, group: [VI_9] }]\n`, /no instance named "VI_9"/);
    bad(`${BASE}      interface_typo: eth0\n`, /interface_typo/);
  });
});

describe('iproute2 commands', () => {
  it('builds add/del/change lines with VIP options and an optional lifetime', () => {
    const vip = {
      address: '10.0.0.100',
      prefix: 24,
      dev: 'eth0',
      brd: '+',
      label: 'eth0:1',
      scope: 'global' as const,
    };
    assert.equal(
      addressCommand('add', vip),
      'addr add 10.0.0.100/24 brd + scope global dev eth0 label eth0:1',
    );
    assert.equal(addressCommand('del', vip), 'addr del 10.0.0.100/24 dev eth0');
    assert.equal(
      addressCommand(
        'change',
        { address: '10.0.0.1', prefix: 32, dev: 'eth1' },
        { validLftSec: 5, preferredLftSec: 5 },
      ),
      'addr change 10.0.0.1/32 dev eth1 valid_lft 5 preferred_lft 5',
    );
  });

  it('treats "already there" / "already gone" as success, anything else as an error', async () => {
    assert.deepEqual(batchErrors('add', 'RTNETLINK answers: File exists\nCommand failed -:1\n'), []);
    assert.deepEqual(
      batchErrors('del', 'RTNETLINK answers: Cannot assign requested address\nCommand failed -:1\n'),
      [],
    );
    assert.deepEqual(batchErrors('del', 'Error: ipv4: Address not found.\nCommand failed -:1\n'), []);
    assert.deepEqual(batchErrors('add', 'Cannot find device "eth9"\nCommand failed -:2\n'), [
      'Cannot find device "eth9"',
    ]);
    const calls: [readonly string[], string][] = [];
    const ip = new IpAddressCommands(async (args, stdin) => {
      calls.push([args, stdin]);
      return { code: 1, stderr: 'Error: any valid prefix is expected rather than "x".\nCommand failed -:1' };
    });
    await assert.rejects(ip.add([{ address: '10.0.0.1', prefix: 32, dev: 'eth0' }]), {
      code: 'HASTACK_VRRP_IP_FAILED',
    });
    assert.deepEqual(calls, [[['-4', '-force', '-batch', '-'], 'addr replace 10.0.0.1/32 dev eth0\n']]);
    await ip.remove([]); // nothing to do: no process
    assert.equal(calls.length, 1);
  });
});

describe('hastack status for vrrp', () => {
  it('shows state, effective/configured priority, master and counters', () => {
    const snapshot: VrrpSnapshot = {
      instances: [
        {
          name: 'VI_1',
          state: 'BACKUP',
          interface: 'eth0',
          vrid: 51,
          version: 3,
          advertIntMs: 100,
          priority: 80,
          configuredPriority: 100,
          masterAddress: '10.0.0.12',
          masterPriority: 150,
          sourceAddress: '10.0.0.11',
          unicastPeers: [],
          preempt: true,
          vips: ['10.0.0.100/24 dev eth0'],
          vipsInstalled: false,
          vipBackend: 'netlink',
          vipLease: { seconds: 1, renewedAgoMs: null, renewals: 12, lapses: 1, renewErrors: 0 },
          lastTakeover: {
            at: '2026-01-01T00:00:00.000Z',
            reason: 'master down timer expired',
            downTimerLateMs: 0.8,
            vipAddMs: 0.15,
            firstGarpMs: 0.31,
            backend: 'netlink',
          },
          lastTransition: { at: '2026-01-01T00:00:00.000Z', from: 'INIT', to: 'BACKUP', reason: 'started' },
          counters: {
            becameMaster: 1,
            releasedMaster: 1,
            advertsSent: 9,
            advertsAccepted: 40,
            priorityZeroReceived: 0,
            priorityZeroSent: 0,
            lowerPriorityIgnored: 0,
            lowerPriorityAnswered: 0,
            advertsReceived: 42,
            sendErrors: 0,
            garpsSent: 5,
            garpErrors: 0,
            ipErrors: 0,
            leaseRenewals: 12,
            leaseLapses: 1,
          },
          drops: { ttl: 2 },
        },
      ],
      syncGroups: [{ name: 'G1', state: 'BACKUP', members: ['VI_1'] }],
      scripts: [{ name: 'chk', ok: false, consecutiveOk: 0, consecutiveFail: 3, runs: 10, failures: 3 }],
      files: [{ name: 'maint', path: '/run/maint', value: 5, reads: 3 }],
      processes: [
        {
          name: 'haproxy',
          up: false,
          count: 0,
          quorum: 1,
          quorumMax: null,
          source: 'proc-connector',
          pending: 'down',
        },
      ],
      channels: [],
      notify: { fifo: null, fifoDropped: 0, scriptsRun: 0, scriptFailures: 0 },
    };
    const text = formatVrrpStatus(snapshot);
    assert.match(text, /VI_1\s+BACKUP\s+80\/100\s+51\s+v3\s+eth0\s+10\.0\.0\.12\s+42\s+9\s+1\s+2/);
    assert.match(text, /dropped ttl=2/);
    assert.match(text, /via netlink; lease 1s, renewals 12, lapses 1/);
    assert.match(text, /last takeover .*: timer late 0\.8 ms, VIPs 0\.15 ms, first GARP 0\.31 ms/);
    assert.match(text, /G1\s+BACKUP\s+VI_1/);
    assert.match(text, /chk\s+FAILED/);
    assert.match(text, /maint\s+5\s+\/run\/maint \(reads 3\)/);
    assert.match(text, /haproxy\s+DOWN\s+0 running, quorum 1\.\.any, via proc-connector \(pending down\)/);
    assert.equal(formatVrrpStatus(null), 'VRRP: no status\n');
  });
});
