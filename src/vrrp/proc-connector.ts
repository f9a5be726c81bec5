import {
  forEachNetlinkMessage,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  writeNetlinkHeader,
} from './netlink-message.ts';

/*
 * The kernel's process events connector (NETLINK_CONNECTOR, group CN_IDX_PROC),
 * which keepalived's vrrp_track_process follows instead of polling /proc: one
 * event per fork, exec, comm change and exit on the whole host. Pure codec; the
 * socket is the addon's (process-watch.ts). The structures are in host byte order
 * (little endian wherever the addon builds, as in netlink-message.ts).
 *
 *   nlmsghdr (16): see netlink-message.ts
 *   cn_msg   (20): id.idx u32, id.val u32, seq u32, ack u32, len u16, flags u16
 *   proc_event:    what u32, cpu u32, timestamp_ns u64, then the event's data
 */

export const NETLINK_CONNECTOR = 11;
/** Both the connector index and the multicast group to bind. */
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;

const CN_MSG_LEN = 20;
const EVENT_HEADER_LEN = 16;
const PROC_CN_MCAST_LISTEN = 1;
const PROC_CN_MCAST_IGNORE = 2;

const PROC_EVENT_NONE = 0;
const PROC_EVENT_FORK = 1;
const PROC_EVENT_EXEC = 2;
const PROC_EVENT_COMM = 0x200;
const PROC_EVENT_EXIT = 0x80000000;
const COMM_LEN = 16;

export type ProcEvent =
  | { type: 'fork'; parentPid: number; parentTgid: number; childPid: number; childTgid: number }
  | { type: 'exec'; pid: number; tgid: number }
  | { type: 'comm'; pid: number; tgid: number; comm: string }
  | { type: 'exit'; pid: number; tgid: number }
  /** The kernel's answer to listen/ignore (PROC_EVENT_NONE): ack = the request's ack + 1, err 0 = accepted. */
  | { type: 'ack'; ack: number; err: number }
  | { type: 'other'; what: number };

const u32 = (buf: Buffer, offset: number): number => buf.readUInt32LE(offset);

/**
 * PROC_CN_MCAST_LISTEN / IGNORE: start or stop this socket's events (all event
 * types). The kernel answers with an 'ack' event whose `ack` is this `ack` + 1 (its
 * seq is the kernel's own counter), and multicasts it: a nonce here tells our
 * answer from another listener's.
 */
export function encodeProcListen(op: 'listen' | 'ignore', seq: number, ack = 0): Buffer {
  const buf = Buffer.alloc(NLMSG_HDRLEN + CN_MSG_LEN + 4);
  writeNetlinkHeader(buf, NLMSG_DONE, 0, seq);
  buf.writeUInt32LE(CN_IDX_PROC, 16);
  buf.writeUInt32LE(CN_VAL_PROC, 20);
  buf.writeUInt32LE(seq >>> 0, 24);
  buf.writeUInt32LE(ack >>> 0, 28);
  buf.writeUInt16LE(4, 32); // payload length
  buf.writeUInt16LE(0, 34);
  buf.writeUInt32LE(op === 'listen' ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE, 36);
  return buf;
}

/**
 * The events in one datagram. The kernel sends one message per datagram, but any
 * number is accepted; what is truncated, foreign or malformed is skipped (never
 * throws: this reads whatever the socket delivers).
 */
export function decodeProcEvents(datagram: Buffer): ProcEvent[] {
  const events: ProcEvent[] = [];
  forEachNetlinkMessage(datagram, (msg) => {
    const event = decodeMessage(msg);
    if (event !== undefined) events.push(event);
  });
  return events;
}

function decodeMessage(msg: Buffer): ProcEvent | undefined {
  if (msg.length < NLMSG_HDRLEN + CN_MSG_LEN + EVENT_HEADER_LEN) return undefined;
  const type = msg.readUInt16LE(4);
  if (type === NLMSG_NOOP || type === NLMSG_ERROR) return undefined; // no event in these

  const cn = NLMSG_HDRLEN;
  if (u32(msg, cn) !== CN_IDX_PROC || u32(msg, cn + 4) !== CN_VAL_PROC) return undefined;
  const payloadLen = msg.readUInt16LE(cn + 16);
  const payload = msg.subarray(cn + CN_MSG_LEN, cn + CN_MSG_LEN + payloadLen);
  if (payload.length !== payloadLen || payloadLen < EVENT_HEADER_LEN) return undefined;
  const what = u32(payload, 0);
  const data = payload.subarray(EVENT_HEADER_LEN);
  switch (what) {
    case PROC_EVENT_NONE:
      return data.length < 4 ? undefined : { type: 'ack', ack: u32(msg, cn + 12), err: u32(data, 0) };
    case PROC_EVENT_FORK:
      if (data.length < 16) return undefined;
      return {
        type: 'fork',
        parentPid: u32(data, 0),
        parentTgid: u32(data, 4),
        childPid: u32(data, 8),
        childTgid: u32(data, 12),
      };
    case PROC_EVENT_EXEC:
      return data.length < 8 ? undefined : { type: 'exec', pid: u32(data, 0), tgid: u32(data, 4) };
    case PROC_EVENT_COMM: {
      if (data.length < 8 + COMM_LEN) return undefined;
      const name = data.subarray(8, 8 + COMM_LEN);
      const nul = name.indexOf(0);
      const comm = name.toString('utf8', 0, nul < 0 ? COMM_LEN : nul);
      return { type: 'comm', pid: u32(data, 0), tgid: u32(data, 4), comm };
    }
    case PROC_EVENT_EXIT:
      // exit_code and exit_signal follow; only who exited matters here.
      return data.length < 16 ? undefined : { type: 'exit', pid: u32(data, 0), tgid: u32(data, 4) };
    default:
      return { type: 'other', what };
  }
}
