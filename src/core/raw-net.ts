import { createRequire } from 'node:module';
import { HastackError } from './errors.ts';

/*
 * The native addon (native/, C, Node-API) for what Node's own sockets cannot do:
 * raw IPv4 sockets (VRRP = protocol 112, ICMP echo), AF_PACKET frames (gratuitous
 * ARP), interface facts and netlink sockets (address changes with lifetimes). Loaded lazily: when it is missing (not built, not
 * Linux) only VRRP and the native ICMP probe are unavailable, with a clear error.
 */

export const CODE_NATIVE_UNAVAILABLE = 'HASTACK_NATIVE_UNAVAILABLE';

/** What the addon reports about an interface (ioctl SIOCGIF*). */
export interface InterfaceInfo {
  index: number;
  /** aa:bb:cc:dd:ee:ff */
  mac: string;
  up: boolean;
  running: boolean;
  mtu: number;
  /** The primary IPv4 address, or null when it has none. */
  ipv4: string | null;
}

export interface RawSocketOptions {
  /** SO_BINDTODEVICE: send and receive on this interface only. */
  ifname?: string;
  /** IP_TTL and IP_MULTICAST_TTL. */
  ttl?: number;
  tos?: number;
  /** Receive our own multicast sends (off by default). */
  multicastLoop?: boolean;
  /** ICMP sockets: let the kernel pass echo replies only. */
  icmpEchoReplyOnly?: boolean;
}

/**
 * A raw IPv4 socket for one protocol. Received datagrams include the IP header;
 * they arrive through `onPacket`, read on the event loop when the addon's reader
 * thread sees the socket readable (never blocking). An open socket does not keep
 * the process alive by itself.
 */
export interface RawSocket {
  /** Joins a multicast group on an interface (also makes it the multicast output interface). */
  join(group: string, ifname: string): void;
  /** Sends `payload` (no IP header: the kernel adds it) to `dst`, from `src` when given. Throws on error. */
  send(payload: Buffer, dst: string, src?: string): void;
  close(): void;
  readonly closed: boolean;
}

export type RawPacketHandler = (err: Error | null, packet: Buffer | null) => void;

interface Addon {
  rawOpen(
    protocol: number,
    options: RawSocketOptions,
    onPacket: (err: string | null, packet: Buffer | null) => void,
  ): object;
  rawJoin(handle: object, group: string, ifname: string): void;
  rawSend(handle: object, payload: Buffer, dst: string, src?: string | null): number;
  rawClose(handle: object): void;
  packetSend(ifname: string, frame: Buffer): number;
  interfaceInfo(ifname: string): InterfaceInfo | null;
  /** Absent in addons built before netlink support: callers fall back (iproute2). */
  netlinkOpen?(
    protocol: number,
    groups: number,
    onMessage: (err: string | null, packet: Buffer | null) => void,
  ): object;
  netlinkSend?(handle: object, messages: Buffer): number;
  netlinkRead?(handle: object): Buffer[];
}

let cached: { addon?: Addon; error?: HastackError } | undefined;

/** Set HASTACK_NATIVE_DISABLE=1 to run as if the addon were missing (tests of the fallback). */
function load(): { addon?: Addon; error?: HastackError } {
  if (cached !== undefined) return cached;
  if (process.env.HASTACK_NATIVE_DISABLE === '1') {
    cached = { error: unavailable('disabled by HASTACK_NATIVE_DISABLE=1') };
    return cached;
  }
  const require = createRequire(import.meta.url);
  try {
    cached = { addon: require('../../native/build/Release/hastack_net.node') as Addon };
  } catch (err) {
    cached = { error: unavailable((err as Error).message.split('\n', 1)[0]!, err) };
  }
  return cached;
}

function unavailable(why: string, cause?: unknown): HastackError {
  return new HastackError(
    CODE_NATIVE_UNAVAILABLE,
    `the native network addon is not available (${why}); it is built by "npm install" ` +
      '(node-gyp needs python3, make, a C compiler and Node headers). VRRP and native ICMP checks need it',
    cause === undefined ? undefined : { cause },
  );
}

/** Whether the addon loaded. */
export function rawNetAvailable(): boolean {
  return load().addon !== undefined;
}

