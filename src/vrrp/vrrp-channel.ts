import { openRawSocket, type RawSocket } from '../core/raw-net.ts';
import { IPPROTO_VRRP, type Ipv4Header, parseIpv4Header } from './ipv4-header.ts';
import { VRRP_TOS, VRRP_TTL } from './vrrp-packet.ts';

/*
 * One raw protocol-112 socket per interface, shared by the instances on it and
 * demultiplexed by VRID (as keepalived does), so two instances on one interface
 * do not each count the other's adverts as wrong. Thin shell over the addon.
 */

/** Called with the datagram, its parsed IP header and where the VRRP message starts. */
export type AdvertListener = (packet: Buffer, ip: Ipv4Header) => void;

export interface ChannelCounters {
  received: number;
  /** Not IPv4/VRRP or too short to carry a VRID. */
  malformed: number;
  /** A VRID no instance on this interface runs. */
  unknownVrid: number;
  receiveErrors: number;
}

export class VrrpChannel {
  readonly ifname: string;
  readonly counters: ChannelCounters = { received: 0, malformed: 0, unknownVrid: 0, receiveErrors: 0 };
  readonly #socket: RawSocket;
  readonly #listeners = new Map<number, AdvertListener>();
  readonly #groups = new Set<string>();
  #lastError: string | undefined;

  constructor(ifname: string) {
    this.ifname = ifname;
    this.#socket = openRawSocket(
      IPPROTO_VRRP,
      { ifname, ttl: VRRP_TTL, tos: VRRP_TOS, multicastLoop: false },
      (err, packet) => {
        if (err !== null) {
          this.counters.receiveErrors++;
          this.#lastError = err.message;
          return;
        }
        if (packet !== null) this.#onPacket(packet);
      },
    );
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  get size(): number {
    return this.#listeners.size;
  }

  join(group: string): void {
    if (this.#groups.has(group)) return;
    this.#socket.join(group, this.ifname);
    this.#groups.add(group);
  }

  listen(vrid: number, listener: AdvertListener): void {
    this.#listeners.set(vrid, listener);
  }

  unlisten(vrid: number): void {
    this.#listeners.delete(vrid);
  }

  send(payload: Buffer, dst: string, src: string): void {
    this.#socket.send(payload, dst, src);
  }

  close(): void {
    this.#socket.close();
  }

  #onPacket(packet: Buffer): void {
    this.counters.received++;
    const parsed = parseIpv4Header(packet);
    if (
      !parsed.ok ||
      parsed.header.protocol !== IPPROTO_VRRP ||
      packet.length < parsed.header.headerLength + 2
    ) {
      this.counters.malformed++;
      return;
    }
    const vrid = packet[parsed.header.headerLength + 1]!;
    const listener = this.#listeners.get(vrid);
    if (listener === undefined) {
      this.counters.unknownVrid++;
      return;
    }
    listener(packet, parsed.header);
  }
}
