import net from 'node:net';
import type { BufferPool } from '../core/buffer-pool.ts';
import { CHUNK_DATA, CHUNK_DONE, CHUNK_ERROR, ChunkedDecoder } from './chunked-decoder.ts';
import { type HeadLimits, headIncomplete, parseResponseHead, type ResponseHead } from './http1-head.ts';
import { isParseFailure } from './parse-failure.ts';
import type { PoolServer, UpstreamPool } from './upstream-pool.ts';

/*
 * One connection to an upstream server: connects, writes requests, parses the
 * response (head, then a body framed by length, chunks or close) straight out of
 * a pooled read buffer (`onread`), and hands the pieces to its current consumer
 * (an Exchange). Idle keep-alive connections wait in the UpstreamClient's lists.
 */

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
/** Until the server closes. */
export const BODY_EOF = 3;
/** 101 Switching Protocols: bytes are relayed both ways from now on. */
export const BODY_TUNNEL = 4;

/** Why an upstream attempt failed. */
export const FAIL_CONNECT = 1;
/** Closed or reset before any response byte. */
export const FAIL_EMPTY = 2;
/** Closed in the middle of a response. */
export const FAIL_TRUNCATED = 3;
export const FAIL_PROTOCOL = 4;
export const FAIL_RESPONSE_TIMEOUT = 5;
export const FAIL_READ_TIMEOUT = 6;
export const FAIL_CONNECT_TIMEOUT = 7;
export type FailureKind = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** What an upstream connection reports to (implemented by Exchange). */
export interface UpstreamConsumer {
  onUpstreamConnected(uc: UpstreamConnection): void;
  /** Returns the body mode (BODY_*) the response has. */
  onResponseHead(uc: UpstreamConnection, head: ResponseHead): number;
  onResponseData(uc: UpstreamConnection, buf: Buffer, start: number, end: number): void;
  /** The response is complete; `reusable` tells whether the connection may serve another request. */
  onResponseEnd(uc: UpstreamConnection, reusable: boolean): void;
  onUpstreamFailure(uc: UpstreamConnection, kind: FailureKind, detail: string): void;
  /** 101: the connection now carries a tunnel; `rest` are bytes that followed the head. */
  onTunnel(uc: UpstreamConnection, rest: Buffer | undefined): void;
  /** End of one read's processing: flush what was gathered. */
  afterUpstreamRead(uc: UpstreamConnection): void;
  /** The socket's write queue drained (request body backpressure). */
  onUpstreamDrain(): void;
}

const kUp = Symbol('hastack.http.upstream');
type Tagged = net.Socket & { [kUp]: UpstreamConnection };

const S_CONNECTING = 0;
const S_IDLE = 1;
const S_HEAD = 2;
const S_BODY = 3;
const S_TUNNEL = 4;
const S_CLOSED = 5;

export class UpstreamConnection {
  readonly socket: net.Socket;
  readonly server: PoolServer;
  readonly pool: UpstreamPool;
  readonly client: UpstreamClient;
  consumer: UpstreamConsumer | undefined = undefined;
  readBuf: Buffer;
  pending: Buffer | undefined = undefined;
  state = S_CONNECTING;
  bodyMode = BODY_NONE;
  remaining = 0;
  decoder: ChunkedDecoder | undefined = undefined;
  /** Requests served, for keepalive max_requests. */
  requests = 0;
  /** Any byte of the current response seen. */
  gotBytes = false;
  /** Monotonic ms deadline of the current phase (0 = none). */
  deadline = 0;
  deadlineKind: FailureKind = FAIL_CONNECT_TIMEOUT;
  idleSince = 0;
  /** The server asked to close after this response (or it is HTTP/1.0). */
  closeAfter = false;
  paused = false;
  /** While tunnelling: where bytes from the server go, and what resumes the client side. */
  tunnelSink: ((buf: Buffer, start: number, end: number) => boolean) | undefined = undefined;
  tunnelDrain: (() => void) | undefined = undefined;
  tunnelEnd: (() => void) | undefined = undefined;
  tunnelClosed: (() => void) | undefined = undefined;

