import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AdvertCheckSettings, checkAdvert } from '../../../src/vrrp/advert-check.ts';
import type { Ipv4Header } from '../../../src/vrrp/ipv4-header.ts';
import { ipv4ToInt } from '../../../src/vrrp/ipv4-header.ts';
import { fifoLine, notifyCommands } from '../../../src/vrrp/notify-format.ts';
import { effectivePriority, ScriptDamper, trackerEffect } from '../../../src/vrrp/tracking.ts';
import { AUTH_NONE, AUTH_PASS, passAuthData, type VrrpAdvert } from '../../../src/vrrp/vrrp-packet.ts';

const GROUP = ipv4ToInt('224.0.0.18');
const VIP = ipv4ToInt('10.0.0.100');
const PEER = ipv4ToInt('10.0.0.12');

function settings(overrides: Partial<AdvertCheckSettings> = {}): AdvertCheckSettings {
  return {
    vrid: 51,
    version: 2,
    advertIntMs: 1000,
    primaryIp: ipv4ToInt('10.0.0.11'),
    mcastGroup: GROUP,
    authData: undefined,
    vips: [VIP],
    skipCheckAdvAddr: false,
    unicastPeers: new Map(),
    checkUnicastSrc: false,
    ...overrides,
  };
}

const ip = (overrides: Partial<Ipv4Header> = {}): Ipv4Header => ({
  headerLength: 20,
  totalLength: 40,
  tos: 0xc0,
  ttl: 255,
  protocol: 112,
  src: PEER,
  dst: GROUP,
  ...overrides,
});

const advert = (overrides: Partial<VrrpAdvert> = {}): VrrpAdvert => ({
  version: 2,
  vrid: 51,
  priority: 100,
  advertIntMs: 1000,
  addresses: [VIP],
  authType: AUTH_NONE,
  authData: new Uint8Array(8),
  ...overrides,
});

describe('advert acceptance rules (each a drop counter)', () => {
  it('accepts a matching advert', () => {
    assert.equal(checkAdvert(settings(), ip(), advert()), undefined);
  });
  it('drops TTL ≠ 255 on multicast', () => {
    assert.equal(checkAdvert(settings(), ip({ ttl: 254 }), advert()), 'ttl');
  });
  it('drops a wrong VRID, a wrong version and our own looped advert', () => {
    assert.equal(checkAdvert(settings(), ip(), advert({ vrid: 52 })), 'vrid');
    assert.equal(checkAdvert(settings(), ip(), advert({ version: 3 })), 'version');
    assert.equal(checkAdvert(settings(), ip({ src: ipv4ToInt('10.0.0.11') }), advert()), 'own');
  });
  it('drops wrong authentication (type or password)', () => {
    const pass = settings({ authData: passAuthData('secret') });
    assert.equal(checkAdvert(pass, ip(), advert()), 'auth', 'no auth where PASS is expected');
    assert.equal(
      checkAdvert(pass, ip(), advert({ authType: AUTH_PASS, authData: passAuthData('wrong') })),
      'auth',
    );
    assert.equal(
      checkAdvert(pass, ip(), advert({ authType: AUTH_PASS, authData: passAuthData('secret') })),
      undefined,
    );
    assert.equal(
      checkAdvert(settings(), ip(), advert({ authType: AUTH_PASS })),
      'auth',
      'PASS where none is expected',
    );
  });
  it('drops a wrong address count, and other addresses unless skip_check_adv_addr', () => {
    assert.equal(checkAdvert(settings(), ip(), advert({ addresses: [VIP, VIP + 1] })), 'address-count');
    assert.equal(checkAdvert(settings(), ip(), advert({ addresses: [VIP + 1] })), 'addresses');
    assert.equal(
      checkAdvert(settings({ skipCheckAdvAddr: true }), ip(), advert({ addresses: [VIP + 1] })),
      undefined,
    );
  });
  it('v2 drops an interval mismatch; v3 accepts it (the backup learns it)', () => {
    assert.equal(checkAdvert(settings(), ip(), advert({ advertIntMs: 2000 })), 'interval');
    assert.equal(
      checkAdvert(settings({ version: 3 }), ip(), advert({ version: 3, advertIntMs: 200, authType: 0 })),
      undefined,
    );
  });
  it('unicast: source check and per-peer TTL bounds', () => {
    const peers = new Map([[PEER, { minTtl: 250, maxTtl: 255 }]]);
    const uni = settings({ unicastPeers: peers, checkUnicastSrc: true });
    const toUs = { dst: ipv4ToInt('10.0.0.11') };
    assert.equal(checkAdvert(uni, ip(toUs), advert()), undefined);
    assert.equal(checkAdvert(uni, ip({ ...toUs, ttl: 64 }), advert()), 'ttl');
    assert.equal(checkAdvert(uni, ip({ ...toUs, src: PEER + 5 }), advert()), 'unicast-source');
    assert.equal(
      checkAdvert(settings({ unicastPeers: peers }), ip({ ...toUs, src: PEER + 5, ttl: 3 }), advert()),
      undefined,
      'without check_unicast_src any source, any TTL',
    );
  });
});

