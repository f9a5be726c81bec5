import { isIP } from 'node:net';
import { inetChecksum } from '../core/inet-checksum.ts';
import { openRawSocket, type RawSocket } from '../core/raw-net.ts';

/*
 * ICMP echo through the native addon's raw socket: one socket per process,
 * shared by every probe in flight and closed when none is, replies matched by
 * identifier and sequence number. IPv4 only; callers fall back to `ping` for
 * anything else or when raw sockets are not permitted.
 */

const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
const PAYLOAD = Buffer.from('hastack-icmp-chk');

/** An ICMP echo request (type 8) with the given identifier and sequence. Pure. */
export function echoRequest(id: number, seq: number, payload: Uint8Array = PAYLOAD): Buffer {
  const out = Buffer.alloc(8 + payload.length);
  out[0] = ICMP_ECHO_REQUEST;
  out.writeUInt16BE(id & 0xffff, 4);
  out.writeUInt16BE(seq & 0xffff, 6);
  out.set(payload, 8);
  out.writeUInt16BE(inetChecksum(out), 2);
  return out;
}

/** Reads an echo reply out of an IPv4 datagram; undefined for anything else. Pure. */
export function parseEchoReply(datagram: Uint8Array): { src: string; id: number; seq: number } | undefined {
  if (datagram.length < 20 || datagram[0]! >> 4 !== 4) return undefined;
  const hl = (datagram[0]! & 0x0f) * 4;
  if (datagram.length < hl + 8 || datagram[9] !== 1) return undefined;
  if (datagram[hl] !== ICMP_ECHO_REPLY || inetChecksum(datagram, hl, datagram.length) !== 0) return undefined;
  return {
    src: `${datagram[12]}.${datagram[13]}.${datagram[14]}.${datagram[15]}`,
    id: (datagram[hl + 4]! << 8) | datagram[hl + 5]!,
    seq: (datagram[hl + 6]! << 8) | datagram[hl + 7]!,
  };
}

interface Pending {
  host: string;
  resolve: () => void;
}

export class NativePinger {
  readonly #id = Math.floor(Math.random() * 0x10000);
  #seq = 0;
  #socket: RawSocket | undefined;
  readonly #pending = new Map<number, Pending>();

  /** Whether this target can be pinged natively (IPv4 literal). */
  static supports(host: string, source?: string): boolean {
    return isIP(host) === 4 && (source === undefined || isIP(source) === 4);
  }

  /**
   * Sends one echo request; the promise resolves on the reply. `signal` aborts
   * the wait (the probe's timeout). Rejects with the errno code when the socket
   * cannot be opened (EPERM without root) or the send fails.
   */
  ping(host: string, source: string | undefined, signal: AbortSignal): Promise<void> {
    let socket: RawSocket;
    try {
      socket = this.#open();
    } catch (err) {
      return Promise.reject(err);
    }
    let seq = 0;
    do {
      this.#seq = (this.#seq + 1) & 0xffff;
      seq = this.#seq;
    } while (this.#pending.has(seq));
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.#pending.delete(seq);
        signal.removeEventListener('abort', onAbort);
        this.#closeIfIdle();
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      this.#pending.set(seq, {
        host,
        resolve: () => {
          done();
          resolve();
        },
      });
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        socket.send(echoRequest(this.#id, seq), host, source);
      } catch (err) {
        done();
        reject(err);
      }
    });
  }

  #open(): RawSocket {
    if (this.#socket === undefined || this.#socket.closed) {
      this.#socket = openRawSocket(1, { icmpEchoReplyOnly: true }, (err, packet) => {
        if (err !== null || packet === null) return;
        const reply = parseEchoReply(packet);
        if (reply === undefined || reply.id !== this.#id) return;
        const pending = this.#pending.get(reply.seq);
        if (pending !== undefined && pending.host === reply.src) pending.resolve();
      });
    }
    return this.#socket;
  }

  #closeIfIdle(): void {
    if (this.#pending.size === 0 && this.#socket !== undefined) {
      this.#socket.close();
      this.#socket = undefined;
    }
  }
}
