import { interfaceInfo, netlinkAvailable, openNetlinkSocket } from '../core/raw-net.ts';

/*
 * Interface up/down for track_interface and the instance's own interface. The
 * flags come from the addon's ioctl (cheap: no process, no netlink parsing);
 * when they are read is what netlink adds: like keepalived, the watch listens to
 * the kernel's link notifications (RTMGRP_LINK) and re-reads the flags on each,
 * so a change is seen at once. A slow poll stays as a backstop (a notification
 * lost to a full socket buffer), and without netlink the poll runs every 100 ms
 * as before. "Up" = administratively up and running (carrier); a missing
 * interface is down.
 */

export const LINK_POLL_MS = 100;
/** Poll period while link notifications arrive through netlink. */
export const LINK_BACKSTOP_MS = 1_000;

const NETLINK_ROUTE = 0;
const RTMGRP_LINK = 1;

export type LinkListener = (ifname: string, up: boolean) => void;

/** A source of "some link changed" notifications; close() stops it. */
export interface LinkEvents {
  close(): void;
}

export type LinkEventsOpener = (onChange: () => void) => LinkEvents | undefined;

export function linkUp(ifname: string): boolean {
  const info = interfaceInfo(ifname);
  return info?.up === true && info.running;
}

/** Kernel link notifications, or undefined when the addon has no netlink (then the watch polls). */
export const netlinkLinkEvents: LinkEventsOpener = (onChange) => {
  if (!netlinkAvailable()) return undefined;
  try {
    // Any datagram, or an error such as ENOBUFS (notifications lost), means: read the flags again.
    return openNetlinkSocket(NETLINK_ROUTE, RTMGRP_LINK, () => onChange());
  } catch {
    return undefined;
  }
};

export interface LinkWatchOptions {
  pollMs?: number;
  backstopMs?: number;
  openEvents?: LinkEventsOpener;
  probe?: (ifname: string) => boolean;
}

export class LinkWatch {
  readonly #state = new Map<string, boolean>();
  readonly #listeners = new Set<LinkListener>();
  readonly #pollMs: number;
  readonly #backstopMs: number;
  readonly #openEvents: LinkEventsOpener;
  readonly #probe: (ifname: string) => boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #events: LinkEvents | undefined;

  constructor(options: LinkWatchOptions = {}) {
    this.#pollMs = options.pollMs ?? LINK_POLL_MS;
    this.#backstopMs = options.backstopMs ?? LINK_BACKSTOP_MS;
    this.#openEvents = options.openEvents ?? netlinkLinkEvents;
    this.#probe = options.probe ?? linkUp;
  }

  /** Starts watching `ifname` (idempotent); returns its current state. */
  watch(ifname: string): boolean {
    let up = this.#state.get(ifname);
    if (up === undefined) {
      up = this.#read(ifname);
      this.#state.set(ifname, up);
    }
    if (this.#timer === undefined) {
      this.#events = this.#openEvents(() => this.#poll());
      this.#timer = setInterval(
        () => this.#poll(),
        this.#events === undefined ? this.#pollMs : this.#backstopMs,
      );
      this.#timer.unref();
    }
    return up;
  }

  /** Whether kernel notifications drive the watch (else it polls every 100 ms). */
  get eventDriven(): boolean {
    return this.#events !== undefined;
  }

  isUp(ifname: string): boolean {
    return this.#state.get(ifname) ?? this.#read(ifname);
  }

  subscribe(listener: LinkListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#events?.close();
    this.#events = undefined;
    this.#listeners.clear();
    this.#state.clear();
  }

  #read(ifname: string): boolean {
    try {
      return this.#probe(ifname);
    } catch {
      return false;
    }
  }

  #poll(): void {
    for (const [ifname, was] of this.#state) {
      const up = this.#read(ifname);
      if (up !== was) {
        this.#state.set(ifname, up);
        for (const listener of this.#listeners) listener(ifname, up);
      }
    }
  }
}