  constructor(client: UpstreamClient, pool: UpstreamPool, server: PoolServer) {
    this.client = client;
    this.pool = pool;
    this.server = server;
    this.readBuf = client.buffers.take();
    const socket = net.connect({
      host: server.host,
      port: server.port,
      noDelay: true,
      onread: { buffer: () => this.readBuf, callback: onRead },
    } as net.NetConnectOpts);
    (socket as Tagged)[kUp] = this;
    socket.on('connect', onConnect);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('end', onEnd);
    socket.on('drain', onDrain);
    this.socket = socket;
  }

  get connecting(): boolean {
    return this.state === S_CONNECTING;
  }

  get idle(): boolean {
    return this.state === S_IDLE;
  }

  get closed(): boolean {
    return this.state === S_CLOSED;
  }

  /** The read buffer is referenced by a pending write: read into a fresh one from now on. */
  lendReadBuffer(): void {
    this.readBuf = this.client.buffers.take();
  }

  /** Starts a request/response cycle: the response head is expected next. */
  expectResponse(deadline: number): void {
    this.state = S_HEAD;
    this.gotBytes = false;
    this.bodyMode = BODY_NONE;
    this.closeAfter = false;
    this.deadline = deadline;
    this.deadlineKind = FAIL_RESPONSE_TIMEOUT;
    this.requests++;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.state === S_CLOSED) return;
    if (this.pending !== undefined) {
      const p = this.pending;
      this.pending = undefined;
      this.onData(p, 0, p.length);
      if (this.paused || this.state === S_CLOSED) return;
    }
    this.socket.resume();
  }

  destroy(): void {
    if (this.state === S_CLOSED) return;
    this.state = S_CLOSED;
    this.consumer = undefined;
    this.client.forget(this);
    this.socket.destroy();
  }

  /** Bytes of the response arrived; returns false to pause reading. */
  onData(input: Buffer, start: number, end: number): boolean {
    let buf = input;
    let pos = start;
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, input.subarray(start, end)]);
      pos = 0;
      end = buf.length;
      this.pending = undefined;
    }
    if (this.state === S_TUNNEL) return this.tunnelSink?.(buf, pos, end) ?? false;
    const consumer = this.consumer;
    if (consumer === undefined || this.state === S_IDLE) {
      // Bytes nobody asked for: the connection cannot be trusted any more.
      this.destroy();
      return false;
    }
    if (end > pos) this.gotBytes = true;
    while (pos < end && this.consumer === consumer) {
      if (this.state === S_HEAD) {
        const limits = this.client.limits;
        const head = parseResponseHead(buf, pos, end, limits);
        if (head === undefined) {
          const failure = headIncomplete(buf, pos, end, limits, false);
          if (failure !== undefined) return this.#fail(FAIL_PROTOCOL, failure.message);
          this.pending = Buffer.from(buf.subarray(pos, end));
          pos = end;
          break;
        }
        if (isParseFailure(head)) return this.#fail(FAIL_PROTOCOL, head.message);
        pos += head.headLength;
        if (head.status < 200 && head.status !== 101) continue; // interim responses are not passed on
        this.closeAfter = head.connectionClose || (head.versionMinor === 0 && !head.connectionKeepAlive);
        const mode = consumer.onResponseHead(this, head);
        if (this.consumer !== consumer) return false;
        this.bodyMode = mode;
        if (mode === BODY_TUNNEL) {
          this.state = S_TUNNEL;
          this.deadline = 0;
          consumer.onTunnel(this, pos < end ? Buffer.from(buf.subarray(pos, end)) : undefined);
          return !this.paused && this.state === S_TUNNEL;
        }
        this.state = S_BODY;
        this.deadlineKind = FAIL_READ_TIMEOUT;
        if (mode === BODY_LENGTH) {
          this.remaining = head.contentLength;
          if (this.remaining === 0) return this.#complete(pos < end);
        } else if (mode === BODY_CHUNKED) {
          this.decoder ??= new ChunkedDecoder();
          this.decoder.reset();
        } else if (mode === BODY_NONE) {
          return this.#complete(pos < end);
        }
        continue;
      }
      // S_BODY
      const mode = this.bodyMode;
      if (mode === BODY_LENGTH) {
        const n = Math.min(this.remaining, end - pos);
        consumer.onResponseData(this, buf, pos, pos + n);
        pos += n;
        this.remaining -= n;
        if (this.remaining === 0) return this.#complete(pos < end);
      } else if (mode === BODY_CHUNKED) {
        const d = this.decoder!;
        const r = d.decode(buf, pos, end);
        pos = d.pos;
        if (r === CHUNK_DATA) consumer.onResponseData(this, buf, d.dataStart, d.dataEnd);
        else if (r === CHUNK_DONE) return this.#complete(pos < end);
        else if (r === CHUNK_ERROR) return this.#fail(FAIL_PROTOCOL, d.error);
      } else {
        consumer.onResponseData(this, buf, pos, end);
        pos = end;
      }
    }
    if (this.consumer === consumer) {
      consumer.afterUpstreamRead(this);
      if (this.paused) {
        if (pos < end) this.pending = Buffer.from(buf.subarray(pos, end));
        return false;
      }
    }
    return true;
  }

  #complete(leftover: boolean): boolean {
    const consumer = this.consumer!;
    this.deadline = 0;
    const reusable = !leftover && !this.closeAfter && this.bodyMode !== BODY_EOF;
    this.state = S_IDLE;
    consumer.afterUpstreamRead(this);
    consumer.onResponseEnd(this, reusable);
    return !this.closed;
  }

  #fail(kind: FailureKind, detail: string): boolean {
    const consumer = this.consumer;
    this.destroy();
    consumer?.onUpstreamFailure(this, kind, detail);
    return false;
  }

  /** Called by the engine's timer: fails the phase whose deadline passed. */
  checkDeadline(now: number): void {
    if (this.deadline !== 0 && now >= this.deadline && this.state !== S_IDLE && this.state !== S_CLOSED) {
      this.#fail(this.deadlineKind, 'timeout');
    }
  }

  // --- socket events ---------------------------------------------------------

  connected(): void {
    if (this.state !== S_CONNECTING) return;
    this.state = S_IDLE;
    this.deadline = 0;
    this.consumer?.onUpstreamConnected(this);
  }

  ended(): void {
    // EOF: the end of a close-delimited body, or the server going away.
    if (this.state === S_BODY && this.bodyMode === BODY_EOF) {
      this.#complete(false);
      return;
    }
    if (this.state === S_TUNNEL) {
      this.tunnelEnd?.();
      return;
    }
    this.closedBy('ECONNRESET');
  }

  closedBy(code: string): void {
    const state = this.state;
    if (state === S_CLOSED) return;
    if (state === S_TUNNEL) {
      this.state = S_CLOSED;
      this.client.forget(this);
      this.socket.destroy();
      this.tunnelClosed?.();
      return;
    }
    const consumer = this.consumer;
    this.destroy();
    if (consumer === undefined) return;
    if (state === S_CONNECTING) consumer.onUpstreamFailure(this, FAIL_CONNECT, code);
    else if (state === S_HEAD && !this.gotBytes) consumer.onUpstreamFailure(this, FAIL_EMPTY, code);
    else if (state === S_HEAD || state === S_BODY) consumer.onUpstreamFailure(this, FAIL_TRUNCATED, code);
  }
}

