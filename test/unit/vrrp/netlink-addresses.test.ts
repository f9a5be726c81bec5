import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NetlinkSocket } from '../../../src/core/raw-net.ts';
import { NetlinkAddresses } from '../../../src/vrrp/netlink-addresses.ts';
import {
  encodeAddressRequest,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_CREATE,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  parseAcks,
  RTM_DELADDR,
  RTM_NEWADDR,
} from '../../../src/vrrp/rtnetlink.ts';

/*
 * The rtnetlink path of IP takeover without root: the message bytes (as the
 * kernel's linux/if_addr.h lays them out, checked against what `ip addr replace`
 * sends), ack parsing, and NetlinkAddresses against a fake kernel socket — acks
 * read at once, acks that come later, errors, "already gone", and a kernel that
 * never answers.
 */

interface Decoded {
  type: number;
  flags: number;
  seq: number;
  prefix: number;
  scope: number;
  ifindex: number;
  attrs: Map<number, Buffer>;
}

function decodeRequests(datagram: Buffer): Decoded[] {
  const out: Decoded[] = [];
  let at = 0;
  while (at < datagram.length) {
    const len = datagram.readUInt32LE(at);
    const attrs = new Map<number, Buffer>();
    let a = at + 24;
    while (a < at + len) {
      const alen = datagram.readUInt16LE(a);
      attrs.set(datagram.readUInt16LE(a + 2), datagram.subarray(a + 4, a + alen));
      a += (alen + 3) & ~3;
    }
    out.push({
      type: datagram.readUInt16LE(at + 4),
      flags: datagram.readUInt16LE(at + 6),
      seq: datagram.readUInt32LE(at + 8),
      prefix: datagram[at + 17]!,
      scope: datagram[at + 19]!,
      ifindex: datagram.readUInt32LE(at + 20),
      attrs,
    });
    at += (len + 3) & ~3;
  }
  return out;
}

/** An NLMSG_ERROR ack as the kernel sends it with NETLINK_CAP_ACK and NETLINK_EXT_ACK. */
function ack(seq: number, errno = 0, message?: string): Buffer {
  const text = message === undefined ? undefined : Buffer.concat([Buffer.from(message), Buffer.alloc(1)]);
  const tlv = text === undefined ? 0 : (4 + text.length + 3) & ~3;
  const buf = Buffer.alloc(16 + 4 + 16 + tlv);
  buf.writeUInt32LE(buf.length, 0);
  buf.writeUInt16LE(NLMSG_ERROR, 4);
  buf.writeUInt16LE(NLM_F_CAPPED | (text === undefined ? 0 : NLM_F_ACK_TLVS), 6);
  buf.writeUInt32LE(seq, 8);
  buf.writeInt32LE(-errno, 16);
  buf.writeUInt32LE(40, 20); // the echoed request header (len, type...): only the header with CAP_ACK
  if (text !== undefined) {
    buf.writeUInt16LE(4 + text.length, 36);
    buf.writeUInt16LE(1, 38); // NLMSGERR_ATTR_MSG
    text.copy(buf, 40);
  }
  return buf;
}

class FakeKernel {
  sent: Decoded[] = [];
  queued: Buffer[] = [];
  onMessage: ((err: Error | null, packet: Buffer | null) => void) | undefined;
  /** How to answer one request: errno, or 'later' (through the poll callback), or 'never'. */
  answer: (d: Decoded) => number | 'later' | 'never' = () => 0;
  later: Buffer[] = [];
  opened = 0;
  closedSockets = 0;

  open = (onMessage: (err: Error | null, packet: Buffer | null) => void): NetlinkSocket => {
    this.opened++;
    this.onMessage = onMessage;
    let closed = false;
    return {
      send: (messages) => {
        for (const d of decodeRequests(messages)) {
          this.sent.push(d);
          const a = this.answer(d);
          if (a === 'later') this.later.push(ack(d.seq));
          else if (a !== 'never') this.queued.push(ack(d.seq, a, a === 0 ? undefined : 'kernel says no'));
        }
      },
      readNow: () => this.queued.splice(0),
      close: () => {
        closed = true;
        this.closedSockets++;
      },
      get closed() {
        return closed;
      },
    };
  };

  deliverLater(): void {
    for (const b of this.later.splice(0)) this.onMessage?.(null, b);
  }
}

const VIP = { address: '10.0.0.100', prefix: 24, dev: 'eth0' };
const ifindex = (name: string) => (name === 'eth0' ? 2 : name === 'eth1' ? 3 : undefined);