describe('trackers and effective priority', () => {
  it('weight 0 means FAULT while down (reverse: while up)', () => {
    assert.equal(trackerEffect('interface eth1', true, 0, false).fault, undefined);
    assert.match(trackerEffect('interface eth1', false, 0, false).fault ?? '', /eth1 is down/);
    assert.match(trackerEffect('interface eth1', true, 0, true).fault ?? '', /reverse/);
  });
  it('positive weights add while up, negative weights while down', () => {
    assert.equal(trackerEffect('s', true, 10, false).delta, 10);
    assert.equal(trackerEffect('s', false, 10, false).delta, 0);
    assert.equal(trackerEffect('s', true, -20, false).delta, 0);
    assert.equal(trackerEffect('s', false, -20, false).delta, -20);
    assert.equal(trackerEffect('s', true, -20, true).delta, -20);
  });
  it('clamps to 1..254 and never changes an owner', () => {
    assert.equal(effectivePriority(100, [-20, 10]), 90);
    assert.equal(effectivePriority(100, [-253]), 1);
    assert.equal(effectivePriority(200, [100]), 254);
    assert.equal(effectivePriority(255, [-100]), 255);
  });
  it('vrrp_script rise/fall damping, init_fail', () => {
    const d = new ScriptDamper(2, 3, false);
    assert.equal(d.ok, true);
    assert.equal(d.record(false), false);
    assert.equal(d.record(false), false);
    assert.equal(d.record(false), true);
    assert.equal(d.ok, false);
    assert.equal(d.record(true), false);
    assert.equal(d.record(true), true);
    assert.equal(d.ok, true);
    assert.equal(new ScriptDamper(1, 1, true).ok, false);
  });
});

describe('notifications in keepalived formats', () => {
  it('FIFO lines', () => {
    assert.equal(fifoLine('INSTANCE', 'VI_1', 'MASTER', 100), 'INSTANCE "VI_1" MASTER 100\n');
    assert.equal(fifoLine('GROUP', 'G1', 'BACKUP'), 'GROUP "G1" BACKUP\n');
  });
  it('notify_<state> then notify with INSTANCE name STATE priority', () => {
    const scripts = {
      master: '/bin/m',
      backup: '/bin/b',
      fault: '/bin/f',
      stop: '/bin/s',
      notify: '/bin/n x',
    };
    assert.deepEqual(notifyCommands(scripts, 'INSTANCE', 'VI_1', 'MASTER', 150), [
      '/bin/m',
      '/bin/n x INSTANCE VI_1 MASTER 150',
    ]);
    assert.deepEqual(notifyCommands(scripts, 'GROUP', "g'1", 'FAULT', 0), [
      '/bin/f',
      `/bin/n x GROUP 'g'\\''1' FAULT 0`,
    ]);
    assert.deepEqual(notifyCommands({}, 'INSTANCE', 'VI_1', 'STOP', 0), []);
    assert.deepEqual(notifyCommands(scripts, 'INSTANCE', 'VI_1', 'STOP', 0)[0], '/bin/s');
  });
});