/** The addon, or the HASTACK_NATIVE_UNAVAILABLE error explaining why not. */
function addon(): Addon {
  const loaded = load();
  if (loaded.addon === undefined) throw loaded.error!;
  return loaded.addon;
}

/** Throws HASTACK_NATIVE_UNAVAILABLE when the addon did not load: call at start to fail early. */
export function requireRawNet(): void {
  addon();
}

/** The addon throws Errors coded with an errno name or HASTACK_NATIVE_*; anything else gets a code here. */
function nativeError(err: unknown): Error {
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') return err;
  return new HastackError('HASTACK_NATIVE_ERROR', err instanceof Error ? err.message : String(err), {
    cause: err,
  });
}

type NativeCallback = (err: string | null, packet: Buffer | null) => void;

/**
 * Opens a native handle whose callback stops reaching `onData` once it is closed
 * (a wake-up queued before the close may still arrive).
 */
function openHandle(
  native: Addon,
  open: (callback: NativeCallback) => object,
  onData: RawPacketHandler,
): { handle: object; close(): void; isClosed(): boolean } {
  let closed = false;
  const handle = open((err, packet) => {
    if (closed) return;
    // A receive error reported by the addon's reader (the kernel's text): coded like every other error.
    onData(err === null ? null : new HastackError('HASTACK_NATIVE_RECEIVE', err), packet);
  });
  return {
    handle,
    close() {
      if (closed) return;
      closed = true;
      native.rawClose(handle);
    },
    isClosed: () => closed,
  };
}

export function openRawSocket(
  protocol: number,
  options: RawSocketOptions,
  onPacket: RawPacketHandler,
): RawSocket {
  const native = addon();
  const { handle, close, isClosed } = openHandle(
    native,
    (callback) => native.rawOpen(protocol, options, callback),
    onPacket,
  );
  return {
    join(group, ifname) {
      native.rawJoin(handle, group, ifname);
    },
    send(payload, dst, src) {
      try {
        native.rawSend(handle, payload, dst, src ?? null);
      } catch (err) {
        throw nativeError(err);
      }
    },
    close,
    get closed() {
      return isClosed();
    },
  };
}

/** Sends one complete Ethernet frame out of `ifname` (AF_PACKET). Throws on error (ENETDOWN...). */
export function sendFrame(ifname: string, frame: Buffer): void {
  addon().packetSend(ifname, frame);
}

/** Interface facts, or null when no such interface exists (in this network namespace). */
export function interfaceInfo(ifname: string): InterfaceInfo | null {
  return addon().interfaceInfo(ifname);
}

/**
 * A non-blocking netlink socket (e.g. NETLINK_ROUTE = 0). Requests are handled by
 * the kernel inside `send`, so their acks can be read at once with `readNow`;
 * anything that arrives later comes through `onMessage` (the addon's reader, which
 * does not keep the process alive).
 */
export interface NetlinkSocket {
  /** Sends one datagram (one or more netlink messages) to the kernel. Throws on error. */
  send(messages: Buffer): void;
  /** The datagrams queued now; never waits. */
  readNow(): Buffer[];
  close(): void;
  readonly closed: boolean;
}

/** Whether the addon loaded and was built with netlink support. */
export function netlinkAvailable(): boolean {
  return typeof load().addon?.netlinkOpen === 'function';
}

export function openNetlinkSocket(
  protocol: number,
  groups: number,
  onMessage: RawPacketHandler,
): NetlinkSocket {
  const native = addon();
  const { netlinkOpen, netlinkSend, netlinkRead } = native;
  if (netlinkOpen === undefined || netlinkSend === undefined || netlinkRead === undefined) {
    throw unavailable('it was built without netlink support; rebuild it with "npm install"');
  }
  const { handle, close, isClosed } = openHandle(
    native,
    (callback) => netlinkOpen(protocol, groups, callback),
    onMessage,
  );
  return {
    send(messages) {
      try {
        netlinkSend(handle, messages);
      } catch (err) {
        throw nativeError(err);
      }
    },
    readNow() {
      try {
        return netlinkRead(handle);
      } catch (err) {
        throw nativeError(err);
      }
    },
    close,
    get closed() {
      return isClosed();
    },
  };
}