function up(socket: net.Socket): UpstreamConnection {
  return (socket as Tagged)[kUp];
}

function onRead(this: net.Socket, nread: number, buf: Buffer): boolean {
  return up(this).onData(buf, 0, nread);
}

function onConnect(this: net.Socket): void {
  up(this).connected();
}

function onError(this: net.Socket, err: NodeJS.ErrnoException): void {
  up(this).closedBy(err.code ?? 'ERROR');
}

function onClose(this: net.Socket): void {
  up(this).closedBy('ECONNRESET');
}

function onEnd(this: net.Socket): void {
  up(this).ended();
}

function onDrain(this: net.Socket): void {
  const uc = up(this);
  if (uc.tunnelDrain !== undefined) uc.tunnelDrain();
  else uc.consumer?.onUpstreamDrain();
}

/**
 * Upstream connections of one thread: new ones, and idle keep-alive ones per
 * server (most recently used first, as nginx's keepalive cache), closed after
 * their idle timeout or request count.
 */
export class UpstreamClient {
  readonly buffers: BufferPool;
  readonly limits: HeadLimits;
  readonly #idle = new Map<PoolServer, UpstreamConnection[]>();
  readonly #all = new Set<UpstreamConnection>();

  constructor(buffers: BufferPool, limits: HeadLimits) {
    this.buffers = buffers;
    this.limits = limits;
  }

