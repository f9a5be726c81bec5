import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../src/core/clock.ts';
import { inetChecksum } from '../../../src/core/inet-checksum.ts';
import { ipv4ToInt, parseIpv4Header } from '../../../src/vrrp/ipv4-header.ts';
import {
  AUTH_PASS,
  advertIntField,
  decodeAdvert,
  encodeAdvert,
  passAuthData,
  type VrrpAdvert,
} from '../../../src/vrrp/vrrp-packet.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const GROUP = ipv4ToInt('224.0.0.18');

/** The reference's RFC 9568 vector: v3, VRID 51, priority 200, 100 cs, VIP 192.0.2.100, message-only checksum. */
const RFC9568_VECTOR = hex('31 33 c8 01 00 64 44 02 c0 00 02 64');
/** keepalived 2.2.7 captures (vrrp-packets/): VRID 51, priority 150, VIP 10.200.0.254 from 10.200.0.11. */
const KA_V2_FRAME = hex(`0100 5e00 0012 a2d9 2721 ea55 0800 45c0 0028 0005 0000 ff70 cfbb 0ac8 000b e000
  0012 2133 9601 0001 3d04 0ac8 00fe 0000 0000 0000 0000`);
const KA_V3_FRAME = hex(`0100 5e00 0012 a2d9 2721 ea55 0800 45c0 0020 000c 0000 ff70 cfbc 0ac8 000b e000
  0012 3133 9601 000a 4199 0ac8 00fe`);
const KA_SRC = ipv4ToInt('10.200.0.11');
const KA_VIP = ipv4ToInt('10.200.0.254');

function advert(overrides: Partial<VrrpAdvert> = {}): VrrpAdvert {
  return {
    version: 3,
    vrid: 51,
    priority: 150,
    advertIntMs: 100,
    addresses: [KA_VIP],
    authType: 0,
    authData: new Uint8Array(0),
    ...overrides,
  };
}

describe('VRRP codec: reference vectors', () => {
  it('encodes the RFC 9568 test vector (v3, checksum over the message only)', () => {
    const out = encodeAdvert(
      advert({ vrid: 51, priority: 200, advertIntMs: 1000, addresses: [ipv4ToInt('192.0.2.100')] }),
      { src: 0, dst: GROUP, v3ChecksumAsV2: true },
    );
    assert.deepEqual(out, RFC9568_VECTOR);
  });

  it('decodes the RFC 9568 vector when set for message-only checksums, and names the mismatch otherwise', () => {
    const ok = decodeAdvert(RFC9568_VECTOR, 0, RFC9568_VECTOR.length, 0xc0000201, GROUP, true);
    assert.ok(ok.ok);
    assert.deepEqual(
      [ok.advert.version, ok.advert.vrid, ok.advert.priority, ok.advert.advertIntMs, ok.advert.addresses],
      [3, 51, 200, 1000, [ipv4ToInt('192.0.2.100')]],
    );
    const strict = decodeAdvert(RFC9568_VECTOR, 0, RFC9568_VECTOR.length, 0xc0000201, GROUP, false);
    assert.equal(strict.ok, false);
    assert.equal(!strict.ok && strict.reason, 'checksum');
    assert.equal(!strict.ok && strict.otherChecksumMethod, true);
    assert.match(!strict.ok ? strict.detail : '', /v3_checksum_as_v2/);
  });

  it("encodes exactly keepalived 2.2.7's v3 advert (pseudo-header checksum 0x4199)", () => {
    const out = encodeAdvert(advert({ advertIntMs: 100 }), { src: KA_SRC, dst: GROUP });
    assert.deepEqual(out, KA_V3_FRAME.subarray(34));
    // Over the message alone it would be 0x2cfb, as the reference says.
    const plain = encodeAdvert(advert({ advertIntMs: 100 }), {
      src: KA_SRC,
      dst: GROUP,
      v3ChecksumAsV2: true,
    });
    assert.equal(plain.readUInt16BE(6), 0x2cfb);
  });

  it("encodes exactly keepalived 2.2.7's v2 advert (no auth, 1 s, 8 zero auth bytes)", () => {
    const out = encodeAdvert(advert({ version: 2, advertIntMs: 1000 }), { src: KA_SRC, dst: GROUP });
    assert.deepEqual(out, KA_V2_FRAME.subarray(34));
  });

  it('parses the captured IPv4 headers: TTL 255, TOS 0xc0, protocol 112, addresses', () => {
    for (const frame of [KA_V2_FRAME, KA_V3_FRAME]) {
      const ip = parseIpv4Header(frame.subarray(14));
      assert.ok(ip.ok);
      assert.deepEqual(
        [
          ip.header.ttl,
          ip.header.tos,
          ip.header.protocol,
          ip.header.src,
          ip.header.dst,
          ip.header.headerLength,
        ],
        [255, 0xc0, 112, KA_SRC, GROUP, 20],
      );
      assert.equal(inetChecksum(frame, 14, 34), 0, 'the captured IP header checksum is valid');
      const datagram = frame.subarray(14);
      const decoded = decodeAdvert(datagram, 20, ip.header.totalLength, ip.header.src, ip.header.dst);
      assert.ok(decoded.ok);
      assert.deepEqual(
        [decoded.advert.vrid, decoded.advert.priority, decoded.advert.addresses],
        [51, 150, [KA_VIP]],
      );
    }
  });

  it('round-trips v2 with PASS authentication (only 8 bytes of the password are used)', () => {
    const auth = passAuthData('secret-password');
    assert.deepEqual(Buffer.from(auth).toString(), 'secret-p');
    const a = advert({
      version: 2,
      advertIntMs: 3000,
      authType: AUTH_PASS,
      authData: auth,
      addresses: [1, 2, 3],
    });
    const out = encodeAdvert(a, { src: KA_SRC, dst: GROUP });
    assert.equal(out.length, 8 + 12 + 8);
    const back = decodeAdvert(out, 0, out.length, KA_SRC, GROUP);
    assert.ok(back.ok);
    assert.deepEqual(
      [back.advert.authType, Buffer.from(back.advert.authData).toString(), back.advert.advertIntMs],
      [AUTH_PASS, 'secret-p', 3000],
    );
    assert.deepEqual(Buffer.from(passAuthData('abc')), Buffer.from([0x61, 0x62, 0x63, 0, 0, 0, 0, 0]));
  });

  it('carries intervals in the units of each version', () => {
    assert.equal(advertIntField(2, 1000), 1);
    assert.equal(advertIntField(2, 400), 1, 'v2 cannot go below a second');
    assert.equal(advertIntField(3, 100), 10);
    assert.equal(advertIntField(3, 40_950), 4095);
    const v3 = encodeAdvert(advert({ advertIntMs: 40_950 }), { src: 1, dst: GROUP });
    assert.equal(v3.readUInt16BE(4) & 0x0fff, 4095);
  });
});

