import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.ts';
import { HastackError } from '../core/errors.ts';
import { zeroFill } from './binlog-writer.ts';
import { buildEvent, segmentFormatDescription } from './event-bodies.ts';
import { EventType, FIRST_EVENT_POS, LOG_MAGIC } from './event-types.ts';
import { type Gtid, GtidSet } from './gtid-set.ts';
import { fsyncDir, indexPath, readIndex, writeIndex } from './log-index.ts';
import { type LogPosition, RELAY_BASENAME, segmentName, segmentSeq } from './log-names.ts';
import { checkMagic, scanSegment } from './log-scan.ts';

/*
 * The replica's relay log: the I/O thread appends whole transactions received
 * from the source and tells the SQL thread at once; it fsyncs them after every
 * batch when the source waits for acknowledgements (semi-sync), which are sent
 * only then, and otherwise at most every sync interval. Each segment starts with this
 * server's Format_desc and a Rotate naming the source file it continues, so the
 * SQL thread always knows the source coordinates. At startup a torn tail of the
 * last segment (a crash during a write) is cut off; complete transactions are
 * kept even if not applied yet (they may be acknowledged writes of a dead source).
 */

export interface RelaySegment {
  name: string;
  /** Bytes known to be durable and whole. */
  size: number;
}

export interface RelayLogOptions {
  dir: string;
  serverId: number;
  serverUuid: string;
  serverVersion: string;
  maxSize: number;
  /**
   * Longest time written bytes wait for their fdatasync while nobody waits for an
   * acknowledgement (MySQL's sync_relay_log, by time): 0 syncs every batch. A source
   * that asks for acknowledgements (semi-sync) gets a sync per batch regardless.
   */
  syncIntervalMs?: number;
  clock: Clock;
  warn?: (message: string) => void;
}

export interface RelayAppend {
  bytes: Buffer;
  gtid: Gtid | undefined;
  /** Source coordinates after these events. */
  source: LogPosition;
}

export interface RelayFlushed {
  segments: RelaySegment[];
  /** Source coordinates of the last durable event. */
  source: LogPosition | undefined;
  /** How many appends are durable (compare with appended()). */
  durableAppends: number;
}

export class RelayLog {
  readonly #o: RelayLogOptions;
  #segments: RelaySegment[] = [];
  #fd = -1;
  #retrieved = new GtidSet();
  #lastSource: LogPosition | undefined;
  #queue: RelayAppend[] = [];
  /** Written, not yet covered by a finished fdatasync. */
  #unsynced: RelayAppend[] = [];
  #writeScheduled = false;
  #syncing = false;
  #idleWaiters: (() => void)[] = [];
  #error: Error | undefined;
  #listeners: ((f: RelayFlushed) => void)[] = [];
  #writtenListeners: ((segments: RelaySegment[]) => void)[] = [];
  /** End of the bytes written to the open segment (≥ its durable size). */
  #written = 0;
  /** A source waits for acknowledgements (semi-sync): sync every batch. */
  #ackWanted = false;
  #syncTimer: NodeJS.Timeout | undefined;
  #lastSyncAt = Number.NEGATIVE_INFINITY;
  #appends = 0;
  #filledTo = 0;
  #durableAppends = 0;

  private constructor(o: RelayLogOptions) {
    this.#o = o;
  }

  /** Reads the relay log, cutting a torn tail off the last segment. */
  static recover(o: RelayLogOptions): RelayLog {
    const r = new RelayLog(o);
    mkdirSync(o.dir, { recursive: true });
    const names = readIndex(o.dir, RELAY_BASENAME);
    for (const name of names) {
      const path = join(o.dir, name);
      const buf = readFileSync(path);
      const isLast = name === names[names.length - 1];
      if (buf.length < FIRST_EVENT_POS) {
        if (isLast) continue;
      }
      checkMagic(buf, path);
      const scan = scanSegment(buf, path);
      let size = buf.length;
      if (isLast && scan.tail === undefined && scan.zeroTail && scan.safeEnd < buf.length) {
        // Preallocated space after the last event.
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, scan.safeEnd);
        fsyncSync(fd);
        closeSync(fd);
        size = scan.safeEnd;
      } else if (isLast && scan.tail !== undefined && scan.safeEnd < buf.length) {
        o.warn?.(
          `relay log ${name}: cutting ${buf.length - scan.safeEnd} bytes after ${scan.safeEnd} (${scan.tail.message})`,
        );
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, scan.safeEnd);
        fsyncSync(fd);
        closeSync(fd);
        size = scan.safeEnd;
      }
      for (const e of scan.events) {
        if (e.end > size) break;
        const ev = e.event;
        if (ev.type === EventType.ROTATE) r.#lastSource = { file: ev.file, pos: ev.pos };
        else if (ev.type === EventType.GTID) r.#retrieved.add(ev.uuid, ev.seq);
        else if (ev.type === EventType.XID && r.#lastSource !== undefined)
          r.#lastSource = { file: r.#lastSource.file, pos: e.raw.header.nextPos };
      }
      r.#segments.push({ name, size });
    }
    const present = new Set(r.#segments.map((s) => s.name));
    if (present.size !== names.length) writeIndex(o.dir, RELAY_BASENAME, [...present]);
    return r;
  }

