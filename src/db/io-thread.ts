import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from '../core/address.ts';
import type { Clock, RandomSource } from '../core/clock.ts';
import { errorCode, errorMessage, HastackError } from '../core/errors.ts';
import { Backoff } from './backoff.ts';
import { decodeEventAt } from './binlog-event.ts';
import { decodeBody } from './event-bodies.ts';
import { EventType } from './event-types.ts';
import type { Gtid, GtidSet } from './gtid-set.ts';
import type { LogPosition } from './log-names.ts';
import type { RelayLog } from './relay-log.ts';
import {
  decodeJson,
  decodePosition,
  type ErrorMessage,
  encodeJsonFrame,
  encodePosition,
  FrameReader,
  type HelloMessage,
  Msg,
  PROTOCOL_VERSION,
  protocolError,
  type WelcomeMessage,
} from './wire-protocol.ts';

/*
 * The replica's receiver (MySQL's I/O thread; here an async task on the main
 * event loop): connects to the source, asks for what it lacks (GTID set or file
 * and offset), verifies each event's checksum, appends whole transactions to the
 * relay log, and acknowledges them once fsynced when the source runs semi-sync.
 * It reconnects with backoff after any failure, and gives up (I/O thread stops)
 * only on errors that retrying cannot fix.
 */

/** Errors after which retrying is pointless: the I/O thread stops, as MySQL's does. */
const FATAL_CODES = new Set([
  'HASTACK_DB_DUPLICATE_SERVER_ID',
  'HASTACK_DB_DUPLICATE_SERVER_UUID',
  'HASTACK_DB_SERVER_ID_ZERO',
  'HASTACK_DB_WRONG_SOURCE',
  'HASTACK_DB_ERRANT_TRANSACTIONS',
  'HASTACK_DB_SOURCE_PURGED',
  'HASTACK_DB_SOURCE_LOG_CORRUPT',
  'HASTACK_DB_POSITION_INVALID',
]);

/** MySQL error numbers for the nearest condition, for Last_IO_Errno. */
const ERRNO: Record<string, number> = {
  HASTACK_DB_DUPLICATE_SERVER_ID: 13117,
  HASTACK_DB_DUPLICATE_SERVER_UUID: 13117,
  HASTACK_DB_SERVER_ID_ZERO: 13117,
  HASTACK_DB_SOURCE_PURGED: 13114,
  HASTACK_DB_SOURCE_LOG_CORRUPT: 13114,
  HASTACK_DB_POSITION_INVALID: 13114,
  HASTACK_DB_ERRANT_TRANSACTIONS: 13114,
  HASTACK_DB_WRONG_SOURCE: 13117,
  HASTACK_DB_EVENT_CHECKSUM: 13115,
  HASTACK_DB_EVENT_INVALID: 13115,
  HASTACK_DB_RELAY_WRITE: 13122,
};

export type IoState = 'Yes' | 'No' | 'Connecting';

export interface ThreadError {
  errno: number;
  code: string;
  message: string;
  /** ISO time, as Last_IO_Error_Timestamp. */
  at: string;
}

export interface IoThreadOptions {
  name: string;
  serverId: number;
  serverUuid: string;
  source: HostPort;
  autoPosition: boolean;
  /** The source UUID this replica follows (null: any), asked at each connect. */
  expectedSourceUuid: () => string | null;
  semiSync: boolean;
  netTimeoutMs: number;
  reconnect: { minMs: number; maxMs: number };
  relay: RelayLog;
  /** What the replica has: executed ∪ retrieved (asked at each connect). */
  gtidSet: () => GtidSet;
  /** Position mode: where to read from (asked at each connect). */
  startPosition: () => LogPosition | undefined;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  onConnected: (source: { serverId: number; serverUuid: string; name: string }) => void;
}

export class IoThread {
  readonly #o: IoThreadOptions;
  readonly #backoff: Backoff;
  #state: IoState = 'No';
  #running = false;
  #socket: Socket | undefined;
  #sleep: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  #loop: Promise<void> | undefined;
  #lastError: ThreadError | undefined;
  #source: { serverId: number; serverUuid: string; name: string } | undefined;
  /** Source coordinates of the last event received whole (Source_Log_File / Read_Source_Log_Pos). */
  #read: LogPosition | undefined;
  #connectedAt: number | undefined;
  #reconnects = 0;
  #bytesReceived = 0;
  #lastEventAtMs = 0;

  constructor(o: IoThreadOptions) {
    this.#o = o;
    this.#backoff = new Backoff(o.reconnect.minMs, o.reconnect.maxMs, o.random);
    this.#read = o.relay.lastSource;
  }

  get state(): IoState {
    return this.#state;
  }

  get lastError(): ThreadError | undefined {
    return this.#lastError;
  }

  get source(): { serverId: number; serverUuid: string; name: string } | undefined {
    return this.#source;
  }

  get readPosition(): LogPosition | undefined {
    return this.#read;
  }

