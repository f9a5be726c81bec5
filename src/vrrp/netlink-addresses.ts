import { HastackError } from '../core/errors.ts';
import { interfaceInfo, type NetlinkSocket, openNetlinkSocket } from '../core/raw-net.ts';
import {
  type AddressLifetime,
  CODE_IP_FAILED,
  type PlacedAddress,
  type VipAddresses,
} from './ip-address-commands.ts';
import { encodeAddressRequest, type NetlinkAck, parseAcks } from './rtnetlink.ts';

/*
 * IP takeover through rtnetlink (the addon's netlink socket): every VIP of a
 * transition goes to the kernel in one datagram, which the kernel applies inside
 * the send, so the acks are normally read back at once and the promise settles
 * before any other I/O runs — the gratuitous ARPs follow without a process spawn
 * (iproute2) on the path. Renewing a lease is the same RTM_NEWADDR with
 * NLM_F_REPLACE, a few microseconds each. Acks that are not there yet arrive
 * through the socket's reader; none within `timeoutMs` is an error.
 */

const NETLINK_ROUTE = 0;
/** "Already gone" when removing: EADDRNOTAVAIL, ENODEV, ESRCH. */
const HARMLESS_ON_DELETE = new Set([99, 19, 3]);

export type NetlinkOpener = (onMessage: (err: Error | null, packet: Buffer | null) => void) => NetlinkSocket;
export type IfindexResolver = (ifname: string) => number | undefined;

export interface NetlinkAddressesOptions {
  open?: NetlinkOpener;
  ifindex?: IfindexResolver;
  timeoutMs?: number;
}

interface Batch {
  op: 'replace' | 'del';
  /** seq → the address it is about (for messages). */
  waiting: Map<number, string>;
  failures: string[];
  resolve: () => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const defaultOpen: NetlinkOpener = (onMessage) => openNetlinkSocket(NETLINK_ROUTE, 0, onMessage);
const defaultIfindex: IfindexResolver = (ifname) => interfaceInfo(ifname)?.index;

export class NetlinkAddresses implements VipAddresses {
  readonly kind = 'netlink';
  readonly #open: NetlinkOpener;
  readonly #ifindex: IfindexResolver;
  readonly #timeoutMs: number;
  #socket: NetlinkSocket | undefined;
  #seq = Math.floor(Math.random() * 0x7fffffff);
  /** seq → its batch. */
  readonly #batches = new Map<number, Batch>();
  /** Acks that could not be read (receive errors). */
  receiveErrors = 0;

  constructor(options: NetlinkAddressesOptions = {}) {
    this.#open = options.open ?? defaultOpen;
    this.#ifindex = options.ifindex ?? defaultIfindex;
    this.#timeoutMs = options.timeoutMs ?? 2000;
  }

  /**
   * Opens the socket (throws when netlink cannot be used here) and runs the codec
   * once, so the first takeover does not pay for lazily compiled code.
   */
  prepare(): void {
    this.#ensureSocket();
    const sample = { ifindex: 1, address: '192.0.2.1', prefix: 24, brd: '+', label: 'lo:warm' };
    for (const op of ['replace', 'del'] as const) {
      parseAcks(encodeAddressRequest(op, sample, 1, { validLftSec: 1, preferredLftSec: 1 }));
    }
  }

  add(vips: readonly PlacedAddress[], lifetime?: AddressLifetime): Promise<void> {
    return this.#request('replace', vips, lifetime);
  }

  remove(vips: readonly PlacedAddress[]): Promise<void> {
    return this.#request('del', vips);
  }

  /** Closes the socket; requests still waiting fail. */
  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
    for (const batch of new Set(this.#batches.values())) {
      this.#finish(
        batch,
        new HastackError(CODE_IP_FAILED, 'netlink socket closed before the kernel answered'),
      );
    }
  }

