/**
 * VRRP adverts and gratuitous ARPs as they cross the wire, for bench/failover.ts: a
 * `tcpdump --immediate-mode` inside a lab namespace, read line by line while it
 * runs, so the bench can act at a fixed offset after an advert (the kill phase) and
 * see when the backup first spoke as master (its first advert or ARP for the VIP).
 * Times are the kernel's capture stamps (wall clock, as Date.now()), not the time
 * the line reached this process, so delivery lag does not shift the phase as long
 * as it stays below the wanted offset.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/** A packet seen: a VRRP advert from `source`, or an ARP that `source` (an address) sent about itself. */
export interface WirePacket {
  /** Capture time, wall-clock ms. */
  at: number;
  kind: 'vrrp' | 'arp';
  source: string;
}

const VRRP_LINE = /^(\d+)\.(\d{6}) IP (\d+\.\d+\.\d+\.\d+) > [\d.]+: VRRP/;
// A gratuitous request ("Request who-has A (ff:ff:…) tell A", or "Announcement A")
// or a reply for A ("Reply A is-at …").
const ARP_LINE =
  /^(\d+)\.(\d{6}) ARP, (?:Request who-has ([\d.]+)(?: \([\da-f:]+\))? tell ([\d.]+)|(?:Reply ([\d.]+) is-at|Announcement ([\d.]+)))/;

/** One line of `tcpdump -l -n -tt` ("1795619359.946275 IP 10.77.0.11 > 224.0.0.18: VRRPv3, …"). */
export function parseWireLine(line: string): WirePacket | undefined {
  const vrrp = VRRP_LINE.exec(line);
  if (vrrp !== null) return { at: stamp(vrrp[1]!, vrrp[2]!), kind: 'vrrp', source: vrrp[3]! };
  const arp = ARP_LINE.exec(line);
  if (arp === null) return undefined;
  const about = arp[5] ?? arp[6];
  if (about !== undefined) return { at: stamp(arp[1]!, arp[2]!), kind: 'arp', source: about };
  return arp[3] === arp[4] ? { at: stamp(arp[1]!, arp[2]!), kind: 'arp', source: arp[3]! } : undefined;
}

function stamp(seconds: string, micros: string): number {
  return Number(seconds) * 1000 + Number(micros) / 1000;
}

export class AdvertWatch {
  /** Packets seen so far, oldest first. */
  readonly packets: WirePacket[] = [];
  /** Capture times of the adverts of `source` (the address given to start()), oldest first. */
  readonly times: number[] = [];
  readonly #source: string;
  readonly #child: ChildProcessByStdio<null, Readable, null>;
  readonly #exited: Promise<void>;
  #waiters: (() => void)[] = [];
  #partial = '';

  private constructor(child: ChildProcessByStdio<null, Readable, null>, source: string) {
    this.#child = child;
    this.#source = source;
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.#onData(chunk));
  }

  /**
   * Starts capturing VRRP (IP protocol 112) and ARP on `ifname` in namespace `ns`,
   * following the adverts of `source`; resolves once the capture is live (tcpdump
   * says "listening on").
   */
  static async start(ns: string, source: string, ifname = 'eth0', timeoutMs = 10_000): Promise<AdvertWatch> {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'tcpdump',
        '-l',
        '-n',
        '-tt',
        '--immediate-mode',
        '-i',
        ifname,
        'ip proto 112 or arp',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const watch = new AdvertWatch(child as unknown as ChildProcessByStdio<null, Readable, null>, source);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(
        () => fail(new Error(`tcpdump did not start: ${stderr.slice(0, 300)}`)),
        timeoutMs,
      );
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void watch.stop().then(() => reject(err));
      };
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        if (!settled && stderr.includes('listening on')) {
          settled = true;
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', () => fail(new Error(`tcpdump exited: ${stderr.slice(0, 300)}`)));
      child.once('error', (err) => fail(err));
    });
    return watch;
  }

  /** The last advert captured at or before `at`. */
  lastAtOrBefore(at: number): number | undefined {
    for (let i = this.times.length - 1; i >= 0; i--) if (this.times[i]! <= at) return this.times[i];
    return undefined;
  }

  /** The first packet of `kind` from `source` captured at or after `from`. */
  firstFrom(source: string, kind: WirePacket['kind'], from: number): WirePacket | undefined {
    return this.packets.find((p) => p.at >= from && p.kind === kind && p.source === source);
  }

  /** Resolves with the capture time of the next advert seen after this call (or rejects after timeoutMs). */
  next(timeoutMs: number): Promise<number> {
    const seen = this.times.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        reject(new Error(`no VRRP advert seen within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (this.times.length <= seen) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(this.times[seen]!);
      };
      this.#waiters.push(check);
    });
  }

  /** Stops tcpdump (by PID) and waits for it. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null && this.#child.pid !== undefined) {
      try {
        process.kill(this.#child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.#exited;
  }

  #onData(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    let added = false;
    for (const line of lines) {
      const packet = parseWireLine(line);
      if (packet === undefined) continue;
      this.packets.push(packet);
      if (packet.kind === 'vrrp' && packet.source === this.#source) {
        this.times.push(packet.at);
        added = true;
      }
    }
    if (added) for (const w of [...this.#waiters]) w();
  }
}