describe('rtnetlink messages', () => {
  it('RTM_NEWADDR replace: header, ifaddrmsg and attributes as `ip addr replace … valid_lft 1` sends them', () => {
    const msg = encodeAddressRequest(
      'replace',
      { ifindex: 7, address: '10.77.0.100', prefix: 24, brd: '+', label: 'eth0:vip', scope: 'link' },
      0x01020304,
      { validLftSec: 1, preferredLftSec: 1 },
    );
    assert.equal(msg.readUInt32LE(0), msg.length);
    const [d] = decodeRequests(msg);
    assert.equal(d!.type, RTM_NEWADDR);
    assert.equal(d!.flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
    assert.deepEqual([d!.seq, d!.prefix, d!.scope, d!.ifindex], [0x01020304, 24, 253, 7]);
    assert.equal(msg[16], 2, 'AF_INET');
    assert.deepEqual([...d!.attrs.get(2)!], [10, 77, 0, 100], 'IFA_LOCAL');
    assert.deepEqual([...d!.attrs.get(1)!], [10, 77, 0, 100], 'IFA_ADDRESS');
    assert.deepEqual([...d!.attrs.get(4)!], [10, 77, 0, 255], 'IFA_BROADCAST from brd +');
    assert.equal(d!.attrs.get(3)!.toString(), 'eth0:vip\0', 'IFA_LABEL');
    const ci = d!.attrs.get(6)!;
    assert.deepEqual([ci.readUInt32LE(0), ci.readUInt32LE(4)], [1, 1], 'IFA_CACHEINFO preferred, valid');
  });

  it('RTM_DELADDR carries only the address; no lifetime means a permanent address', () => {
    const [del] = decodeRequests(encodeAddressRequest('del', { ifindex: 2, ...VIP, label: 'x' }, 9));
    assert.equal(del!.type, RTM_DELADDR);
    assert.equal(del!.flags, NLM_F_REQUEST | NLM_F_ACK);
    assert.deepEqual([...del!.attrs.keys()].sort(), [1, 2]);
    const [perm] = decodeRequests(encodeAddressRequest('replace', { ifindex: 2, ...VIP }, 10));
    assert.equal(perm!.attrs.has(6), false);
    const [slash32] = decodeRequests(
      encodeAddressRequest('replace', { ifindex: 2, address: '10.0.0.1', prefix: 32, brd: '+' }, 11),
    );
    assert.equal(slash32!.attrs.has(4), false, 'no broadcast for /31 and /32 (iproute2)');
  });

  it('parses acks, errors with the kernel text, and survives garbage', () => {
    const two = Buffer.concat([ack(5), ack(6, 22, 'ipv4: address lifetime invalid')]);
    assert.deepEqual(parseAcks(two), [
      { seq: 5, errno: 0 },
      { seq: 6, errno: 22, code: 'EINVAL', message: 'ipv4: address lifetime invalid' },
    ]);
    assert.deepEqual(parseAcks(ack(7, 99)), [{ seq: 7, errno: 99, code: 'EADDRNOTAVAIL' }]);
    assert.deepEqual(parseAcks(Buffer.alloc(3)), []);
    assert.deepEqual(parseAcks(ack(8).subarray(0, 30)), [], 'truncated');
    const bad = ack(9, 1, 'x');
    bad.writeUInt16LE(200, 36); // attribute longer than the message
    assert.deepEqual(parseAcks(bad), [{ seq: 9, errno: 1, code: 'EPERM' }]);
  });
});

describe('NetlinkAddresses', () => {
  it('sends every VIP in one datagram and settles on the acks read at once', async () => {
    const kernel = new FakeKernel();
    const nl = new NetlinkAddresses({ open: kernel.open, ifindex });
    let settled = false;
    const done = nl
      .add([VIP, { address: '10.0.1.100', prefix: 32, dev: 'eth1' }], { validLftSec: 2, preferredLftSec: 2 })
      .then(() => {
        settled = true;
      });
    assert.equal(kernel.sent.length, 2);
    assert.deepEqual(
      kernel.sent.map((d) => d.ifindex),
      [2, 3],
    );
    await done;
    assert.ok(settled);
    await nl.remove([VIP]);
    assert.equal(kernel.sent.at(-1)!.type, RTM_DELADDR);
    assert.equal(kernel.opened, 1, 'one socket for every request');
    nl.close();
    assert.equal(kernel.closedSockets, 1);
  });

  it('acks that arrive later (socket reader) settle the request', async () => {
    const kernel = new FakeKernel();
    kernel.answer = () => 'later';
    const nl = new NetlinkAddresses({ open: kernel.open, ifindex });
    let settled = false;
    const done = nl.add([VIP]).then(() => {
      settled = true;
    });
    await Promise.resolve();
    assert.equal(settled, false);
    kernel.deliverLater();
    await done;
    assert.ok(settled);
    nl.close();
  });

  it('a refused address fails with the kernel’s reason; "already gone" on removal does not', async () => {
    const kernel = new FakeKernel();
    kernel.answer = (d) => (d.type === RTM_NEWADDR ? 19 : 99);
    const nl = new NetlinkAddresses({ open: kernel.open, ifindex });
    await assert.rejects(nl.add([VIP]), {
      code: 'HASTACK_VRRP_IP_FAILED',
      message: 'VIP add failed: 10.0.0.100/24 dev eth0: ENODEV (kernel says no)',
    });
    await nl.remove([VIP, { address: '10.0.0.101', prefix: 24, dev: 'gone0' }]);
    assert.equal(
      kernel.sent.filter((d) => d.type === RTM_DELADDR).length,
      1,
      'no request for a missing device',
    );
    await assert.rejects(nl.add([{ ...VIP, dev: 'gone0' }]), /gone0: no such interface/);
    nl.close();
  });

  it('a kernel that never answers fails after the timeout; close fails what is waiting', async () => {
    const kernel = new FakeKernel();
    kernel.answer = () => 'never';
    const nl = new NetlinkAddresses({ open: kernel.open, ifindex, timeoutMs: 20 });
    await assert.rejects(nl.add([VIP]), /no answer from the kernel within 20 ms/);
    const waiting = nl.remove([VIP]);
    nl.close();
    await assert.rejects(waiting, /closed before the kernel answered/);
  });

  it('a send error (socket) rejects instead of throwing', async () => {
    const nl = new NetlinkAddresses({
      open: () => {
        throw Object.assign(new Error('socket(AF_NETLINK): Operation not permitted'), { code: 'EPERM' });
      },
      ifindex,
    });
    await assert.rejects(nl.add([VIP]), /Operation not permitted/);
    await nl.add([]);
  });
});