  /** GTIDs of the transactions in the relay log (Retrieved_Gtid_Set, beyond what was applied and purged). */
  get retrieved(): GtidSet {
    return this.#retrieved;
  }

  /** Source coordinates after the last whole transaction received. */
  get lastSource(): LogPosition | undefined {
    return this.#lastSource;
  }

  segments(): RelaySegment[] {
    return this.#segments.map((s) => ({ ...s }));
  }

  current(): LogPosition | undefined {
    const s = this.#segments[this.#segments.length - 1];
    return s === undefined ? undefined : { file: s.name, pos: s.size };
  }

  totalSize(): number {
    return this.#segments.reduce((n, s) => n + s.size, 0);
  }

  onFlushed(listener: (f: RelayFlushed) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /**
   * Starts a new segment, as MySQL does each time the I/O thread starts. The
   * Rotate event records the source coordinates the segment continues from.
   */
  async startSegment(source: LogPosition | undefined): Promise<void> {
    await this.idle();
    this.#openSegment(source);
  }

  #openSegment(source: LogPosition | undefined): void {
    this.#closeHandle();
    const last = this.#segments[this.#segments.length - 1];
    const name = segmentName(RELAY_BASENAME, last === undefined ? 1 : segmentSeq(last.name) + 1);
    const now = Math.floor(this.#o.clock.wallNow() / 1000);
    const opts = { serverId: this.#o.serverId, timestamp: now, nextPos: 0 };
    const parts = [LOG_MAGIC, segmentFormatDescription(this.#o, now)];
    if (source !== undefined)
      parts.push(buildEvent({ type: EventType.ROTATE, pos: source.pos, file: source.file }, opts));
    const header = Buffer.concat(parts);
    const fd = openSync(join(this.#o.dir, name), 'w');
    writeSync(fd, header, 0, header.length, 0);
    this.#filledTo = header.length;
    this.#written = header.length;
    fsyncSync(fd);
    this.#fd = fd;
    this.#segments.push({ name, size: header.length });
    writeIndex(
      this.#o.dir,
      RELAY_BASENAME,
      this.#segments.map((s) => s.name),
    );
    fsyncDir(this.#o.dir);
    this.#emit();
    this.#emitWritten();
  }

  /**
   * Queues whole events (a transaction or a Rotate) for the next write. Everything
   * queued in one event-loop turn is written together at once, even while an
   * earlier batch's fdatasync runs; one fdatasync at a time covers everything
   * written before it started.
   */
  append(item: RelayAppend): void {
    if (this.#error !== undefined) throw this.#error;
    this.#appends++;
    this.#queue.push(item);
    if (this.#writeScheduled) return;
    this.#writeScheduled = true;
    setImmediate(() => {
      this.#writeScheduled = false;
      this.#writeQueued();
    });
  }

  /** Appends so far (a session acknowledges only what it appended itself). */
  appended(): number {
    return this.#appends;
  }

  /** Resolves when everything queued is durable (rejects if a write failed). */
  async idle(): Promise<void> {
    if (this.#syncTimer !== undefined && !this.#syncing) this.#sync();
    while (!this.#isIdle()) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    if (this.#error !== undefined) throw this.#error;
  }

  #isIdle(): boolean {
    if (this.#error !== undefined) return true;
    return !this.#writeScheduled && !this.#syncing && this.#queue.length === 0 && this.#unsynced.length === 0;
  }

  #settleIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #fail(err: unknown): void {
    this.#error ??= err as Error;
    this.#queue = [];
    this.#clearSyncTimer();
    this.#settleIdle();
  }

  /** Semi-sync: a connected source waits for acknowledgements, so every batch is synced at once. */
  setAckWanted(wanted: boolean): void {
    this.#ackWanted = wanted;
    if (wanted && this.#syncTimer !== undefined && !this.#syncing) this.#sync();
  }

  /** Syncs now, or schedules it within the sync interval (no timer while one is pending). */
  #syncSoon(): void {
    if (this.#syncing || this.#unsynced.length === 0) return;
    const interval = this.#o.syncIntervalMs ?? 0;
    const now = this.#ackWanted || interval <= 0 || this.#idleWaiters.length > 0;
    const wait = now ? 0 : this.#lastSyncAt + interval - this.#o.clock.now();
    if (wait <= 0) {
      this.#sync();
      return;
    }
    this.#syncTimer ??= setTimeout(() => {
      this.#syncTimer = undefined;
      this.#syncSoon();
    }, wait);
  }

  #clearSyncTimer(): void {
    clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
  }

  /**
   * Writes the queued batch and publishes it to the SQL thread at once (as MySQL's
   * SQL thread reads what the I/O thread wrote, before any sync), then fdatasyncs
   * on the thread pool. Applying before the sync is safe: a killed process loses
   * nothing the kernel has, and after an OS crash the transactions applied from a
   * lost tail are in the executed GTID set, which the I/O thread asks the source to
   * skip. Acknowledgements (semi-sync) and the retrieved set wait for the sync.
   */
  #writeQueued(): void {
    if (this.#error !== undefined || this.#queue.length === 0) {
      this.#settleIdle();
      return;
    }
    const seg = this.#segments[this.#segments.length - 1];
    // The segment is full: rotate once what it holds is durable (the sync's callback comes back here).
    if (seg !== undefined && this.#written >= this.#o.maxSize) {
      if (!this.#syncing) this.#sync();
      return;
    }
    const batch = this.#queue;
    this.#queue = [];
    const bytes = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((b) => b.bytes));
    try {
      if (this.#fd === -1 || seg === undefined)
        throw new HastackError('HASTACK_DB_RELAY_WRITE', 'relay log has no open segment');
      // Zeros ahead of the data, like binary log segments: a cheaper fdatasync per batch.
      this.#filledTo = zeroFill(this.#fd, this.#filledTo, this.#written + bytes.length);
      let done = 0;
      while (done < bytes.length)
        done += writeSync(this.#fd, bytes, done, bytes.length - done, this.#written + done);
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#written += bytes.length;
    for (const item of batch) this.#unsynced.push(item);
    this.#emitWritten();
    this.#syncSoon();
  }

  #sync(): void {
    this.#clearSyncTimer();
    this.#lastSyncAt = this.#o.clock.now();
    const seg = this.#segments[this.#segments.length - 1]!;
    const upTo = this.#written;
    const items = this.#unsynced;
    this.#unsynced = [];
    this.#syncing = true;
    fdatasync(this.#fd, (syncErr) => {
      this.#syncing = false;
      if (syncErr !== null) {
        this.#fail(syncErr);
        return;
      }
      try {
        seg.size = upTo;
        for (const item of items) {
          if (item.gtid !== undefined) this.#retrieved.add(item.gtid.uuid, item.gtid.seq);
          this.#lastSource = item.source;
        }
        this.#durableAppends += items.length;
        if (items.length > 0) this.#emit();
        // Rotate between transactions only (every written item is whole), once all of it is durable.
        if (this.#unsynced.length === 0 && seg.size >= this.#o.maxSize) this.#openSegment(this.#lastSource);
      } catch (err) {
        this.#fail(err);
        return;
      }
      if (this.#unsynced.length > 0) this.#syncSoon();
      // A full segment waits for its sync to rotate: the queued batch goes now.
      if (this.#queue.length > 0) this.#writeQueued();
      else this.#settleIdle();
    });
  }

  /** Segments with the bytes written so far (durable or not): what the SQL thread may read. */
  writtenSegments(): RelaySegment[] {
    const out = this.segments();
    const last = out[out.length - 1];
    if (last !== undefined && this.#fd !== -1) last.size = this.#written;
    return out;
  }

  onWritten(listener: (segments: RelaySegment[]) => void): () => void {
    this.#writtenListeners.push(listener);
    return () => {
      this.#writtenListeners = this.#writtenListeners.filter((l) => l !== listener);
    };
  }

  #emitWritten(): void {
    if (this.#writtenListeners.length === 0) return;
    const segments = this.writtenSegments();
    for (const l of this.#writtenListeners) l(segments);
  }

  #emit(): void {
    const flushed = {
      segments: this.segments(),
      source: this.#lastSource,
      durableAppends: this.#durableAppends,
    };
    for (const l of this.#listeners) l(flushed);
  }

  /** Removes a fully applied segment (never the one being written). */
  purge(name: string): void {
    const i = this.#segments.findIndex((s) => s.name === name);
    if (i === -1 || i === this.#segments.length - 1) return;
    this.#segments.splice(i, 1);
    writeIndex(
      this.#o.dir,
      RELAY_BASENAME,
      this.#segments.map((s) => s.name),
    );
    try {
      unlinkSync(join(this.#o.dir, name));
    } catch {
      // Already gone.
    }
  }

  /** RESET REPLICA: deletes every relay segment and the index. */
  async reset(): Promise<void> {
    await this.idle().catch(() => {});
    this.#closeHandle();
    for (const s of this.#segments) {
      try {
        unlinkSync(join(this.#o.dir, s.name));
      } catch {
        // Already gone.
      }
    }
    try {
      unlinkSync(indexPath(this.#o.dir, RELAY_BASENAME));
    } catch {
      // Already gone.
    }
    this.#segments = [];
    this.#queue = [];
    this.#unsynced = [];
    this.#retrieved = new GtidSet();
    this.#lastSource = undefined;
    this.#error = undefined;
    this.#emit();
    this.#emitWritten();
  }

  #closeHandle(): void {
    if (this.#fd === -1) return;
    const seg = this.#segments[this.#segments.length - 1];
    try {
      if (seg !== undefined) {
        // Up to what was written (whole transactions, maybe applied already): the zeros go.
        seg.size = this.#written;
        ftruncateSync(this.#fd, seg.size);
        fsyncSync(this.#fd);
      }
    } finally {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }

  async close(): Promise<void> {
    await this.idle().catch(() => {});
    this.#closeHandle();
  }
}
