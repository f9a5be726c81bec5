import { interfaceInfo } from '../core/raw-net.ts';

/*
 * Interface up/down for track_interface and the instance's own interface:
 * polls the flags through the addon's ioctl (cheap: no process, no netlink
 * parsing), like keepalived's linkbeat polling. "Up" = administratively up and
 * running (carrier); a missing interface is down.
 */

export const LINK_POLL_MS = 100;

export type LinkListener = (ifname: string, up: boolean) => void;

export function linkUp(ifname: string): boolean {
  const info = interfaceInfo(ifname);
  return info?.up === true && info.running;
}

export class LinkWatch {
  readonly #state = new Map<string, boolean>();
  readonly #listeners = new Set<LinkListener>();
  readonly #pollMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(pollMs = LINK_POLL_MS) {
    this.#pollMs = pollMs;
  }

  /** Starts watching `ifname` (idempotent); returns its current state. */
  watch(ifname: string): boolean {
    let up = this.#state.get(ifname);
    if (up === undefined) {
      up = linkUp(ifname);
      this.#state.set(ifname, up);
    }
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#poll(), this.#pollMs);
      this.#timer.unref();
    }
    return up;
  }

  isUp(ifname: string): boolean {
    return this.#state.get(ifname) ?? linkUp(ifname);
  }

  subscribe(listener: LinkListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
    this.#state.clear();
  }

  #poll(): void {
    for (const [ifname, was] of this.#state) {
      let up: boolean;
      try {
        up = linkUp(ifname);
      } catch {
        up = false;
      }
      if (up !== was) {
        this.#state.set(ifname, up);
        for (const listener of this.#listeners) listener(ifname, up);
      }
    }
  }
}
