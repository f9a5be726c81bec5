import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatStatus,
  largeNum,
  prefixToMask,
  type StatusVirtualServer,
} from '../../../src/cli/format-status.ts';

const zeroStats = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
const zeroRates = { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };

const service: StatusVirtualServer = {
  name: 'web',
  protocol: 'tcp',
  address: '127.0.0.1:8080',
  scheduler: 'wlc',
  persistenceTimeoutMs: 300_000,
  persistenceGranularity: 24,
  stats: { conns: 12, inPkts: 40, outPkts: 38, inBytes: 4096, outBytes: 123_456_789_012 },
  rates: { cps: 3, inPps: 10, outPps: 9, inBps: 800, outBps: 1200 },
  notes: ['quorum up (live weight 2 >= 1)'],
  realServers: [
    {
      address: '127.0.0.1:8001',
      forward: 'Masq',
      weight: 1,
      activeConns: 2,
      inactiveConns: 5,
      stats: { ...zeroStats, conns: 7 },
      rates: zeroRates,
      inTable: true,
      health: 'up: http ok',
    },
    {
      address: '127.0.0.1:8002',
      forward: 'Masq',
      weight: 0,
      activeConns: 0,
      inactiveConns: 0,
      stats: zeroStats,
      rates: zeroRates,
      inTable: false,
      health: 'down: connect ECONNREFUSED',
    },
  ],
};

describe('formatStatus (ipvsadm layout)', () => {
  it('prints the -Ln table, hiding servers not in the table', () => {
    const out = formatStatus([service], 'table');
    assert.equal(
      out,
      [
        'IP Virtual Server version 1.2.1 (size=4096)',
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
        'TCP  127.0.0.1:8080 wlc persistent 300 mask 255.255.255.0',
        '  -> 127.0.0.1:8001               Masq    1      2          5         ',
        '',
      ].join('\n'),
    );
  });

  it('shows every server with health in verbose mode', () => {
    const out = formatStatus([service], 'table', true);
    assert.match(out, /127\.0\.0\.1:8002 +Masq +0/);
    assert.match(out, /down: connect ECONNREFUSED/);
    assert.match(out, /quorum up/);
  });

  it('prints --stats and --rate columns', () => {
    const stats = formatStatus([service], 'stats').split('\n');
    assert.equal(stats[1], 'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes');
    assert.equal(stats[2], '  -> RemoteAddress:Port');
    assert.equal(stats[3], 'TCP  127.0.0.1:8080                     12       40       38     4096   123456M');
    assert.equal(stats[4], '  -> 127.0.0.1:8001                      7        0        0        0        0');
    const rate = formatStatus([service], 'rate').split('\n');
    assert.equal(rate[1], 'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS');
    assert.equal(rate[3], 'TCP  127.0.0.1:8080                      3       10        9      800     1200');
  });

  it('shortens large numbers like ipvsadm and converts prefixes to masks', () => {
    assert.equal(largeNum(99_999_999), '99999999');
    assert.equal(largeNum(100_000_000), '  100000K');
    assert.equal(prefixToMask(24), '255.255.255.0');
    assert.equal(prefixToMask(0), '0.0.0.0');
    assert.equal(prefixToMask(32), '255.255.255.255');
  });
});
