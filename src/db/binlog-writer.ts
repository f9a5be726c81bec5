import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.ts';
import { HastackError } from '../core/errors.ts';
import { sealEventAt, withNextPos } from './binlog-event.ts';
import { ByteWriter } from './byte-io.ts';
import { type BinlogEvent, buildEvent, segmentFormatDescription, writeBody } from './event-bodies.ts';
import { CHECKSUM_LENGTH, EventType, FIRST_EVENT_POS, HEADER_LENGTH, LOG_MAGIC } from './event-types.ts';
import { GtidSet } from './gtid-set.ts';
import { fsyncDir, readIndex, writeIndex } from './log-index.ts';
import { BINLOG_BASENAME, type LogPosition, segmentName, segmentSeq } from './log-names.ts';
import { checkMagic, scanSegment, type TransactionGroup } from './log-scan.ts';

/*
 * The binary log of one server: numbered segments plus an index. Appends whole
 * transactions with one write each, rotates past max_size (a Rotate event ends
 * the old segment; the new one starts with Format_desc and Previous_gtids), and
 * purges old segments. fsync is grouped: commits append synchronously, then
 * flush() fsyncs everything appended so far once and reports the durable bytes
 * (to the dump threads). Synchronous file I/O so the SQL thread worker can use
 * it too.
 */

/** Where a binary log lives and how it rotates, purges and syncs: plain data (a worker thread gets it too). */
export interface BinlogFileOptions {
  dir: string;
  serverId: number;
  serverUuid: string;
  serverVersion: string;
  maxSize: number;
  expireMs: number;
  maxTotalSize: number;
  sync: boolean;
}

export interface BinlogWriterOptions extends BinlogFileOptions {
  basename?: string;
  clock: Clock;
  /** Called with the bytes that became durable (in append order). */
  onDurable?: (chunks: readonly DurableChunk[]) => void;
  warn?: (message: string) => void;
}

export interface DurableChunk {
  file: string;
  /** Offset of the first byte. */
  start: number;
  bytes: Buffer;
}

export interface SegmentInfo {
  name: string;
  size: number;
  previousGtids: GtidSet;
}

export interface AppendResult {
  file: string;
  start: number;
  end: number;
}

interface Segment {
  name: string;
  size: number;
  previousGtids: GtidSet;
}

export class BinlogWriter {
  readonly #o: BinlogWriterOptions;
  readonly #base: string;
  #segments: Segment[] = [];
  #fd = -1;
  #pos = 0;
  readonly #logged: GtidSet;
  #recovered: TransactionGroup[] = [];
  #unsynced: DurableChunk[] = [];
  #syncing: Promise<void> | undefined;
  #retiredFds: number[] = [];
  /** End of the zeros written ahead of the data (see zeroFillAhead). */
  #filledTo = 0;
  #closed = false;
  readonly #scratch = new ByteWriter(4096);
  /** A background fdatasync is running (syncInBackground). */
  #bgSync: Promise<void> | undefined;
  #bgError: Error | undefined;

  private constructor(o: BinlogWriterOptions) {
    this.#o = o;
    this.#base = o.basename ?? BINLOG_BASENAME;
    this.#logged = new GtidSet();
  }

