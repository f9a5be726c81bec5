import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, systemClock } from '../core/clock.ts';
import { errorCode, errorMessage, HastackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { type NetlinkSocket, netlinkAvailable, openNetlinkSocket } from '../core/raw-net.ts';
import {
  CN_IDX_PROC,
  decodeProcEvents,
  encodeProcListen,
  NETLINK_CONNECTOR,
  type ProcEvent,
} from './proc-connector.ts';
import {
  matchesProcess,
  type ProcessFacts,
  parseProcStat,
  splitCmdline,
  type TrackProcessConfig,
  usesCmdline,
} from './process-match.ts';
import { ProcessQuorum } from './process-quorum.ts';

/*
 * vrrp_track_process on Linux: counts the matching processes of each tracker and
 * reports its damped up/down state (process-quorum.ts).
 *
 * Like keepalived, one full scan of /proc at start, then the kernel's process
 * events (proc-connector.ts) keep the counts incremental: a fork of a counted
 * process counts the child too (same name and command line), exec and comm
 * changes re-check that pid, an exit drops it. A full re-scan runs every
 * backstopMs as a safety net and at once when the socket reports lost events
 * (ENOBUFS). Without the connector (no addon, not root, another network or PID
 * namespace, CONFIG_PROC_EVENTS off) the watch re-scans every pollMs instead.
 *
 * /proc is read with async fs, a few files at a time, so a big process table does
 * not block the event loop; processes that vanish mid-read are simply not counted.
 */

export const PROCESS_POLL_MS = 1_000;
export const PROCESS_BACKSTOP_MS = 10_000;

export const CODE_TRACK_PROCESS_CONFIG = 'HASTACK_VRRP_TRACK_PROCESS_CONFIG';
export const CODE_TRACK_PROCESS_UNKNOWN = 'HASTACK_VRRP_TRACK_PROCESS_UNKNOWN';
export const CODE_TRACK_PROCESS_STOPPED = 'HASTACK_VRRP_TRACK_PROCESS_STOPPED';
export const CODE_TRACK_PROCESS_SCAN = 'HASTACK_VRRP_TRACK_PROCESS_SCAN';

/** Files read at once during a full scan: enough to hide latency, few enough for the fd limit. */
const SCAN_CONCURRENCY = 16;
/** The kernel answers a listen request inside send(); this only covers a slow reader wake-up. */
const ACK_WAIT_MS = 500;
const READ_CHUNK = 1024;

export interface ProcessWatchOptions {
  logger: Logger;
  clock?: Clock;
  /** Default '/proc' (tests pass a directory of fake PID entries). */
  procRoot?: string;
  /** Follow the kernel's process events (default true); false = poll only. */
  useConnector?: boolean;
  /** Full re-scan period when the connector is not available. */
  pollMs?: number;
  /** Full re-scan period while the connector works. */
  backstopMs?: number;
}

export interface ProcessTrackStatus {
  name: string;
  up: boolean;
  count: number;
  quorum: number;
  quorumMax: number | null;
  source: 'proc-connector' | 'poll';
  pending?: 'up' | 'down';
}

interface Tracker {
  config: TrackProcessConfig;
  quorum: ProcessQuorum;
  pids: Set<number>;
}

function validate(configs: readonly TrackProcessConfig[]): void {
  const names = new Set<string>();
  for (const c of configs) {
    const bad = (why: string) =>
      new HastackError(CODE_TRACK_PROCESS_CONFIG, `vrrp_track_process ${c.name}: ${why}`, {
        details: { name: c.name },
      });
    if (names.has(c.name)) throw bad('defined twice');
    names.add(c.name);
    if (c.process === '') throw bad('process is empty');
    if (!Number.isInteger(c.quorum) || c.quorum < 0) throw bad(`quorum ${c.quorum} is not a count`);
    if (!(c.quorumMax === Number.POSITIVE_INFINITY || (Number.isInteger(c.quorumMax) && c.quorumMax >= 0)))
      throw bad(`quorum_max ${c.quorumMax} is not a count`);
    // quorum_max 0 ("up while none runs") needs quorum 0, else the tracker could never be up.
    if (c.quorumMax < c.quorum) throw bad(`quorum_max ${c.quorumMax} is below quorum ${c.quorum}`);
    if (!(c.forkDelayMs >= 0) || !(c.terminateDelayMs >= 0)) throw bad('delays must be >= 0');
  }
}

export class ProcessWatch {
  readonly #trackers: Tracker[];
  readonly #byName = new Map<string, Tracker>();
  readonly #listeners = new Set<(name: string, up: boolean) => void>();
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #procRoot: string;
  readonly #useConnector: boolean;
  readonly #pollMs: number;
  readonly #backstopMs: number;
  /** cmdline costs the kernel a walk of the process's memory: only read when some tracker needs it. */
  readonly #needCmdline: boolean;
  /** Name-only trackers: a comm event decides them without reading /proc. */
  readonly #byComm: Tracker[];

  #source: 'proc-connector' | 'poll' = 'poll';
  #socket: NetlinkSocket | undefined;
  /** The ack field of our listen request: the kernel answers with it + 1. */
  #listenNonce = 0;
  #acked: ((err: number) => void) | undefined;
  #ackErr: number | undefined;
  #scanTimer: ReturnType<typeof setInterval> | undefined;
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  #deadlineAt: number | undefined;
  #scan: Promise<void> | undefined;
  #scanAgain = false;
  /** Pids that events changed while a full scan runs: for them the events are newer than the scan. */
  #touched: Set<number> | undefined;
  /** Pending per-pid re-checks (exec...): an exit or a newer check makes an older result stale. */
  readonly #checks = new Map<number, number>();
  #checkSeq = 0;
  #starting: Promise<void> | undefined;
  /** Set by the first full scan: counts seen before it are partial and must not decide the initial state. */
  #ready = false;
  #stopped = false;
  #lostLogged = false;
  #scanErrorLogged = false;

  constructor(configs: readonly TrackProcessConfig[], options: ProcessWatchOptions) {
    validate(configs);
    this.#trackers = configs.map((config) => ({
      config,
      quorum: new ProcessQuorum(config),
      pids: new Set<number>(),
    }));
    for (const t of this.#trackers) this.#byName.set(t.config.name, t);
    this.#byComm = this.#trackers.filter((t) => !usesCmdline(t.config));
    this.#needCmdline = this.#trackers.length > this.#byComm.length;
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#procRoot = options.procRoot ?? '/proc';
    this.#useConnector = options.useConnector ?? true;
    this.#pollMs = options.pollMs ?? PROCESS_POLL_MS;
    this.#backstopMs = options.backstopMs ?? PROCESS_BACKSTOP_MS;
  }

  /** Resolves after the first full scan, so isUp() is meaningful at once. */
  start(): Promise<void> {
    if (this.#stopped)
      return Promise.reject(new HastackError(CODE_TRACK_PROCESS_STOPPED, 'the process watch was stopped'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    let ack: Promise<number | undefined> | undefined;
    if (this.#useConnector && this.#trackers.length > 0) ack = this.#openConnector();
    // Listening first, then scanning: nothing that happens after the scan's reads is missed.
    let ackErr: number | undefined;
    try {
      [, ackErr] = await Promise.all([this.#fullScan(true), ack]);
    } catch (err) {
      this.#closeSocket(true);
      throw err;
    }
    if (this.#stopped) return;
    if (this.#socket !== undefined && ackErr !== 0) {
      this.#closeSocket(false);
      this.#fallBack(
        ackErr === undefined
          ? 'the kernel did not answer the listen request (CONFIG_PROC_EVENTS off, or not in the initial PID/user namespace)'
          : `the kernel refused the listen request (errno ${ackErr})`,
      );
    }
    if (this.#trackers.length === 0) return;
    const period = this.#source === 'proc-connector' ? this.#backstopMs : this.#pollMs;
    this.#scanTimer = setInterval(() => void this.#fullScan(false), period);
    this.#scanTimer.unref();
  }

  isUp(name: string): boolean {
    return this.#tracker(name).quorum.up;
  }

  subscribe(listener: (name: string, up: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(): ProcessTrackStatus[] {
    return this.#trackers.map((t) => {
      const s: ProcessTrackStatus = {
        name: t.config.name,
        up: t.quorum.up,
        count: t.pids.size,
        quorum: t.config.quorum,
        quorumMax: Number.isFinite(t.config.quorumMax) ? t.config.quorumMax : null,
        source: this.#source,
      };
      const pending = t.quorum.pending;
      if (pending !== undefined) s.pending = pending;
      return s;
    });
  }

  /** Closes the socket and the timers; idempotent. The last states stay readable. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#scanTimer !== undefined) clearInterval(this.#scanTimer);
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#scanTimer = undefined;
    this.#deadlineTimer = undefined;
    this.#closeSocket(true);
    this.#acked?.(Number.NaN);
    this.#checks.clear();
    this.#listeners.clear();
  }

  #tracker(name: string): Tracker {
    const t = this.#byName.get(name);
    if (t === undefined)
      throw new HastackError(CODE_TRACK_PROCESS_UNKNOWN, `no vrrp_track_process named ${name}`, {
        details: { name },
      });
    return t;
  }

  // ---- the connector ------------------------------------------------------

  /** Opens the socket and asks for events; resolves with the kernel's answer (undefined: none). */
  #openConnector(): Promise<number | undefined> | undefined {
    if (!netlinkAvailable()) {
      this.#fallBack('the native addon (with netlink support) is not available');
      return undefined;
    }
    try {
      this.#socket = openNetlinkSocket(NETLINK_CONNECTOR, CN_IDX_PROC, (err, datagram) =>
        this.#onMessage(err, datagram),
      );
      this.#listenNonce = (Math.random() * 0x7fffffff) >>> 0;
      this.#socket.send(encodeProcListen('listen', 0, this.#listenNonce));
    } catch (err) {
      // EPERM without CAP_NET_ADMIN; ECONNREFUSED/EPROTONOSUPPORT outside the initial network namespace.
      this.#closeSocket(false);
      this.#fallBack(`${errorCode(err)}: ${errorMessage(err)}`);
      return undefined;
    }
    this.#source = 'proc-connector';
    const answer = new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => finish(undefined), ACK_WAIT_MS);
      const finish = (err: number | undefined) => {
        clearTimeout(timer);
        this.#acked = undefined;
        resolve(err);
      };
      this.#acked = finish;
    });
    // The kernel queued its answer inside send(): read it now rather than after a reader wake-up.
    try {
      for (const datagram of this.#socket.readNow()) this.#onDatagram(datagram);
    } catch (err) {
      this.#onMessage(err as Error, null);
    }
    return answer;
  }

  #fallBack(reason: string): void {
    this.#source = 'poll';
    this.#logger.info(
      { reason, pollMs: this.#pollMs },
      'vrrp_track_process: kernel process events unavailable, polling /proc instead',
    );
  }

  #closeSocket(ignore: boolean): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket === undefined || socket.closed) return;
    // Older kernels count listeners globally and only an IGNORE lowers the count.
    if (ignore) {
      try {
        socket.send(encodeProcListen('ignore', 0));
      } catch {}
    }
    socket.close();
  }

  #onMessage(err: Error | null, datagram: Buffer | null): void {
    if (this.#stopped || this.#socket === undefined) return;
    if (err !== null) {
      // ENOBUFS: the kernel dropped events for us, so the counts may be wrong: read everything again.
      const fields = { code: errorCode(err), reason: errorMessage(err) };
      if (this.#lostLogged)
        this.#logger.debug(fields, 'vrrp_track_process: process events lost, re-scanning');
      else this.#logger.info(fields, 'vrrp_track_process: process events lost, re-scanning /proc');
      this.#lostLogged = true;
      // Before the first scan has begun there is nothing to correct: it reads everything anyway.
      if (this.#ready || this.#scan !== undefined) void this.#fullScan(false);
      return;
    }
    if (datagram !== null) this.#onDatagram(datagram);
  }

  #onDatagram(datagram: Buffer): void {
    let changed = false;
    for (const event of decodeProcEvents(datagram)) changed = this.#onEvent(event) || changed;
    if (changed) this.#applyCounts();
  }

  /** Returns whether a count may have changed. Only whole processes (pid = tgid) matter. */
  #onEvent(event: ProcEvent): boolean {
    switch (event.type) {
      case 'ack':
        if (event.ack === (this.#listenNonce + 1) >>> 0 && this.#ackErr === undefined) {
          this.#ackErr = event.err;
          this.#acked?.(event.err);
        }
        return false;
      case 'fork': {
        if (event.childPid !== event.childTgid) return false;
        const child = event.childTgid;
        this.#touch(child);
        this.#checks.delete(child);
        let inherited = false;
        for (const t of this.#trackers) {
          if (t.pids.has(event.parentTgid)) {
            t.pids.add(child);
            inherited = true;
          }
        }
        // The parent may just not be counted yet (its exec re-check still reading /proc, or a
        // scan running): then read the child itself.
        if (!inherited && (this.#checks.has(event.parentTgid) || this.#touched !== undefined))
          this.#check(child);
        return inherited;
      }
      case 'exec':
        if (event.pid !== event.tgid) return false;
        this.#touch(event.tgid);
        this.#check(event.tgid);
        return false;
      case 'comm': {
        if (event.pid !== event.tgid || this.#byComm.length === 0) return false;
        this.#touch(event.tgid);
        // A running process renamed itself (prctl): the event carries the new name; cmdline is unchanged.
        let changed = false;
        for (const t of this.#byComm) {
          const had = t.pids.has(event.tgid);
          const has = event.comm === t.config.process;
          if (had === has) continue;
          if (has) t.pids.add(event.tgid);
          else t.pids.delete(event.tgid);
          changed = true;
        }
        return changed;
      }
      case 'exit': {
        if (event.pid !== event.tgid) return false;
        this.#touch(event.tgid);
        this.#checks.delete(event.tgid);
        let changed = false;
        for (const t of this.#trackers) changed = t.pids.delete(event.tgid) || changed;
        return changed;
      }
      default:
        return false;
    }
  }

  #touch(pid: number): void {
    this.#touched?.add(pid);
  }

  /** Re-reads one pid (after exec...) and applies the result unless an exit or a newer check came first. */
  #check(pid: number): void {
    const token = ++this.#checkSeq;
    this.#checks.set(pid, token);
    void this.#readProcess(pid, { buf: Buffer.allocUnsafe(READ_CHUNK) }).then((facts) => {
      if (this.#stopped || this.#checks.get(pid) !== token) return;
      this.#checks.delete(pid);
      this.#touch(pid);
      let changed = false;
      for (const t of this.#trackers) {
        const had = t.pids.has(pid);
        const has = facts !== undefined && matchesProcess(t.config, facts);
        if (had === has) continue;
        if (has) t.pids.add(pid);
        else t.pids.delete(pid);
        changed = true;
      }
      if (changed) this.#applyCounts();
    });
  }

  // ---- full scans -----------------------------------------------------------

  /** One full scan at a time; a request during one runs another right after it. */
  #fullScan(first: boolean): Promise<void> {
    if (this.#scan !== undefined) {
      this.#scanAgain = true;
      return this.#scan;
    }
    const run = async () => {
      do {
        this.#scanAgain = false;
        await this.#scanOnce(first);
      } while (this.#scanAgain && !this.#stopped);
    };
    this.#scan = run().finally(() => {
      this.#scan = undefined;
    });
    return this.#scan;
  }

  async #scanOnce(first: boolean): Promise<void> {
    this.#touched = this.#socket !== undefined ? new Set() : undefined;
    let entries: string[];
    try {
      entries = await readdir(this.#procRoot);
    } catch (err) {
      this.#touched = undefined;
      if (first)
        throw new HastackError(
          CODE_TRACK_PROCESS_SCAN,
          `vrrp_track_process: cannot list ${this.#procRoot}: ${errorMessage(err)}`,
          { cause: err },
        );
      if (!this.#scanErrorLogged)
        this.#logger.warn({ err, procRoot: this.#procRoot }, 'vrrp_track_process: cannot list /proc');
      this.#scanErrorLogged = true;
      return;
    }
    const pids = entries.filter((e) => /^[0-9]+$/.test(e)).map(Number);
    const found = this.#trackers.map(() => new Set<number>());
    let next = 0;
    const worker = async () => {
      const scratch = { buf: Buffer.allocUnsafe(READ_CHUNK) };
      while (next < pids.length && !this.#stopped) {
        const pid = pids[next++]!;
        const facts = await this.#readProcess(pid, scratch);
        if (facts === undefined) continue;
        for (let i = 0; i < this.#trackers.length; i++)
          if (matchesProcess(this.#trackers[i]!.config, facts)) found[i]!.add(pid);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, pids.length) }, worker));
    const touched = this.#touched;
    this.#touched = undefined;
    if (this.#stopped) return;
    for (let i = 0; i < this.#trackers.length; i++) {
      const t = this.#trackers[i]!;
      const pidsNow = found[i]!;
      // Events seen during the scan are newer than what the scan read for those pids.
      if (touched !== undefined)
        for (const pid of touched) {
          if (t.pids.has(pid)) pidsNow.add(pid);
          else pidsNow.delete(pid);
        }
      t.pids = pidsNow;
    }
    this.#ready = true;
    this.#applyCounts();
  }

  /** The facts of one process, or undefined when it is gone (or unreadable: then it is not counted). */
  async #readProcess(pid: number, scratch: { buf: Buffer }): Promise<ProcessFacts | undefined> {
    const dir = join(this.#procRoot, String(pid));
    const stat = await this.#readSmall(join(dir, 'stat'), scratch);
    if (stat === undefined) return undefined;
    const facts = parseProcStat(stat.toString('utf8'));
    if (facts === undefined || facts.state === 'Z') return undefined;
    if (!this.#needCmdline) return facts;
    const cmdline = await this.#readSmall(join(dir, 'cmdline'), scratch);
    // Unreadable (or gone meanwhile): still counted by name, by no cmdline tracker.
    return cmdline === undefined ? facts : { ...facts, argv: splitCmdline(cmdline) };
  }

  /**
   * A whole small file into the scratch buffer (grown as needed; the result is
   * valid until its next use); undefined when it cannot be read: ENOENT/ESRCH =
   * the process exited meanwhile.
   */
  async #readSmall(path: string, scratch: { buf: Buffer }): Promise<Buffer | undefined> {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(path, 'r');
      let length = 0;
      for (;;) {
        if (length === scratch.buf.length) {
          const bigger = Buffer.allocUnsafe(scratch.buf.length * 2);
          scratch.buf.copy(bigger, 0, 0, length);
          scratch.buf = bigger;
        }
        const room = scratch.buf.length - length;
        const { bytesRead } = await handle.read(scratch.buf, length, room, null);
        length += bytesRead;
        // /proc files are produced whole by each read: a short read is the end.
        if (bytesRead < room) break;
      }
      return scratch.buf.subarray(0, length);
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'ENOENT' && code !== 'ESRCH')
        this.#logger.debug({ path, code }, 'vrrp_track_process: cannot read a /proc file');
      return undefined;
    } finally {
      await handle?.close().catch(() => {});
    }
  }

  // ---- states ---------------------------------------------------------------

  #applyCounts(): void {
    if (this.#stopped || !this.#ready) return;
    const now = this.#clock.now();
    for (const t of this.#trackers) {
      const first = !t.quorum.started;
      const changed = t.quorum.update(t.pids.size, now);
      if (first)
        this.#logger.info(
          { name: t.config.name, count: t.pids.size, up: t.quorum.up, source: this.#source },
          'vrrp_track_process: initial state',
        );
      if (changed !== undefined) this.#report(t, changed);
    }
    this.#armDeadline();
  }

  #report(t: Tracker, up: boolean): void {
    this.#logger.info(
      { name: t.config.name, count: t.pids.size, up, source: this.#source },
      `vrrp_track_process ${t.config.name} is ${up ? 'up' : 'down'}`,
    );
    for (const listener of this.#listeners) {
      try {
        listener(t.config.name, up);
      } catch (err) {
        this.#logger.error({ err, name: t.config.name }, 'vrrp_track_process: a listener threw');
      }
    }
  }

  /** One timer for the earliest fork/terminate delay of all trackers. */
  #armDeadline(): void {
    if (this.#stopped) return;
    let at: number | undefined;
    for (const t of this.#trackers) {
      const d = t.quorum.nextDeadline();
      if (d !== undefined && (at === undefined || d < at)) at = d;
    }
    if (at === this.#deadlineAt) return;
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#deadlineAt = at;
    if (at === undefined) return;
    this.#deadlineTimer = setTimeout(
      () => {
        this.#deadlineTimer = undefined;
        this.#deadlineAt = undefined;
        const now = this.#clock.now();
        for (const t of this.#trackers) {
          const changed = t.quorum.tick(now);
          if (changed !== undefined) this.#report(t, changed);
        }
        this.#armDeadline();
      },
      Math.max(1, Math.ceil(at - this.#clock.now())),
    );
    this.#deadlineTimer.unref();
  }
}
