/*
 * netlink framing shared by the rtnetlink (rtnetlink.ts) and process-events
 * (proc-connector.ts) codecs: the 16-byte nlmsghdr, 4-byte alignment, and the walk
 * over the messages of one datagram. Pure. Host byte order, which is little endian
 * on every platform the addon builds for (linux/netlink.h).
 *
 *   nlmsghdr (16): len u32, type u16, flags u16, seq u32, pid u32
 */

export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const align4 = (n: number): number => (n + 3) & ~3;

/** Writes an nlmsghdr at offset 0 of `buf` (pid 0: the kernel fills in ours). */
export function writeNetlinkHeader(buf: Buffer, type: number, flags: number, seq: number): void {
  buf.writeUInt32LE(buf.length, 0);
  buf.writeUInt16LE(type, 4);
  buf.writeUInt16LE(flags, 6);
  buf.writeUInt32LE(seq >>> 0, 8);
  buf.writeUInt32LE(0, 12);
}

/**
 * Calls `onMessage` with each whole message of a datagram (header included, as a
 * view). A length that is too short or runs past the datagram ends the walk: bad
 * input is never an exception.
 */
export function forEachNetlinkMessage(datagram: Buffer, onMessage: (message: Buffer) => void): void {
  let at = 0;
  while (at + NLMSG_HDRLEN <= datagram.length) {
    const len = datagram.readUInt32LE(at);
    if (len < NLMSG_HDRLEN || at + len > datagram.length) return;
    onMessage(datagram.subarray(at, at + len));
    at += align4(len);
  }
}
