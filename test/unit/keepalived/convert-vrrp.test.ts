import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeepalivedConfig } from '../../../src/keepalived/index.ts';

const CONF = `
global_defs {
   vrrp_version 3
   vrrp_garp_master_delay 2
   vrrp_garp_master_repeat 3
   vrrp_garp_master_refresh 60
   vrrp_garp_lower_prio_repeat 2
   vrrp_lower_prio_no_advert
   vrrp_higher_prio_send_advert true
   vrrp_notify_fifo /run/ka.fifo
   vrrp_startup_delay 0.5
   v3_checksum_as_v2
   vrrp_strict
   vrrp_iptables
}
vrrp_script chk_nginx {
    script "/usr/bin/pgrep -x 'nginx master'"
    interval 2
    timeout 1
    weight -20 reverse
    rise 2
    fall 3
    init_fail
    user nobody
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.1
    nopreempt
    preempt_delay 30
    unicast_src_ip 10.0.0.11
    unicast_peer {
        10.0.0.12
        10.0.0.13 min_ttl 250 max_ttl 255
    }
    virtual_ipaddress {
        10.0.0.100/24 dev eth1 brd 10.0.0.255 label eth1:1 scope global
        10.0.0.101
        2001:db8::1/64
    }
    virtual_ipaddress_excluded {
        10.0.1.100/24 no_track
    }
    track_interface {
        eth1 weight -30
        eth2
    }
    track_script {
        chk_nginx weight 10
    }
    notify_master "/etc/keepalived/to-master.sh 'VI 1'"
    notify /etc/keepalived/notify.sh root
    use_vmac vrrp51 00:00:5e:00:01:33
    garp_master_repeat 1
    down_timer_adverts 5
    accept
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    authentication {
        auth_type PASS
        auth_pass secret12345
    }
    version 2
    virtual_ipaddress {
        10.0.0.102/24
    }
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
    notify_fault /etc/keepalived/fault.sh
    track_script {
        chk_nginx
    }
}
`;

describe('keepalived.conf VRRP blocks → the vrrp section', () => {
  const loaded = parseKeepalivedConfig(CONF, '/etc/keepalived/keepalived.conf', { instanceId: 'lb1' });
  const vrrp = loaded.config.sections.vrrp!;
  const [vi1, vi2] = vrrp.instances;

  it('converts vrrp_instance keys', () => {
    assert.deepEqual(
      [
        vi1!.initialState,
        vi1!.version,
        vi1!.advertIntMs,
        vi1!.preempt,
        vi1!.preemptDelayMs,
        vi1!.downTimerAdverts,
      ],
      ['MASTER', 3, 100, false, 30_000, 5],
    );
    assert.deepEqual(vi1!.unicastPeers, [
      { address: '10.0.0.12' },
      { address: '10.0.0.13', minTtl: 250, maxTtl: 255 },
    ]);
    assert.deepEqual(vi1!.vips, [
      { address: '10.0.0.100', prefix: 24, dev: 'eth1', brd: '10.0.0.255', label: 'eth1:1', scope: 'global' },
      { address: '10.0.0.101', prefix: 32 },
    ]);
    assert.deepEqual(vi1!.excludedVips, [{ address: '10.0.1.100', prefix: 24 }]);
    assert.deepEqual(vi1!.trackInterfaces, [
      { interface: 'eth1', weight: -30, reverse: false },
      { interface: 'eth2', weight: 0, reverse: false },
    ]);
    assert.deepEqual(vi1!.trackScripts, [{ script: 'chk_nginx', weight: 10 }]);
    assert.deepEqual(vi1!.notify, {
      master: "/etc/keepalived/to-master.sh 'VI 1'",
      notify: '/etc/keepalived/notify.sh',
    });
    assert.deepEqual(vi1!.vmac, { name: 'vrrp51', mac: '00:00:5e:00:01:33' });
    assert.equal(vi2!.authPass, 'secret12345');
    assert.equal(vi2!.version, 2, 'the instance overrides vrrp_version');
  });

  it('applies the global_defs VRRP keys as defaults', () => {
    assert.deepEqual(vi1!.garp, {
      masterDelayMs: 2000,
      masterRepeat: 1,
      masterRefreshMs: 60_000,
      masterRefreshRepeat: 1,
      lowerPrioRepeat: 2,
      lowerPrioDelayMs: 5000,
      intervalMs: 0,
    });
    assert.equal(vi2!.garp.masterRepeat, 3);
    assert.deepEqual(
      [vi1!.lowerPrioNoAdvert, vi1!.higherPrioSendAdvert, vi1!.v3ChecksumAsV2],
      [true, true, true],
    );
    assert.equal(vrrp.notifyFifo, '/run/ka.fifo');
    assert.equal(vrrp.startupDelayMs, 500);
  });

  it('converts vrrp_script and vrrp_sync_group', () => {
    assert.deepEqual(vrrp.scripts, [
      {
        name: 'chk_nginx',
        command: "/usr/bin/pgrep -x 'nginx master'",
        intervalMs: 2000,
        timeoutMs: 1000,
        weight: -20,
        weightReverse: true,
        rise: 2,
        fall: 3,
        initFail: true,
      },
    ]);
    assert.deepEqual(vrrp.syncGroups, [
      { name: 'G1', members: ['VI_1', 'VI_2'], notify: { fault: '/etc/keepalived/fault.sh' } },
    ]);
  });

  it('names what it skips, with the line', () => {
    const seen = loaded.warnings.map(
      (w) => `${w.line} ${w.code.replace('HASTACK_KEEPALIVED_', '')} ${w.message.split('"')[1] ?? w.message}`,
    );
    assert.deepEqual(seen, [
      '13 UNSUPPORTED vrrp_strict',
      '14 IGNORED vrrp_iptables',
      '24 IGNORED user',
      '42 UNSUPPORTED IPv6 address 2001:db8::1/64 skipped: hastack runs VRRP over IPv4 only',
      '45 IGNORED no_track',
      '55 IGNORED notify',
      '59 IGNORED accept',
      '79 UNSUPPORTED track_script',
    ]);
    assert.ok(!seen.some((s) => s.includes('nothing to balance')), 'a VRRP-only file is not "empty"');
  });

  it('refuses AH authentication and a v2 instance with a sub-second interval, with lines', () => {
    assert.throws(
      () =>
        parseKeepalivedConfig(
          'vrrp_instance X {\n interface eth0\n virtual_router_id 1\n authentication {\n  auth_type AH\n  auth_pass x\n }\n}\n',
          'k.conf',
        ),
      (err: Error & { issues: { line?: number; message: string }[] }) => {
        assert.equal(err.issues[0]!.line, 4);
        assert.match(err.issues[0]!.message, /AH/);
        return true;
      },
    );
    assert.throws(
      () =>
        parseKeepalivedConfig(
          'vrrp_instance X {\n interface eth0\n virtual_router_id 1\n advert_int 0.5\n}\n',
          'k.conf',
        ),
      (err: Error & { issues: { line?: number; message: string }[] }) => {
        assert.equal(err.issues[0]!.line, 4);
        assert.match(err.issues[0]!.message, /whole seconds/);
        return true;
      },
    );
  });
});
