import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { formatHostPort, type HostPort } from '../core/address.ts';
import { errorCode, errorMessage, HastackError } from '../core/errors.ts';
import type { BinlogWriter, DurableChunk } from './binlog-writer.ts';
import { buildEvent } from './event-bodies.ts';
import { EventType, FIRST_EVENT_POS } from './event-types.ts';
import { GtidSet } from './gtid-set.ts';
import { admitReplica, checkGtidStart, parseHello, type SourceIdentity } from './handshake.ts';
import { type LogPosition, positionKey } from './log-names.ts';
import { scanSegment } from './log-scan.ts';
import type { SemiSyncTracker } from './semi-sync.ts';
import {
  decodeJson,
  decodePosition,
  EVENTS_FLAG_ACK,
  encodeJsonFrame,
  encodePosition,
  eventsFrameHeader,
  FrameReader,
  type HelloMessage,
  Msg,
  PROTOCOL_VERSION,
  type WelcomeMessage,
} from './wire-protocol.ts';

/*
 * The source side of replication (MySQL's Binlog Dump threads): a TCP listener
 * that admits replicas (server_id and UUID rules, GTID or position start) and
 * streams each one the binary log from where it asked, verifying checksums as it
 * reads (master_verify_checksum), with heartbeats when idle. Semi-sync replicas'
 * ACKs go to the tracker.
 */

export interface BinlogSource {
  identity(): SourceIdentity;
  /** The binary log, when this server is the source. */
  binlog(): BinlogWriter | undefined;
  /** End of what is durable in the binary log. */
  durable(): LogPosition;
  subscribe(listener: (chunks: readonly DurableChunk[]) => void): () => void;
  semiSync: SemiSyncTracker;
  semiSyncEnabled(): boolean;
}

export interface ReplicaConnection {
  serverId: number;
  serverUuid: string;
  name: string;
  address: string;
  semiSync: boolean;
  connectedAt: string;
  /** Last position sent. */
  sent: LogPosition;
  /** Last position acknowledged (semi-sync). */
  acked: LogPosition | undefined;
  bytesSent: number;
}

const HELLO_TIMEOUT_MS = 10_000;
const READ_CHUNK = 1024 * 1024;
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

export class BinlogServer {
  readonly #listen: HostPort;
  readonly #source: BinlogSource;
  readonly #heartbeatMs: number;
  readonly #logger: Logger;
  #server: Server | undefined;
  readonly #sessions = new Map<string, DumpSession>();
  readonly #sockets = new Set<Socket>();