  get size(): number {
    return this.#all.size;
  }

  idleCount(server: PoolServer): number {
    return this.#idle.get(server)?.length ?? 0;
  }

  /** An idle connection to the server, or undefined. */
  takeIdle(server: PoolServer): UpstreamConnection | undefined {
    const list = this.#idle.get(server);
    while (list !== undefined && list.length > 0) {
      const uc = list.pop()!;
      server.inactiveConns--;
      if (!uc.closed && uc.idle) return uc;
    }
    return undefined;
  }

  connect(
    pool: UpstreamPool,
    server: PoolServer,
    consumer: UpstreamConsumer,
    deadline: number,
  ): UpstreamConnection {
    const uc = new UpstreamConnection(this, pool, server);
    uc.consumer = consumer;
    uc.deadline = deadline;
    uc.deadlineKind = FAIL_CONNECT_TIMEOUT;
    this.#all.add(uc);
    return uc;
  }

  /** After a complete response: keep the connection for the next request, or close it. */
  release(uc: UpstreamConnection, reusable: boolean, now: number): void {
    uc.consumer = undefined;
    const ka = uc.pool.config.keepalive;
    const list = this.#idle.get(uc.server) ?? [];
    if (
      !reusable ||
      !ka.enabled ||
      uc.closed ||
      uc.requests >= ka.maxRequests ||
      list.length >= ka.maxIdle ||
      uc.paused
    ) {
      uc.destroy();
      return;
    }
    if (uc.pending !== undefined) {
      uc.destroy();
      return;
    }
    uc.idleSince = now;
    uc.deadline = 0;
    if (!this.#idle.has(uc.server)) this.#idle.set(uc.server, list);
    list.push(uc);
    uc.server.inactiveConns++;
  }

  forget(uc: UpstreamConnection): void {
    if (!this.#all.delete(uc)) return;
    const list = this.#idle.get(uc.server);
    if (list !== undefined) {
      const i = list.indexOf(uc);
      if (i >= 0) {
        list.splice(i, 1);
        uc.server.inactiveConns--;
      }
    }
    // Its read buffer may still be referenced by a write to a client: let the GC have it.
  }

  /** Timer work: deadlines of busy connections, idle timeouts of pooled ones. */
  sweep(now: number): void {
    for (const uc of this.#all) {
      if (uc.idle) {
        const t = uc.pool.config.keepalive.idleTimeoutMs;
        if (uc.consumer === undefined && t > 0 && now - uc.idleSince >= t) uc.destroy();
      } else uc.checkDeadline(now);
    }
  }

  /** Closes idle connections (of one server, or all). */
  closeIdle(server?: PoolServer): void {
    for (const [s, list] of this.#idle) {
      if (server !== undefined && s !== server) continue;
      for (const uc of [...list]) uc.destroy();
    }
  }

  closeAll(): void {
    for (const uc of [...this.#all]) uc.destroy();
  }
}
