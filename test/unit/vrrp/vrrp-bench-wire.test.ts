import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWireLine } from '../../../bench/lib/advert-watch.ts';

// The failover bench times its kill and the backup's takeover from these tcpdump lines.
describe('failover bench: tcpdump lines', () => {
  it('a VRRP advert: capture time in ms and its source', () => {
    assert.deepEqual(
      parseWireLine(
        '1795624000.716121 IP 10.77.0.12 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 100, intvl 10cs, length 12',
      ),
      { at: 1795624000716.121, kind: 'vrrp', source: '10.77.0.12' },
    );
    assert.equal(
      parseWireLine('1795619359.946275 IP 10.77.0.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 51')?.source,
      '10.77.0.11',
    );
  });

  it('gratuitous ARP in every form tcpdump prints it, about the VIP', () => {
    const forms = [
      '1795624000.716620 ARP, Request who-has 10.77.0.100 (ff:ff:ff:ff:ff:ff) tell 10.77.0.100, length 46',
      '1795624000.716620 ARP, Request who-has 10.77.0.100 tell 10.77.0.100, length 28',
      '1795624000.716620 ARP, Announcement 10.77.0.100, length 28',
      '1795624000.716620 ARP, Reply 10.77.0.100 is-at 02:00:00:00:00:01, length 28',
    ];
    for (const line of forms) {
      assert.deepEqual(
        parseWireLine(line),
        { at: 1795624000716.62, kind: 'arp', source: '10.77.0.100' },
        line,
      );
    }
  });

  it('ignores a client asking for the VIP, other traffic and noise', () => {
    for (const line of [
      '1795619359.946275 ARP, Request who-has 10.77.0.100 tell 10.77.0.10, length 28',
      '1795619359.946275 IP 10.77.0.10.5555 > 10.77.0.100.80: Flags [S], seq 1, length 0',
      'listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
      '',
    ]) {
      assert.equal(parseWireLine(line), undefined, line);
    }
  });
});