  constructor(o: { listen: HostPort; source: BinlogSource; heartbeatMs: number; logger: Logger }) {
    this.#listen = o.listen;
    this.#source = o.source;
    this.#heartbeatMs = o.heartbeatMs;
    this.#logger = o.logger;
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new HastackError(
            'HASTACK_DB_LISTEN',
            `replication listener cannot listen on ${formatHostPort(this.#listen.host, this.#listen.port)}: ${err.message}`,
            { cause: err },
          ),
        ),
      );
      server.listen(this.#listen.port, this.#listen.host, () => resolve());
    });
    server.on('error', (err) => this.#logger.error({ err }, 'replication listener error'));
    this.#server = server;
  }

  address(): HostPort {
    const a = this.#server?.address();
    if (a === null || a === undefined || typeof a === 'string') return this.#listen;
    return { host: a.address, port: a.port };
  }

  replicas(): ReplicaConnection[] {
    return [...this.#sessions.values()].map((s) => s.info());
  }

  /** Closes every replica connection (demotion, shutdown). */
  disconnectAll(): void {
    for (const s of this.#sessions.values()) s.close();
    this.#sessions.clear();
  }

  async stop(): Promise<void> {
    this.disconnectAll();
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    const reader = new FrameReader();
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    // A socket closed before its HELLO (stop, a replica stopping while connecting) must not leave the timer.
    socket.once('close', () => clearTimeout(timer));
    const onData = (chunk: Buffer) => {
      try {
        reader.push(chunk);
        const frame = reader.next();
        if (frame === undefined) return;
        clearTimeout(timer);
        socket.off('data', onData);
        if (frame.type !== Msg.HELLO) throw new HastackError('HASTACK_DB_PROTOCOL', 'expected HELLO');
        this.#admit(socket, parseHello(decodeJson(frame)), reader);
      } catch (err) {
        clearTimeout(timer);
        this.#refuse(socket, err);
      }
    };
    socket.on('data', onData);
  }

  #refuse(socket: Socket, err: unknown): void {
    const code = errorCode(err);
    this.#logger.warn({ code, err: errorMessage(err), peer: socket.remoteAddress }, 'replica refused');
    socket.end(encodeJsonFrame(Msg.ERROR, { code, message: errorMessage(err) }));
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  #admit(socket: Socket, hello: HelloMessage, reader: FrameReader): void {
    const identity = this.#source.identity();
    const admission = admitReplica(
      hello,
      identity,
      [...this.#sessions.values()].map((x) => x.info()),
    );
    if (admission.replaces !== undefined) {
      this.#sessions.get(admission.replaces)?.close();
      this.#sessions.delete(admission.replaces);
    }
    const binlog = this.#source.binlog();
    if (binlog === undefined)
      throw new HastackError('HASTACK_DB_NOT_SOURCE', `${identity.name} is not a source`);
    let start: LogPosition;
    let skip: GtidSet | undefined;
    if (hello.autoPosition) {
      skip = GtidSet.parse(hello.gtidSet);
      checkGtidStart(skip, binlog.logged, binlog.purged);
      const segments = binlog.segments();
      let file = segments[0]!.name;
      for (let i = segments.length - 1; i >= 0; i--) {
        if (segments[i]!.previousGtids.isSubsetOf(skip)) {
          file = segments[i]!.name;
          break;
        }
      }
      start = { file, pos: FIRST_EVENT_POS };
    } else {
      const file = hello.file ?? binlog.segments()[0]!.name;
      const size = binlog.segmentSize(file);
      if (size === undefined)
        throw new HastackError(
          'HASTACK_DB_POSITION_INVALID',
          `the source has no binary log "${file}" (purged?)`,
        );
      const pos = Math.max(hello.pos, FIRST_EVENT_POS);
      if (pos > size)
        throw new HastackError(
          'HASTACK_DB_POSITION_INVALID',
          `position ${pos} is past the end of ${file} (${size} bytes)`,
        );
      start = { file, pos };
    }
    const semiSync = hello.semiSync && this.#source.semiSyncEnabled();
    const welcome: WelcomeMessage = {
      protocol: PROTOCOL_VERSION,
      serverId: identity.serverId,
      serverUuid: identity.serverUuid,
      name: identity.name,
      semiSync,
    };
    socket.write(encodeJsonFrame(Msg.WELCOME, welcome));
    const session = new DumpSession({
      socket,
      hello,
      reader,
      binlog,
      source: this.#source,
      start,
      skip,
      semiSync,
      heartbeatMs: this.#heartbeatMs,
      logger: this.#logger,
      onClose: () => {
        if (this.#sessions.get(hello.serverUuid) === session) this.#sessions.delete(hello.serverUuid);
        if (semiSync) this.#source.semiSync.replicaGone(hello.serverUuid);
      },
      onError: (err) => this.#refuse(socket, err),
    });
    this.#sessions.set(hello.serverUuid, session);
    if (semiSync) this.#source.semiSync.replicaConnected(hello.serverUuid);
    this.#logger.info(
      {
        replica: hello.name,
        serverId: hello.serverId,
        from: `${start.file}:${start.pos}`,
        autoPosition: hello.autoPosition,
        semiSync,
      },
      'replica connected',
    );
    session.run();
  }
}

interface DumpOptions {
  socket: Socket;
  hello: HelloMessage;
  reader: FrameReader;
  binlog: BinlogWriter;
  source: BinlogSource;
  start: LogPosition;
  skip: GtidSet | undefined;
  semiSync: boolean;
  heartbeatMs: number;
  logger: Logger;
  onClose: () => void;
  onError: (err: unknown) => void;
}

/** Streams the binary log to one replica. */
class DumpSession {
  readonly #o: DumpOptions;
  #file: string;
  #pos: number;
  #closed = false;
  #queue: DurableChunk[] = [];
  #queuedBytes = 0;
  #wake: (() => void) | undefined;
  #acked: LogPosition | undefined;
  #bytesSent = 0;
  #want = READ_CHUNK;
  readonly #connectedAt = new Date().toISOString();
  #unsubscribe: () => void;

  constructor(o: DumpOptions) {
    this.#o = o;
    this.#file = o.start.file;
    this.#pos = o.start.pos;
    this.#unsubscribe = o.source.subscribe((chunks) => {
      for (const c of chunks) {
        this.#queue.push(c);
        this.#queuedBytes += c.bytes.length;
      }
      if (this.#queuedBytes > MAX_QUEUED_BYTES) this.#clearQueue();
      this.#wakeUp();
    });
    o.socket.on('close', () => this.close());
    o.socket.on('data', (chunk: Buffer) => {
      try {
        o.reader.push(chunk);
        for (let f = o.reader.next(); f !== undefined; f = o.reader.next()) {
          if (f.type !== Msg.ACK) continue;
          const p = decodePosition(f.payload);
          // An acknowledgement past what was sent is bogus: it must never release a commit.
          if (positionKey(p.file, p.pos) > positionKey(this.#file, this.#pos)) {
            o.logger.warn({ replica: o.hello.name, ack: p }, 'ignoring an ACK past the sent position');
            continue;
          }
          this.#acked = p;
          if (o.semiSync) o.source.semiSync.ack(o.hello.serverUuid, positionKey(p.file, p.pos));
        }
      } catch (err) {
        o.logger.warn({ err: errorMessage(err) }, 'bad message from replica');
        o.socket.destroy();
      }
    });
  }

  info(): ReplicaConnection {
    const h = this.#o.hello;
    return {
      serverId: h.serverId,
      serverUuid: h.serverUuid,
      name: h.name,
      address: `${this.#o.socket.remoteAddress}:${this.#o.socket.remotePort}`,
      semiSync: this.#o.semiSync,
      connectedAt: this.#connectedAt,
      sent: { file: this.#file, pos: this.#pos },
      acked: this.#acked,
      bytesSent: this.#bytesSent,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#o.socket.destroy();
    this.#wakeUp();
    this.#o.onClose();
  }

  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  #clearQueue(): void {
    this.#queue = [];
    this.#queuedBytes = 0;
  }

  run(): void {
    this.#loop().catch((err: unknown) => {
      if (this.#closed) return;
      this.#o.onError(err);
      this.close();
    });
  }

  async #send(frame: Buffer[]): Promise<void> {
    const socket = this.#o.socket;
    let ok = true;
    for (const part of frame) {
      ok = socket.write(part);
      this.#bytesSent += part.length;
    }
    if (!ok && !this.#closed) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
  }

  /** A Rotate naming where the stream continues (MySQL's fake rotate event). */
  async #sendRotate(file: string, pos: number): Promise<void> {
    const ev = buildEvent(
      { type: EventType.ROTATE, pos, file },
      { serverId: this.#o.source.identity().serverId, timestamp: Math.floor(Date.now() / 1000), nextPos: 0 },
    );
    await this.#send([eventsFrameHeader(ev.length, 0), ev]);
  }

  async #loop(): Promise<void> {
    const o = this.#o;
    await this.#sendRotate(this.#file, this.#pos);
    let fh: Awaited<ReturnType<typeof open>> | undefined;
    let fhFile = '';
    try {
      while (!this.#closed) {
        const durable = o.source.durable();
        const limit = this.#file === durable.file ? durable.pos : o.binlog.segmentSize(this.#file);
        if (limit === undefined)
          throw new HastackError(
            'HASTACK_DB_SOURCE_PURGED',
            `binary log ${this.#file} was purged while being sent`,
          );
        if (this.#pos >= limit) {
          if (this.#file !== durable.file) {
            const next = o.binlog.nextSegment(this.#file);
            if (next === undefined)
              throw new HastackError('HASTACK_DB_SOURCE_LOG_CORRUPT', `${this.#file} has no successor`);
            // The segment ended without a Rotate (a Stop at shutdown): tell the replica the new file.
            await this.#sendRotate(next, FIRST_EVENT_POS);
            this.#file = next;
            this.#pos = FIRST_EVENT_POS;
            continue;
          }
          await this.#idle();
          continue;
        }
        // Bytes just made durable are usually still in memory: no file read needed.
        while (this.#queue.length > 0) {
          const q = this.#queue[0]!;
          if (q.file === this.#file && q.start + q.bytes.length > this.#pos) break;
          this.#queue.shift();
          this.#queuedBytes -= q.bytes.length;
        }
        let buf: Buffer;
        const head = this.#queue[0];
        if (head !== undefined && head.file === this.#file && head.start === this.#pos) {
          buf = head.bytes;
        } else {
          if (fh === undefined || fhFile !== this.#file) {
            await fh?.close();
            fh = await open(o.binlog.segmentPath(this.#file), 'r');
            fhFile = this.#file;
          }
          const len = Math.min(limit - this.#pos, this.#want);
          buf = Buffer.allocUnsafe(len);
          const { bytesRead } = await fh.read(buf, 0, len, this.#pos);
          if (bytesRead < len)
            throw new HastackError(
              'HASTACK_DB_SOURCE_LOG_CORRUPT',
              `binary log ${this.#file} is shorter than expected`,
            );
        }
        await this.#sendSlice(buf, limit);
      }
    } finally {
      await fh?.close();
    }
  }

  /** Sends the whole events of `buf` (starting at the current position), filtered. */
  async #sendSlice(buf: Buffer, limit: number): Promise<void> {
    const o = this.#o;
    const where = `binary log ${this.#file}`;
    const scan = scanSegment(buf, where, 0, this.#pos);
    if (scan.tail !== undefined) {
      const readEnd = this.#pos + buf.length;
      if (scan.tail.code !== 'HASTACK_DB_LOG_TRUNCATED' || (readEnd >= limit && scan.safeEnd === this.#pos))
        throw new HastackError('HASTACK_DB_SOURCE_LOG_CORRUPT', `cannot read ${where}: ${scan.tail.message}`);
      // A transaction larger than one read: read a bigger piece next time.
      if (scan.safeEnd === this.#pos) this.#want = Math.max(READ_CHUNK, scan.incompleteNeed + 64 * 1024);
    } else this.#want = READ_CHUNK;
    const parts: Buffer[] = [];
    let bytes = 0;
    let skipping = false;
    let rotateTo: string | undefined;
    for (const e of scan.events) {
      const ev = e.event;
      switch (ev.type) {
        case EventType.FORMAT_DESCRIPTION:
        case EventType.PREVIOUS_GTIDS:
        case EventType.STOP:
          continue;
        case EventType.ROTATE:
          rotateTo = ev.file;
          break;
        case EventType.GTID:
          skipping = o.skip?.has(ev.uuid, ev.seq) === true;
          break;
        default:
          break;
      }
      if (skipping) continue;
      parts.push(e.raw.bytes);
      bytes += e.raw.bytes.length;
    }
    this.#pos = scan.safeEnd;
    if (bytes > 0) await this.#send([eventsFrameHeader(bytes, o.semiSync ? EVENTS_FLAG_ACK : 0), ...parts]);
    if (rotateTo !== undefined) {
      this.#file = rotateTo;
      this.#pos = FIRST_EVENT_POS;
    }
  }

  async #idle(): Promise<void> {
    if (this.#closed) return;
    let timer: NodeJS.Timeout | undefined;
    const heartbeat = await new Promise<boolean>((resolve) => {
      this.#wake = () => resolve(false);
      timer = setTimeout(() => resolve(true), this.#o.heartbeatMs);
    });
    clearTimeout(timer);
    this.#wake = undefined;
    if (heartbeat && !this.#closed) await this.#send([encodePosition(Msg.HEARTBEAT, this.#file, this.#pos)]);
  }
}