  /**
   * Opens the log: reads the index, cuts a torn tail off the last segment (a crash
   * in the middle of a write) and remembers that segment's transactions. Call
   * unexecuted() to find those the database lacks, apply them, then start().
   */
  static recover(o: BinlogWriterOptions): BinlogWriter {
    const w = new BinlogWriter(o);
    mkdirSync(o.dir, { recursive: true });
    const names = readIndex(o.dir, w.#base);
    for (const name of names) {
      const path = join(o.dir, name);
      const isLast = name === names[names.length - 1];
      // Only the header of older segments is needed: their Previous_gtids.
      const buf = isLast ? readFileSync(path) : readHead(path, HEADER_BYTES);
      const scan = scanSegment(buf, path);
      if (buf.length < FIRST_EVENT_POS) {
        if (isLast) {
          unlinkSync(path);
          continue;
        }
        throw new HastackError('HASTACK_DB_LOG_CORRUPT', `${path} is empty or truncated`);
      }
      checkMagic(buf, path);
      const prev = scan.events.find((e) => e.event.type === EventType.PREVIOUS_GTIDS);
      const previousGtids =
        prev !== undefined && prev.event.type === EventType.PREVIOUS_GTIDS
          ? GtidSet.parse(prev.event.gtids)
          : new GtidSet();
      let size = isLast ? buf.length : statSync(path).size;
      if (isLast) {
        if (scan.tail === undefined && scan.zeroTail && scan.safeEnd < buf.length) {
          // Preallocated space after the last event (a crash before the segment was closed).
          truncateFile(path, scan.safeEnd);
          size = scan.safeEnd;
        } else if (scan.tail !== undefined && scan.safeEnd < buf.length) {
          o.warn?.(
            `binary log ${name}: cutting ${buf.length - scan.safeEnd} bytes after position ${scan.safeEnd} (${scan.tail.message})`,
          );
          const fd = openSync(path, 'r+');
          ftruncateSync(fd, scan.safeEnd);
          fsyncSync(fd);
          closeSync(fd);
          size = scan.safeEnd;
        }
        w.#logged.addAll(previousGtids);
        for (const g of scan.groups) {
          if (g.end > size) break;
          w.#logged.add(g.gtid.uuid, g.gtid.seq);
          w.#recovered.push(g);
        }
      }
      w.#segments.push({ name, size, previousGtids });
    }
    return w;
  }

  /** Transactions in the last segment whose GTID the database has not executed. */
  unexecuted(executed: GtidSet): TransactionGroup[] {
    return this.#recovered.filter((g) => !executed.has(g.gtid.uuid, g.gtid.seq));
  }

  /** Starts a fresh segment (as MySQL does at every server start) and applies retention. */
  start(executed?: GtidSet): void {
    this.#recovered = [];
    // GTIDs committed before binary logging existed (or with logs reset) count as logged.
    if (executed !== undefined) this.#logged.addAll(executed);
    this.#openNewSegment();
    this.applyRetention();
  }

  get logged(): GtidSet {
    return this.#logged;
  }

  /** GTIDs no longer in any segment (gtid_purged): Previous_gtids of the oldest segment. */
  get purged(): GtidSet {
    return this.#segments[0]?.previousGtids.clone() ?? new GtidSet();
  }

  get serverId(): number {
    return this.#o.serverId;
  }

  current(): LogPosition {
    const seg = this.#segments[this.#segments.length - 1];
    return { file: seg?.name ?? '', pos: this.#pos };
  }

  segments(): SegmentInfo[] {
    return this.#segments.map((s) => ({ ...s, previousGtids: s.previousGtids.clone() }));
  }

  segmentPath(name: string): string {
    return join(this.#o.dir, name);
  }

  hasSegment(name: string): boolean {
    return this.#segments.some((s) => s.name === name);
  }

  /** Segment after `name` in the index, if any. */
  nextSegment(name: string): string | undefined {
    const i = this.#segments.findIndex((s) => s.name === name);
    return i === -1 ? undefined : this.#segments[i + 1]?.name;
  }

  /** Size of a closed segment, or the append position of the current one. */
  segmentSize(name: string): number | undefined {
    return this.#segments.find((s) => s.name === name)?.size;
  }

  /** Appends one transaction: Gtid, Query/Rows events, Xid (one buffer, one write, one CRC per event). */
  appendTransaction(events: readonly BinlogEvent[], timestampSec: number): AppendResult {
    if (events[0]?.type !== EventType.GTID || events[events.length - 1]?.type !== EventType.XID)
      throw new HastackError('HASTACK_DB_INTERNAL', 'a transaction must start with Gtid and end with Xid');
    // Every event is encoded in place in one reused buffer, then copied once.
    const w = this.#scratch.reset();
    let pos = this.#pos;
    for (const ev of events) {
      const at = w.length;
      writeBody(w.skip(HEADER_LENGTH), ev).skip(CHECKSUM_LENGTH);
      const length = w.length - at;
      pos += length;
      sealEventAt(w.view(), at, length, ev.type, this.#o.serverId, timestampSec, pos, 0);
    }
    return this.#write([Buffer.from(w.view())]);
  }

  /** Appends events received from a source (log_replica_updates), keeping their origin headers. */
  appendRaw(rawEvents: readonly Uint8Array[]): AppendResult {
    let pos = this.#pos;
    const parts: Buffer[] = [];
    for (const raw of rawEvents) {
      pos += raw.length;
      parts.push(withNextPos(raw, pos));
    }
    return this.#write(parts);
  }

  #write(parts: Buffer[]): AppendResult {
    if (this.#closed) throw new HastackError('HASTACK_DB_CLOSED', 'the binary log is closed');
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const file = this.#segments[this.#segments.length - 1]?.name ?? '';
    const start = this.#pos;
    this.#filledTo = zeroFill(this.#fd, this.#filledTo, start + bytes.length);
    let written = 0;
    while (written < bytes.length)
      written += writeSync(this.#fd, bytes, written, bytes.length - written, start + written);
    this.#pos += bytes.length;
    this.#segments[this.#segments.length - 1]!.size = this.#pos;
    this.#unsynced.push({ file, start, bytes });
    if (this.#pos >= this.#o.maxSize) this.rotate();
    return { file, start, end: start + bytes.length };
  }

  // Appends overwrite zeros written ahead a MiB at a time (zeroFill): each commit's
  // fdatasync then has no file-size or block-allocation metadata to journal, which
  // roughly halves its cost on ext4. Readers stop at the zeros; close and rotation cut them off.

  /** Undoes the last append (its commit failed). Only valid before anything else was appended. */
  truncateTo(r: AppendResult): void {
    if (r.file !== this.current().file || r.end !== this.#pos) return;
    // Zero the bytes (the segment is preallocated, so its size stays).
    writeSync(this.#fd, Buffer.alloc(r.end - r.start), 0, r.end - r.start, r.start);
    this.#pos = r.start;
    this.#segments[this.#segments.length - 1]!.size = r.start;
    const last = this.#unsynced[this.#unsynced.length - 1];
    if (last !== undefined && last.file === r.file && last.start === r.start) this.#unsynced.pop();
  }

  /** Records GTIDs as logged (after the transaction's commit succeeded). */
  noteLogged(uuid: string, seq: number): void {
    this.#logged.add(uuid, seq);
  }

  /** FLUSH BINARY LOGS: close the current segment with a Rotate event and start the next. */
  rotate(): void {
    const seg = this.#segments[this.#segments.length - 1]!;
    const next = segmentName(this.#base, segmentSeq(seg.name) + 1);
    const end = this.#pos;
    const rotate = buildEvent(
      { type: EventType.ROTATE, pos: FIRST_EVENT_POS, file: next },
      { serverId: this.#o.serverId, timestamp: this.#nowSec(), nextPos: 0 },
    );
    const event = withNextPos(rotate, end + rotate.length);
    writeSync(this.#fd, event, 0, event.length, end);
    this.#pos += event.length;
    seg.size = this.#pos;
    this.#unsynced.push({ file: seg.name, start: end, bytes: event });
    // Give back the preallocated space; the old segment must be durable before the index names a successor.
    ftruncateSync(this.#fd, this.#pos);
    fsyncSync(this.#fd);
    this.#retiredFds.push(this.#fd);
    // A thread-pool fdatasync may still use the old descriptor: it closes it when done.
    this.#closeRetired();
    this.#openNewSegment();
    this.applyRetention();
  }

  #openNewSegment(): void {
    const last = this.#segments[this.#segments.length - 1];
    const name = segmentName(this.#base, last === undefined ? 1 : segmentSeq(last.name) + 1);
    const path = join(this.#o.dir, name);
    if (existsSync(path)) unlinkSync(path);
    const fd = openSync(path, 'w+');
    const now = this.#nowSec();
    const previousGtids = this.#logged.clone();
    const fdeEvent = segmentFormatDescription(this.#o, now);
    const prev = buildEvent(
      { type: EventType.PREVIOUS_GTIDS, gtids: previousGtids.toString() },
      { serverId: this.#o.serverId, timestamp: now, nextPos: 0 },
    );
    const prevEvent = withNextPos(prev, FIRST_EVENT_POS + fdeEvent.length + prev.length);
    const header = Buffer.concat([LOG_MAGIC, fdeEvent, prevEvent]);
    writeSync(fd, header, 0, header.length, 0);
    this.#filledTo = header.length;
    fsyncSync(fd);
    this.#fd = fd;
    this.#pos = header.length;
    this.#segments.push({ name, size: this.#pos, previousGtids });
    writeIndex(
      this.#o.dir,
      this.#base,
      this.#segments.map((s) => s.name),
    );
    fsyncDir(this.#o.dir);
  }

  /** Purges segments past binlog expiry or the total size limit (never the current one). */
  applyRetention(): string[] {
    const purged: string[] = [];
    const now = this.#o.clock.wallNow();
    const total = () => this.#segments.reduce((n, s) => n + s.size, 0);
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      const path = join(this.#o.dir, oldest.name);
      let expired = false;
      if (this.#o.expireMs > 0) {
        try {
          expired = statSync(path).mtimeMs < now - this.#o.expireMs;
        } catch {
          expired = true;
        }
      }
      const tooBig = this.#o.maxTotalSize > 0 && total() > this.#o.maxTotalSize;
      if (!expired && !tooBig) break;
      purged.push(oldest.name);
      this.#removeOldest();
    }
    return purged;
  }

  /** PURGE BINARY LOGS TO 'name': removes the segments before `name`. */
  purgeTo(name: string): string[] {
    if (!this.hasSegment(name))
      throw new HastackError('HASTACK_DB_LOG_UNKNOWN', `no binary log segment named "${name}"`);
    const purged: string[] = [];
    while (this.#segments.length > 1 && this.#segments[0]!.name !== name) {
      purged.push(this.#segments[0]!.name);
      this.#removeOldest();
    }
    return purged;
  }

  #removeOldest(): void {
    const oldest = this.#segments.shift()!;
    writeIndex(
      this.#o.dir,
      this.#base,
      this.#segments.map((s) => s.name),
    );
    try {
      unlinkSync(join(this.#o.dir, oldest.name));
    } catch {
      // Already gone.
    }
  }

  /**
   * Makes everything appended so far durable and reports it through onDurable.
   * Group commit: the fdatasync runs once per event-loop turn (setImmediate), after
   * every request that arrived in that turn has appended its transaction, and on
   * this thread (no thread-pool hand-off for the single-writer case).
   */
  flush(): Promise<void> {
    if (this.#unsynced.length === 0) return this.#syncing ?? Promise.resolve();
    this.#syncing ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.#syncing = undefined;
        try {
          this.flushSync();
          resolve();
        } catch (err) {
          reject(err);
        }
      });
    });
    return this.#syncing;
  }

  /**
   * Starts an fdatasync of everything appended so far on the thread pool and
   * returns at once (the replica's SQL thread keeps applying meanwhile: its binary
   * log, log_replica_updates, is not what it acknowledges). One at a time; what is
   * appended meanwhile goes with the next call. A failure surfaces at the next call.
   */
  syncInBackground(): void {
    if (this.#bgError !== undefined) throw this.#bgError;
    if (this.#bgSync !== undefined || this.#unsynced.length === 0) return;
    if (!this.#o.sync || this.#closed) {
      this.flushSync();
      return;
    }
    const chunks = this.#unsynced;
    this.#unsynced = [];
    this.#bgSync = new Promise<void>((resolve) => {
      fdatasync(this.#fd, (err) => {
        this.#bgSync = undefined;
        if (err !== null) this.#bgError = err;
        else this.#o.onDurable?.(chunks);
        this.#closeRetired();
        resolve();
      });
    });
  }

  /** Resolves when no background fdatasync is running (before close()). */
  async backgroundIdle(): Promise<void> {
    await this.#bgSync;
  }

  /** Synchronous flush (worker thread, shutdown). */
  flushSync(): void {
    if (this.#bgError !== undefined) throw this.#bgError;
    const chunks = this.#unsynced;
    if (chunks.length === 0) return;
    this.#unsynced = [];
    if (this.#o.sync && !this.#closed) fdatasyncSync(this.#fd);
    this.#o.onDurable?.(chunks);
  }

  #closeRetired(): void {
    if (this.#bgSync !== undefined) return;
    for (const fd of this.#retiredFds) closeSync(fd);
    this.#retiredFds = [];
  }

  #nowSec(): number {
    return Math.floor(this.#o.clock.wallNow() / 1000);
  }

  close(): void {
    if (this.#closed) return;
    try {
      // A clean shutdown ends the segment with a Stop event, as MySQL does.
      if (this.#fd !== -1) {
        const stop = buildEvent(
          { type: EventType.STOP },
          { serverId: this.#o.serverId, timestamp: this.#nowSec(), nextPos: 0 },
        );
        const event = withNextPos(stop, this.#pos + stop.length);
        writeSync(this.#fd, event, 0, event.length, this.#pos);
        this.#unsynced.push({ file: this.current().file, start: this.#pos, bytes: event });
        this.#pos += event.length;
        this.#segments[this.#segments.length - 1]!.size = this.#pos;
      }
      this.flushSync();
      if (this.#fd !== -1) {
        ftruncateSync(this.#fd, this.#pos);
        fsyncSync(this.#fd);
      }
    } catch {
      // Closing anyway.
    }
    this.#closed = true;
    // A running thread-pool fdatasync still uses the descriptor: it closes it when done.
    if (this.#fd !== -1) this.#retiredFds.push(this.#fd);
    this.#fd = -1;
    this.#closeRetired();
  }

  /** Current file size on disk (tests). */
  diskSize(): number {
    return fstatSync(this.#fd).size;
  }
}

const ZERO_FILL_CHUNK = 1024 * 1024;
let zeros: Buffer = Buffer.alloc(0);

export function zeroChunk(size: number): Buffer {
  if (zeros.length < size) zeros = Buffer.alloc(Math.max(size, ZERO_FILL_CHUNK));
  return zeros.subarray(0, size);
}

/** Zero-fills ahead of appends (shared by binary and relay logs). */
export function zeroFill(fd: number, filledTo: number, upTo: number): number {
  if (upTo <= filledTo) return filledTo;
  const target = Math.max(upTo, filledTo + ZERO_FILL_CHUNK);
  writeSync(fd, zeroChunk(target - filledTo), 0, target - filledTo, filledTo);
  return target;
}

function truncateFile(path: string, size: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Enough of a segment's start to hold Format_desc and a fragmented Previous_gtids. */
const HEADER_BYTES = 1024 * 1024;

function readHead(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(max);
    const n = readSync(fd, buf, 0, max, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