  get stats(): { reconnects: number; bytesReceived: number; connectedAt: number | undefined } {
    return {
      reconnects: this.#reconnects,
      bytesReceived: this.#bytesReceived,
      connectedAt: this.#connectedAt,
    };
  }

  /** Wall ms when the last event arrived (for lag when idle). */
  get lastEventAtMs(): number {
    return this.#lastEventAtMs;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#lastError = undefined;
    this.#backoff.reset();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#socket?.destroy();
    if (this.#sleep !== undefined) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
    }
    await this.#loop;
    this.#loop = undefined;
    this.#state = 'No';
  }

  async #run(): Promise<void> {
    while (this.#running) {
      this.#state = 'Connecting';
      try {
        await this.#session();
        if (!this.#running) break;
        throw new HastackError('HASTACK_DB_SOURCE_CLOSED', 'the source closed the connection');
      } catch (err) {
        if (!this.#running) break;
        const code = errorCode(err);
        this.#lastError = {
          errno: ERRNO[code] ?? 2003,
          code,
          message: `error reconnecting to source ${this.#o.source.host}:${this.#o.source.port}: ${errorMessage(err)}`,
          at: new Date(this.#o.clock.wallNow()).toISOString(),
        };
        if (FATAL_CODES.has(code)) {
          this.#o.logger.error({ code, err: errorMessage(err) }, 'replica I/O thread stopped');
          this.#lastError.message = `fatal error from source ${this.#o.source.host}:${this.#o.source.port}: ${errorMessage(err)}`;
          this.#running = false;
          break;
        }
        this.#o.logger.warn({ code, err: errorMessage(err) }, 'replication connection failed; retrying');
        this.#reconnects++;
        await this.#wait(this.#backoff.next());
      }
    }
    this.#state = 'No';
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = undefined;
        resolve();
      }, ms);
      this.#sleep = { timer, resolve };
    });
  }

  /** One connection: handshake, then receive until it fails. */
  async #session(): Promise<void> {
    const relay = this.#o.relay;
    await relay.idle();
    // stop() may have run during any await: it cannot reach a socket not yet created.
    if (!this.#running) return;
    const socket = await this.#connect();
    if (!this.#running || socket.destroyed) {
      socket.destroy();
      this.#socket = undefined;
      return;
    }
    const reader = new FrameReader();
    const where = `event stream from ${this.#o.source.host}:${this.#o.source.port}`;
    let pending: Buffer[] = [];
    let pendingGtid: Gtid | undefined;
    let welcome: WelcomeMessage | undefined;
    /** Frames wait while the new relay segment is being created. */
    let ready = false;
    let sourceFile = this.#read?.file ?? '';
    let acked: LogPosition | undefined;
    /** Relay append count of this connection's first event. */
    let firstAppend: number | undefined;
    let unsubscribe: (() => void) | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(
        () =>
          socket.destroy(
            new HastackError(
              'HASTACK_DB_NET_TIMEOUT',
              `no data from the source for ${this.#o.netTimeoutMs} ms`,
            ),
          ),
        this.#o.netTimeoutMs,
      );
    };

    const onWelcome = (w: WelcomeMessage, fail: (err: unknown) => void, resume: () => void) => {
      if (w.serverId === this.#o.serverId)
        throw new HastackError(
          'HASTACK_DB_DUPLICATE_SERVER_ID',
          `source and replica have the same server_id ${w.serverId}`,
        );
      this.#source = { serverId: w.serverId, serverUuid: w.serverUuid, name: w.name };
      this.#o.onConnected(this.#source);
      this.#state = 'Yes';
      this.#connectedAt = this.#o.clock.wallNow();
      this.#lastError = undefined;
      this.#backoff.reset();
      if (w.semiSync) {
        relay.setAckWanted(true);
        unsubscribe = relay.onFlushed((f) => {
          const s = f.source;
          // Acknowledge only positions this connection received (never coordinates of a previous source).
          if (
            s === undefined ||
            socket.destroyed ||
            firstAppend === undefined ||
            f.durableAppends < firstAppend
          )
            return;
          if (acked !== undefined && acked.file === s.file && s.pos <= acked.pos) return;
          acked = s;
          socket.write(encodePosition(Msg.ACK, s.file, s.pos));
        });
      }
      // A fresh relay segment per connection, as MySQL rotates its relay log when the I/O thread starts.
      relay.startSegment(this.#read).then(() => {
        ready = true;
        resume();
      }, fail);
    };

    const onEvents = (payload: Buffer) => {
      let at = 1;
      while (at < payload.length) {
        const r = decodeEventAt(payload, at, where);
        if (r.kind === 'incomplete') throw protocolError('EVENTS frame ends inside an event');
        const bytes = Buffer.from(r.event.bytes);
        at = r.end;
        const type = r.event.header.type;
        this.#lastEventAtMs = this.#o.clock.wallNow();
        if (type === EventType.ROTATE) {
          const ev = decodeBody(r.event, where);
          if (ev.type !== EventType.ROTATE) continue;
          if (pendingGtid !== undefined) throw protocolError('Rotate inside a transaction');
          sourceFile = ev.file;
          this.#read = { file: ev.file, pos: ev.pos };
          relay.append({ bytes, gtid: undefined, source: this.#read });
          firstAppend ??= relay.appended();
        } else if (type === EventType.GTID) {
          if (pendingGtid !== undefined) throw protocolError('transaction without commit');
          const ev = decodeBody(r.event, where);
          if (ev.type !== EventType.GTID) continue;
          pendingGtid = { uuid: ev.uuid, seq: ev.seq };
          pending = [bytes];
        } else if (type === EventType.QUERY || type === EventType.ROWS) {
          if (pendingGtid === undefined) throw protocolError('event outside a transaction');
          pending.push(bytes);
        } else if (type === EventType.XID) {
          if (pendingGtid === undefined) throw protocolError('commit outside a transaction');
          pending.push(bytes);
          this.#read = { file: sourceFile, pos: r.event.header.nextPos };
          relay.append({ bytes: Buffer.concat(pending), gtid: pendingGtid, source: this.#read });
          firstAppend ??= relay.appended();
          pending = [];
          pendingGtid = undefined;
        }
      }
    };

    try {
      // The session only ends by failing (the connection closes or an error arrives).
      await new Promise<void>((_resolve, reject) => {
        const fail = (err: unknown) => {
          reject(err);
          socket.destroy();
        };
        const pump = () => {
          try {
            for (;;) {
              if (welcome !== undefined && !ready) return;
              const frame = reader.next();
              if (frame === undefined) return;
              if (frame.type === Msg.ERROR) {
                const e = decodeJson(frame) as ErrorMessage;
                throw new HastackError(
                  String(e.code ?? 'HASTACK_DB_SOURCE_ERROR'),
                  `source: ${String(e.message)}`,
                );
              }
              if (welcome === undefined) {
                if (frame.type !== Msg.WELCOME)
                  throw protocolError(`expected WELCOME, got frame type ${frame.type}`);
                welcome = decodeJson(frame) as WelcomeMessage;
                onWelcome(welcome, fail, pump);
              } else if (frame.type === Msg.HEARTBEAT) {
                decodePosition(frame.payload);
              } else if (frame.type === Msg.EVENTS) {
                onEvents(frame.payload);
              } else {
                throw protocolError(`unexpected frame type ${frame.type}`);
              }
            }
          } catch (err) {
            fail(err);
          }
        };
        socket.on('error', reject);
        socket.on('close', () =>
          reject(new HastackError('HASTACK_DB_SOURCE_CLOSED', 'connection to the source closed')),
        );
        socket.on('data', (chunk: Buffer) => {
          armIdle();
          this.#bytesReceived += chunk.length;
          reader.push(chunk);
          pump();
        });
        armIdle();
        const position = this.#o.autoPosition ? undefined : this.#o.startPosition();
        const hello: HelloMessage = {
          protocol: PROTOCOL_VERSION,
          serverId: this.#o.serverId,
          serverUuid: this.#o.serverUuid,
          name: this.#o.name,
          expectedSourceUuid: this.#o.expectedSourceUuid(),
          autoPosition: this.#o.autoPosition,
          gtidSet: this.#o.gtidSet().toString(),
          file: position?.file ?? null,
          pos: position?.pos ?? 0,
          semiSync: this.#o.semiSync,
        };
        socket.write(encodeJsonFrame(Msg.HELLO, hello));
      });
    } finally {
      clearTimeout(idleTimer);
      unsubscribe?.();
      relay.setAckWanted(false);
      socket.destroy();
      this.#socket = undefined;
      // Whole transactions already queued stay; a partial one is dropped and fetched again.
      await relay.idle().catch((err: unknown) => {
        throw new HastackError('HASTACK_DB_RELAY_WRITE', `cannot write the relay log: ${errorMessage(err)}`);
      });
    }
  }

  #connect(): Promise<Socket> {
    const { host, port } = this.#o.source;
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      // Visible to stop() while connecting, so stopping cancels the connect.
      this.#socket = socket;
      const settle = (err: unknown) => {
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('error', settle);
        socket.off('close', onClose);
        if (err === undefined) resolve(socket);
        else {
          socket.destroy();
          if (this.#socket === socket) this.#socket = undefined;
          reject(err);
        }
      };
      const onConnect = () => settle(undefined);
      // destroy() (stop) emits close, not error.
      const onClose = () =>
        settle(
          new HastackError(
            'HASTACK_DB_SOURCE_CLOSED',
            `connection to ${host}:${port} closed while connecting`,
          ),
        );
      const timer = setTimeout(
        () =>
          settle(new HastackError('HASTACK_DB_CONNECT_TIMEOUT', `connecting to ${host}:${port} timed out`)),
        this.#o.netTimeoutMs,
      );
      socket.once('connect', onConnect);
      socket.once('error', settle);
      socket.once('close', onClose);
    });
  }
}