describe('VRRP codec: malformed input is a counted drop, never an exception', () => {
  const good = encodeAdvert(advert(), { src: KA_SRC, dst: GROUP });
  const decode = (buf: Uint8Array) => decodeAdvert(buf, 0, buf.length, KA_SRC, GROUP);
  const reason = (buf: Uint8Array) => {
    const r = decode(buf);
    return r.ok ? 'ok' : r.reason;
  };

  it('rejects short, unknown-version, non-advert and truncated-address packets', () => {
    assert.equal(reason(good), 'ok');
    assert.equal(reason(good.subarray(0, 7)), 'truncated');
    const v4 = Buffer.from(good);
    v4[0] = 0x41;
    assert.equal(reason(v4), 'version');
    const type2 = Buffer.from(good);
    type2[0] = 0x32;
    assert.equal(reason(type2), 'type');
    const tooMany = Buffer.from(good);
    tooMany[3] = 5; // claims 5 addresses, holds 1
    assert.equal(reason(tooMany), 'length');
  });

  it('rejects a flipped bit (checksum) and a zero interval', () => {
    const flipped = Buffer.from(good);
    flipped[2] ^= 0x01;
    assert.equal(reason(flipped), 'checksum');
    const zero = encodeAdvert(advert(), { src: KA_SRC, dst: GROUP });
    zero[4] = 0;
    zero[5] = 0;
    zero.writeUInt16BE(0, 6);
    zero.writeUInt16BE(
      inetChecksum(
        zero,
        0,
        zero.length,
        (KA_SRC >>> 16) + (KA_SRC & 0xffff) + (GROUP >>> 16) + (GROUP & 0xffff) + 112 + zero.length,
      ),
      6,
    );
    assert.equal(reason(zero), 'interval');
  });

  it('rejects bad IPv4 headers', () => {
    assert.equal(parseIpv4Header(Buffer.alloc(10)).ok, false);
    const v6 = Buffer.from(KA_V3_FRAME.subarray(14));
    v6[0] = 0x60;
    assert.equal(parseIpv4Header(v6).ok, false);
    const ihl = Buffer.from(KA_V3_FRAME.subarray(14));
    ihl[0] = 0x4f; // 60-byte header in a 32-byte datagram
    assert.equal(parseIpv4Header(ihl).ok, false);
    const total = Buffer.from(KA_V3_FRAME.subarray(14));
    total.writeUInt16BE(10, 2);
    assert.equal(parseIpv4Header(total).ok, false);
  });

  it('survives 20 000 random and mutated datagrams', () => {
    const random = seededRandom(112);
    for (let i = 0; i < 20_000; i++) {
      const base = i % 2 === 0 ? Buffer.from(good) : Buffer.alloc(Math.floor(random() * 64));
      for (let j = 0; j < base.length; j++)
        if (i % 2 === 1 || random() < 0.1) base[j] = Math.floor(random() * 256);
      const r = decode(base);
      assert.equal(typeof r.ok, 'boolean');
      parseIpv4Header(base);
    }
  });
});

describe('gratuitous ARP frames', () => {
  it('is a broadcast ARP request for the VIP from the VIP, padded to 60 bytes', async () => {
    const { gratuitousArp, parseMac, virtualMac, formatMac } = await import('../../../src/vrrp/arp-frame.ts');
    const mac = parseMac('a2:d9:27:21:ea:55');
    const frame = gratuitousArp(mac, ipv4ToInt('10.200.0.254'));
    assert.equal(frame.length, 60);
    assert.equal(
      frame.subarray(0, 42).toString('hex'),
      'ffffffffffff' +
        'a2d92721ea55' +
        '0806' +
        '0001' +
        '0800' +
        '06' +
        '04' +
        '0001' +
        'a2d92721ea55' +
        '0ac800fe' +
        'ffffffffffff' +
        '0ac800fe',
    );
    assert.equal(virtualMac(51), '00:00:5e:00:01:33');
    assert.equal(formatMac(mac), 'a2:d9:27:21:ea:55');
    assert.throws(() => parseMac('a2:d9:27:21:ea'), RangeError);
  });
});