  #request(op: 'replace' | 'del', vips: readonly PlacedAddress[], lifetime?: AddressLifetime): Promise<void> {
    if (vips.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const batch: Batch = { op, waiting: new Map(), failures: [], resolve, reject, timer: undefined };
      const messages: Buffer[] = [];
      const indexes = new Map<string, number | undefined>();
      for (const vip of vips) {
        const what = `${vip.address}/${vip.prefix} dev ${vip.dev}`;
        let ifindex = indexes.get(vip.dev);
        if (!indexes.has(vip.dev)) {
          ifindex = this.#ifindex(vip.dev);
          indexes.set(vip.dev, ifindex);
        }
        if (ifindex === undefined) {
          if (op === 'replace') batch.failures.push(`${what}: no such interface`);
          continue;
        }
        this.#seq = (this.#seq + 1) >>> 0 || 1;
        batch.waiting.set(this.#seq, what);
        messages.push(encodeAddressRequest(op, { ...vip, ifindex }, this.#seq, lifetime));
      }
      if (messages.length === 0) {
        this.#finish(batch);
        return;
      }
      this.#send(batch, messages.length === 1 ? messages[0]! : Buffer.concat(messages));
    });
  }

  #send(batch: Batch, datagram: Buffer): void {
    try {
      const socket = this.#ensureSocket();
      for (const seq of batch.waiting.keys()) this.#batches.set(seq, batch);
      socket.send(datagram);
    } catch (err) {
      for (const seq of batch.waiting.keys()) this.#batches.delete(seq);
      batch.waiting.clear();
      batch.failures.push(`netlink: ${(err as Error).message}`);
      this.#finish(batch);
      return;
    }
    // The kernel answered inside the send: read the acks now rather than on the next poll.
    this.#drain();
    if (batch.waiting.size > 0) {
      batch.timer = setTimeout(() => {
        for (const [seq, what] of batch.waiting) {
          this.#batches.delete(seq);
          batch.failures.push(`${what}: no answer from the kernel within ${this.#timeoutMs} ms`);
        }
        batch.waiting.clear();
        this.#finish(batch);
      }, this.#timeoutMs);
      batch.timer.unref?.();
    }
  }

  #ensureSocket(): NetlinkSocket {
    if (this.#socket === undefined || this.#socket.closed) {
      this.#socket = this.#open((err, packet) => {
        if (err !== null) this.receiveErrors++;
        else if (packet !== null) this.#onDatagram(packet);
      });
    }
    return this.#socket;
  }

  #drain(): void {
    try {
      for (const datagram of this.#socket?.readNow() ?? []) this.#onDatagram(datagram);
    } catch {
      // ENOBUFS and the like: the socket's reader or the timeout settles what is left.
      this.receiveErrors++;
    }
  }

  #onDatagram(datagram: Buffer): void {
    for (const ack of parseAcks(datagram)) this.#onAck(ack);
  }

  #onAck(ack: NetlinkAck): void {
    const batch = this.#batches.get(ack.seq);
    if (batch === undefined) return;
    this.#batches.delete(ack.seq);
    const what = batch.waiting.get(ack.seq)!;
    batch.waiting.delete(ack.seq);
    if (ack.errno !== 0 && !(batch.op === 'del' && HARMLESS_ON_DELETE.has(ack.errno))) {
      batch.failures.push(`${what}: ${ack.code}${ack.message === undefined ? '' : ` (${ack.message})`}`);
    }
    if (batch.waiting.size === 0) this.#finish(batch);
  }

  #finish(batch: Batch, error?: Error): void {
    if (batch.timer !== undefined) clearTimeout(batch.timer);
    batch.timer = undefined;
    for (const seq of batch.waiting.keys()) this.#batches.delete(seq);
    batch.waiting.clear();
    if (error !== undefined) batch.reject(error);
    else if (batch.failures.length > 0) {
      const verb = batch.op === 'replace' ? 'add' : 'removal';
      batch.reject(new HastackError(CODE_IP_FAILED, `VIP ${verb} failed: ${batch.failures.join('; ')}`));
    } else batch.resolve();
  }
}
