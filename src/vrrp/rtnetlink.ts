import { constants } from 'node:os';
import { intToIpv4, ipv4ToInt } from './ipv4-header.ts';
import {
  align4,
  forEachNetlinkMessage,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  writeNetlinkHeader,
} from './netlink-message.ts';

/*
 * The few rtnetlink messages IP takeover needs (linux/netlink.h, linux/rtnetlink.h,
 * linux/if_addr.h): RTM_NEWADDR with NLM_F_CREATE|NLM_F_REPLACE (add, or refresh
 * the lifetime of, an IPv4 address — what `ip addr replace` sends), RTM_DELADDR,
 * and the kernel's acks (NLMSG_ERROR, with the extended-ack text when present).
 * Pure: builds and parses bytes; the socket is the addon's. Host byte order
 * (little endian on every platform hastack's addon builds for) except addresses.
 */

export { NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN };
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_CREATE = 0x400;
/** In an ack: the request was not echoed (NETLINK_CAP_ACK). */
export const NLM_F_CAPPED = 0x100;
/** In an ack: extended-ack attributes follow (NETLINK_EXT_ACK). */
export const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;

const AF_INET = 2;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;
const IFA_CACHEINFO = 6;
const IFADDRMSG_LEN = 8;
const IFNAMSIZ = 16;

/** The kernel's scope numbers (rtnetlink.h rt_scope_t). */
const SCOPES = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export type AddressScope = keyof typeof SCOPES;

export interface NetlinkAddress {
  ifindex: number;
  address: string;
  prefix: number;
  /** A broadcast address, or '+' for the subnet's (prefixes up to /30, as iproute2). */
  brd?: string;
  label?: string;
  scope?: AddressScope;
}

/** Lifetime in seconds (the kernel's unit); absent = permanent. */
export interface NetlinkLifetime {
  validLftSec: number;
  preferredLftSec: number;
}

function putAttr(buf: Buffer, at: number, type: number, payload: Buffer): number {
  buf.writeUInt16LE(4 + payload.length, at);
  buf.writeUInt16LE(type, at + 2);
  payload.copy(buf, at + 4);
  return at + align4(4 + payload.length);
}

function ipv4Bytes(address: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ipv4ToInt(address) >>> 0, 0);
  return b;
}

function broadcastOf(address: string, prefix: number): string | undefined {
  if (prefix > 30) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return intToIpv4((ipv4ToInt(address) | ~mask) >>> 0);
}

/**
 * One RTM_NEWADDR (op 'replace': create or refresh, lifetime included) or
 * RTM_DELADDR request asking for an ack, with sequence number `seq`.
 */
export function encodeAddressRequest(
  op: 'replace' | 'del',
  a: NetlinkAddress,
  seq: number,
  lifetime?: NetlinkLifetime,
): Buffer {
  const local = ipv4Bytes(a.address);
  const brd =
    op === 'replace' && a.brd !== undefined
      ? a.brd === '+'
        ? broadcastOf(a.address, a.prefix)
        : a.brd
      : undefined;
  const label =
    op === 'replace' && a.label !== undefined
      ? Buffer.concat([Buffer.from(a.label.slice(0, IFNAMSIZ - 1), 'utf8'), Buffer.alloc(1)])
      : undefined;
  let cacheinfo: Buffer | undefined;
  if (op === 'replace' && lifetime !== undefined) {
    // struct ifa_cacheinfo { ifa_prefered, ifa_valid, cstamp, tstamp } (the stamps are output only).
    cacheinfo = Buffer.alloc(16);
    cacheinfo.writeUInt32LE(lifetime.preferredLftSec >>> 0, 0);
    cacheinfo.writeUInt32LE(lifetime.validLftSec >>> 0, 4);
  }
  const length =
    NLMSG_HDRLEN +
    IFADDRMSG_LEN +
    2 * align4(4 + 4) +
    (brd === undefined ? 0 : align4(4 + 4)) +
    (label === undefined ? 0 : align4(4 + label.length)) +
    (cacheinfo === undefined ? 0 : align4(4 + 16));
  const buf = Buffer.alloc(length);
  writeNetlinkHeader(
    buf,
    op === 'replace' ? RTM_NEWADDR : RTM_DELADDR,
    NLM_F_REQUEST | NLM_F_ACK | (op === 'replace' ? NLM_F_CREATE | NLM_F_REPLACE : 0),
    seq,
  );
  // struct ifaddrmsg { family, prefixlen, flags, scope, index }
  buf.writeUInt8(AF_INET, 16);
  buf.writeUInt8(a.prefix, 17);
  buf.writeUInt8(0, 18);
  buf.writeUInt8(SCOPES[a.scope ?? 'global'], 19);
  buf.writeUInt32LE(a.ifindex >>> 0, 20);
  let at = NLMSG_HDRLEN + IFADDRMSG_LEN;
  at = putAttr(buf, at, IFA_LOCAL, local);
  at = putAttr(buf, at, IFA_ADDRESS, local);
  if (brd !== undefined) at = putAttr(buf, at, IFA_BROADCAST, ipv4Bytes(brd));
  if (label !== undefined) at = putAttr(buf, at, IFA_LABEL, label);
  if (cacheinfo !== undefined) at = putAttr(buf, at, IFA_CACHEINFO, cacheinfo);
  return buf;
}

export interface NetlinkAck {
  seq: number;
  /** 0 = done; otherwise the errno (positive). */
  errno: number;
  /** Its name (EEXIST, ENODEV...), when it is an error. */
  code?: string;
  /** The kernel's extended-ack text, when it sent one. */
  message?: string;
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value as number, name]),
);

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/**
 * The acks in one datagram from the kernel; other messages are skipped and a
 * truncated message ends the parse (never throws on bad input).
 */
export function parseAcks(datagram: Buffer): NetlinkAck[] {
  const acks: NetlinkAck[] = [];
  forEachNetlinkMessage(datagram, (msg) => {
    const type = msg.readUInt16LE(4);
    const flags = msg.readUInt16LE(6);
    const seq = msg.readUInt32LE(8);
    if (type !== NLMSG_ERROR || msg.length < NLMSG_HDRLEN + 4 + NLMSG_HDRLEN) return;
    const errno = -msg.readInt32LE(NLMSG_HDRLEN) || 0;
    const ack: NetlinkAck = { seq, errno };
    if (errno !== 0) ack.code = errnoName(errno);
    if ((flags & NLM_F_ACK_TLVS) !== 0) {
      const echoed = msg.readUInt32LE(NLMSG_HDRLEN + 4);
      const tlvAt = NLMSG_HDRLEN + 4 + ((flags & NLM_F_CAPPED) !== 0 ? NLMSG_HDRLEN : align4(echoed));
      const message = extAckMessage(msg, tlvAt, msg.length);
      if (message !== undefined) ack.message = message;
    }
    acks.push(ack);
  });
  return acks;
}

function extAckMessage(buf: Buffer, from: number, end: number): string | undefined {
  let at = from;
  while (at + 4 <= end) {
    const len = buf.readUInt16LE(at);
    const type = buf.readUInt16LE(at + 2) & 0x3fff;
    if (len < 4 || at + len > end) return undefined;
    if (type === NLMSGERR_ATTR_MSG) {
      const text = buf.subarray(at + 4, at + len);
      const nul = text.indexOf(0);
      return text.subarray(0, nul === -1 ? text.length : nul).toString('utf8');
    }
    at += align4(len);
  }
  return undefined;
}
