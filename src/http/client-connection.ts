import net from 'node:net';
import type { BufferPool } from '../core/buffer-pool.ts';
import { fastWrite, queuedOn } from '../core/fast-write.ts';
import { CHUNK_DATA, CHUNK_DONE, CHUNK_ERROR, ChunkedDecoder } from './chunked-decoder.ts';
import type { EngineContext, ListenerContext } from './context.ts';
import type { Downstream, OutgoingHead } from './downstream.ts';
import { Exchange, type Tunnelable } from './exchange.ts';
import {
  buildClientResponseHead,
  FRAME_CHUNKED,
  FRAME_CLOSE,
  FRAME_LENGTH,
  FRAME_NONE,
} from './forward-headers.ts';
import { type HeadLimits, headIncomplete, parseRequestHead } from './http1-head.ts';
import { latin1Write } from './latin1.ts';
import { rawErrorResponse } from './local-responses.ts';
import { isParseFailure, type ParseFailure } from './parse-failure.ts';
import { SpillFile } from './spill-file.ts';
import { Tunnel } from './tunnel.ts';
import type { UpstreamConnection } from './upstream-connection.ts';

/*
 * The server side of one HTTP/1.1 client connection: parses requests straight
 * out of a pooled read buffer, runs them one at a time in order (pipelined
 * requests wait, unread, until the response before them is out), streams request
 * bodies with a size limit, and writes responses with keep-alive, buffering for
 * slow clients (memory up to buffer_size, then a temp file) or streaming with
 * backpressure, and the per-phase client timeouts.
 */

const S_IDLE = 0;
const S_HEAD = 1;
const S_BODY = 2;
/** Request read; its response is still going out. */
const S_WAIT = 3;
const S_TUNNEL = 4;
const S_CLOSING = 5;

const REQ_NONE = 0;
const REQ_LENGTH = 1;
const REQ_CHUNKED = 2;

/** Streaming mode: stop reading the upstream while this much waits for the client. */
const STREAM_HIGH_WATER = 64 * 1024;
/** Spilled data goes back to the socket in pieces of this size. */
const SPILL_CHUNK = 64 * 1024;

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

const kConn = Symbol('hastack.http.client');
type Tagged = net.Socket & { [kConn]: ClientConnection };

export interface ClientConnectionOptions {
  engine: EngineContext;
  listener: ListenerContext;
  buffers: BufferPool;
  limits: HeadLimits;
  /** Called once the socket closed. */
  onClosed: (c: ClientConnection) => void;
}

export class ClientConnection implements Downstream, Tunnelable {
  readonly kind = 'h1';
  readonly socket: net.Socket;
  readonly engine: EngineContext;
  readonly listener: ListenerContext;
  readonly exchange: Exchange;
  readonly peer: string;
  readonly peerPort: number;
  readonly #options: ClientConnectionOptions;
  /** The read buffer of a plain socket (onread); undefined for TLS sockets (data events). */
  readonly #readBuf: Buffer | undefined;
  #pending: Buffer | undefined = undefined;
  state = S_IDLE;
  #processing = false;
  #readPaused = false;
  #requests = 0;
  #versionMinor = 1;
  // request body
  #reqMode = REQ_NONE;
  #reqRemaining = 0;
  #decoder: ChunkedDecoder | undefined = undefined;
  #bodyBlocked = false;
  // response
  #headOut: string | undefined = undefined;
  #outFraming = FRAME_NONE;
  #outBody = false;
  #responseEnded = false;
  #spill: SpillFile | undefined = undefined;
  #upstreamPaused = false;
  #clientEnded = false;
  #closed = false;
  #tunnel: Tunnel | undefined = undefined;
  // timers (checked by the engine's sweep)
  deadline = 0;
  #lastRead = 0;
  #sendSince = 0;
  #lastQueued = 0;

  /**
   * `source`: a TLS socket (read with data events), or the raw handle of a plain
   * TCP connection, wrapped here in the one Socket it gets (reads land in our
   * buffer through `onread`).
   */
  constructor(source: net.Socket | { handle: unknown }, options: ClientConnectionOptions) {
    this.#options = options;
    this.engine = options.engine;
    this.listener = options.listener;
    if (source instanceof net.Socket) {
      this.#readBuf = undefined;
      this.socket = source;
      source.on('data', onTlsData);
    } else {
      const buf = options.buffers.take();
      this.#readBuf = buf;
      this.socket = new net.Socket({
        handle: source.handle,
        allowHalfOpen: true,
        onread: { buffer: buf, callback: onPlainRead },
      } as net.SocketConstructorOpts);
    }
    this.peer = this.socket.remoteAddress ?? '';
    this.peerPort = this.socket.remotePort ?? 0;
    const s = this.socket as Tagged;
    s[kConn] = this;
    s.setNoDelay(true);
    s.on('end', onEnd);
    s.on('close', onClose);
    s.on('error', onError);
    s.on('drain', onDrain);
    this.exchange = new Exchange(this.engine, this.listener, this);
    this.deadline = this.engine.now + this.listener.config.timeouts.clientHeaderMs;
    this.#lastRead = this.engine.now;
  }

  get queuedBytes(): number {
    return queuedOn(this.socket) + (this.#spill?.pending ?? 0);
  }

  get closed(): boolean {
    return this.#closed;
  }

  // --- reading -------------------------------------------------------------------

  /** Bytes from the client; returns false to stop reading. */
  onData(input: Buffer, start: number, end: number): boolean {
    this.#lastRead = this.engine.now;
    if (this.#tunnel !== undefined) return this.#tunnel.fromClient(input, start, end, this.engine.now);
    let buf = input;
    let pos = start;
    if (this.#pending !== undefined) {
      buf = Buffer.concat([this.#pending, input.subarray(start, end)]);
      this.#pending = undefined;
      pos = 0;
      end = buf.length;
    }
    this.#processing = true;
    let keepReading = true;
    try {
      while (pos < end) {
        const state = this.state;
        if (state === S_BODY) {
          pos = this.#readBody(buf, pos, end);
          if (pos < 0) return false;
          if (this.#bodyBlocked) {
            keepReading = false; // the upstream is full: wait for resumeRequestBody()
            break;
          }
          continue;
        }
        if (state === S_WAIT || state === S_TUNNEL) {
          keepReading = false; // a pipelined request waits for the response before it
          break;
        }
        if (state === S_CLOSING) return false;
        const head = parseRequestHead(buf, pos, end, this.#options.limits);
        if (head === undefined) {
          const failure = headIncomplete(buf, pos, end, this.#options.limits);
          if (failure !== undefined) {
            this.#reject(failure);
            return false;
          }
          if (this.state === S_IDLE) {
            this.state = S_HEAD;
            this.deadline = this.engine.now + this.listener.config.timeouts.clientHeaderMs;
          }
          break;
        }
        if (isParseFailure(head)) {
          this.#reject(head);
          return false;
        }
        pos += head.headLength;
        this.#startRequest(head);
      }
      if (pos < end) this.#pending = Buffer.from(buf.subarray(pos, end));
      if (this.state === S_CLOSING || this.#closed) return false;
      if (!keepReading) this.#readPaused = true;
      return keepReading;
    } finally {
      this.#processing = false;
    }
  }

  #startRequest(head: Parameters<Exchange['begin']>[0]): void {
    this.#versionMinor = head.versionMinor;
    const ex = this.exchange;
    if (head.chunked) {
      this.#reqMode = REQ_CHUNKED;
      this.#decoder ??= new ChunkedDecoder(4096, this.#options.limits.maxHeaderBytes);
      this.#decoder.reset();
      this.state = S_BODY;
    } else if (head.contentLength > 0) {
      this.#reqMode = REQ_LENGTH;
      this.#reqRemaining = head.contentLength;
      this.state = S_BODY;
    } else {
      this.#reqMode = REQ_NONE;
      this.state = S_WAIT;
    }
    this.deadline = 0;
    this.#responseEnded = false;
    this.#bodyBlocked = false;
    ex.requestDone = this.#reqMode === REQ_NONE;
    ex.protocol = head.versionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
    ex.begin(head, this.peer, this.peerPort);
  }

  /** Feeds body bytes to the exchange; returns the new position, or -1 when the connection is gone. */
  #readBody(buf: Buffer, pos: number, end: number): number {
    const ex = this.exchange;
    if (this.#reqMode === REQ_LENGTH) {
      const n = Math.min(this.#reqRemaining, end - pos);
      this.#reqRemaining -= n;
      const more = ex.requestBody(buf, pos, pos + n);
      pos += n;
      if (this.#reqRemaining === 0) this.#bodyDone();
      else if (!more) this.#bodyBlocked = true;
      return this.#closed || this.state === S_CLOSING ? -1 : pos;
    }
    const d = this.#decoder!;
    while (pos < end) {
      const r = d.decode(buf, pos, end);
      pos = d.pos;
      if (r === CHUNK_DATA) {
        const more = ex.requestBody(buf, d.dataStart, d.dataEnd);
        if (this.#closed || this.state === S_CLOSING) return -1;
        if (!more) {
          this.#bodyBlocked = true;
          return pos;
        }
      } else if (r === CHUNK_DONE) {
        this.#bodyDone();
        return pos;
      } else if (r === CHUNK_ERROR) {
        this.listener.stats.badRequests++;
        if (!ex.responseStarted && !ex.finished) {
          ex.closeAfter = true;
          ex.clientGone();
          this.#writeRawAndClose(400);
        } else this.abort();
        return -1;
      }
    }
    return pos;
  }

  #bodyDone(): void {
    this.state = S_WAIT;
    this.exchange.requestBodyEnd();
    if (this.exchange.finished && this.#responseEnded) this.#afterResponse();
  }

  #reject(failure: ParseFailure): void {
    this.listener.stats.badRequests++;
    this.#writeRawAndClose(failure.status);
  }

  #writeRawAndClose(status: number): void {
    this.state = S_CLOSING;
    this.#pending = undefined;
    if (this.socket.destroyed) return;
    this.socket.end(rawErrorResponse(status, true));
  }

  #pauseReading(): void {
    if (this.#readPaused) return;
    this.#readPaused = true;
    this.socket.pause();
  }

  /** Reads on: first what is pending (pipelined requests), then the socket. */
  #continueReading(): void {
    if (this.#closed || this.state === S_CLOSING) return;
    const p = this.#pending;
    if (p !== undefined) {
      this.#pending = undefined;
      if (!this.onData(p, 0, p.length)) return;
    }
    if (this.#readPaused) {
      this.#readPaused = false;
      this.socket.resume();
    }
  }

  resumeRequestBody(): void {
    if (!this.#bodyBlocked) return;
    this.#bodyBlocked = false;
    if (this.state === S_BODY && !this.#processing) this.#continueReading();
  }

  // --- writing (Downstream) -----------------------------------------------------

  sendContinue(): void {
    if (this.#versionMinor === 1) this.socket.write(CONTINUE);
  }

  sendHead(h: OutgoingHead): void {
    const ex = this.exchange;
    const cfg = this.listener.config;
    let framing: number;
    this.#outBody = h.hasBody;
    if (h.upgrade !== '') framing = FRAME_NONE;
    else if (!h.hasBody) framing = h.contentLength >= 0 ? FRAME_LENGTH : FRAME_NONE;
    else if (h.contentLength >= 0) framing = FRAME_LENGTH;
    else if (this.#versionMinor === 1) framing = FRAME_CHUNKED;
    else {
      framing = FRAME_CLOSE;
      ex.closeAfter = true;
    }
    if (this.#requests + 1 >= cfg.keepalive.maxRequests || this.engine.draining || this.#clientEnded)
      ex.closeAfter = true;
    if (this.state === S_BODY && !h.upgrade) ex.closeAfter = true; // answered before the body was read
    this.#outFraming = framing;
    const route = ex.route;
    const proxied = h.proxied && route !== undefined;
    this.#headOut = buildClientResponseHead({
      status: h.status,
      reason: h.reason,
      headers: h.headers,
      connectionTokens: h.connectionTokens,
      rules: proxied
        ? { set: route.responseSet, add: route.responseAdd, remove: route.config.responseHeaders.remove }
        : NO_RULES,
      vars: ex.vars,
      via: proxied && cfg.via,
      framing,
      contentLength: h.contentLength,
      close: ex.closeAfter,
      keepAlive10: this.#versionMinor === 0 && !ex.closeAfter,
      upgrade: h.upgrade,
    });
    this.#sendSince = this.engine.now;
  }

  sendBody(buf: Buffer, start: number, end: number, pooled: boolean): void {
    if (this.#closed || end <= start || !this.#outBody) return;
    const head = this.#headOut;
    if (this.#outFraming === FRAME_CHUNKED) {
      const size = (end - start).toString(16);
      const headLen = head === undefined ? 0 : head.length;
      const out = Buffer.allocUnsafe(headLen + size.length + 2 + (end - start) + 2);
      let o = 0;
      if (head !== undefined) o += latin1Write(out, head, 0);
      o += latin1Write(out, size, o);
      out[o++] = 13;
      out[o++] = 10;
      o += buf.copy(out, o, start, end);
      out[o++] = 13;
      out[o++] = 10;
      this.#headOut = undefined;
      this.#write(out, 0, o, false);
      return;
    }
    if (head !== undefined) {
      this.#headOut = undefined;
      const n = end - start;
      if (n <= 16 * 1024) {
        // Head and first body bytes in one write (one system call, no pooled buffer kept).
        const out = Buffer.allocUnsafe(head.length + n);
        const o = latin1Write(out, head, 0);
        buf.copy(out, o, start, end);
        this.#write(out, 0, out.length, false);
        return;
      }
      this.#writeString(head);
    }
    this.#write(buf, start, end, pooled);
  }

  flush(): void {
    const head = this.#headOut;
    if (head !== undefined) {
      this.#headOut = undefined;
      this.#writeString(head);
    }
  }

  sendEnd(): void {
    if (this.#closed) {
      this.exchange.finish();
      return;
    }
    this.flush();
    if (this.#outFraming === FRAME_CHUNKED && this.#outBody)
      this.#write(LAST_CHUNK, 0, LAST_CHUNK.length, false);
    this.#responseEnded = true;
    if (this.#spill !== undefined && this.#spill.pending > 0) return; // drained by onDrain
    this.#responseComplete();
  }

  abort(): void {
    this.exchange.closeAfter = true;
    this.#destroy();
  }

  #writeString(s: string): void {
    if (this.#spill !== undefined && this.#spill.pending > 0) {
      const b = Buffer.from(s, 'latin1');
      this.#spillAppend(this.#spill, b, 0, b.length);
      return;
    }
    this.socket.write(s, 'latin1');
  }

  #write(data: Buffer, start: number, end: number, pooled: boolean): void {
    const socket = this.socket;
    const n = end - start;
    const spill = this.#spill;
    const cfg = this.listener.config;
    if (spill !== undefined && spill.pending > 0) {
      // Order matters: once bytes wait in the file, everything after them goes there too.
      this.#spillAppend(spill, data, start, end);
      return;
    }
    const buffering = this.exchange.route?.config.buffering ?? true;
    const queued = queuedOn(socket);
    if (buffering && queued + n > cfg.bufferSize) {
      const spilled = spill?.size ?? 0;
      if (spilled + n <= cfg.maxTempFileSize) {
        try {
          let file = spill;
          if (file === undefined) {
            file = new SpillFile();
            this.#spill = file;
            this.listener.stats.spilledResponses++;
          }
          this.#spillAppend(file, data, start, end);
          return;
        } catch (err) {
          this.engine.reportError(err, 'response temp file');
        }
      }
    }
    if (!pooled) fastWrite(socket, start === 0 && end === data.length ? data : data.subarray(start, end));
    else if (queued > 0) socket.write(Buffer.from(data.subarray(start, end)));
    else if (!fastWrite(socket, data.subarray(start, end))) {
      // The kernel did not take it all: the pending write points into the upstream's read buffer.
      this.exchange.upstream?.lendReadBuffer();
    }
    if (queuedOn(socket) > (buffering ? cfg.bufferSize : STREAM_HIGH_WATER) && !this.#upstreamPaused) {
      this.#upstreamPaused = true;
      this.exchange.pauseUpstream();
    }
  }

  #spillAppend(spill: SpillFile, data: Uint8Array, start: number, end: number): void {
    spill.append(data, start, end);
    this.listener.stats.spilledBytes += end - start;
    // Past max_temp_file_size the upstream waits until the client has taken the file (drained()).
    if (spill.size >= this.listener.config.maxTempFileSize) this.#spillLimitReached();
  }

  #spillLimitReached(): void {
    if (this.#upstreamPaused) return;
    this.#upstreamPaused = true;
    this.listener.stats.spillLimitReached++;
    this.exchange.pauseUpstream();
  }

  /** The socket took what was queued: feed it spilled data, or let the upstream go on. */
  drained(): void {
    const spill = this.#spill;
    if (spill !== undefined) {
      while (spill.pending > 0 && queuedOn(this.socket) < SPILL_CHUNK) {
        const chunk = spill.next(SPILL_CHUNK);
        if (chunk === undefined) break;
        this.socket.write(chunk);
      }
      if (spill.pending > 0) return;
      if (this.#responseEnded) {
        this.#responseComplete();
        return;
      }
    }
    if (this.#upstreamPaused) {
      this.#upstreamPaused = false;
      this.exchange.resumeUpstream();
    }
  }

  #responseComplete(): void {
    if (this.#spill !== undefined) {
      this.#spill.close();
      this.#spill = undefined;
    }
    this.#upstreamPaused = false;
    const ex = this.exchange;
    ex.finish();
    if (this.state === S_BODY) {
      if (ex.closeAfter) this.#endAfterResponse();
      return; // the rest of the body is read (and dropped) first
    }
    this.#afterResponse();
  }

  #afterResponse(): void {
    const ex = this.exchange;
    if (this.state === S_TUNNEL) return;
    if (ex.closeAfter || this.#clientEnded) {
      this.#endAfterResponse();
      return;
    }
    this.#requests++;
    ex.reset();
    this.state = S_IDLE;
    this.deadline = this.engine.now + this.listener.config.keepalive.idleTimeoutMs;
    if (!this.#processing) this.#continueReading();
  }

  #endAfterResponse(): void {
    this.state = S_CLOSING;
    this.#pending = undefined;
    this.deadline = 0;
    if (!this.socket.destroyed) this.socket.end();
  }

  // --- tunnels (WebSocket) -------------------------------------------------------

  startTunnel(
    upstream: UpstreamConnection,
    rest: Buffer | undefined,
    onClose: () => void,
  ): Tunnel | undefined {
    if (this.#closed) return undefined;
    this.flush();
    this.state = S_TUNNEL;
    this.deadline = 0;
    const tunnel = new Tunnel(this.socket, upstream, this.engine.now, {
      onClose,
      pauseClient: () => this.#pauseReading(),
      resumeClient: () => {
        if (this.#readPaused) {
          this.#readPaused = false;
          this.socket.resume();
        }
      },
    });
    this.#tunnel = tunnel;
    if (rest !== undefined) tunnel.fromUpstream(rest, 0, rest.length);
    const p = this.#pending;
    this.#pending = undefined;
    if (p !== undefined) tunnel.fromClient(p, 0, p.length, this.engine.now);
    if (this.#readPaused) {
      this.#readPaused = false;
      this.socket.resume();
    }
    return tunnel;
  }

  // --- socket events -----------------------------------------------------------------

  ended(): void {
    this.#clientEnded = true;
    if (this.#tunnel !== undefined) {
      this.#tunnel.clientEnded();
      return;
    }
    if (this.state === S_IDLE || this.state === S_HEAD || this.state === S_CLOSING) {
      this.#endAfterResponse();
      return;
    }
    if (this.state === S_BODY) {
      // The body was cut short.
      this.exchange.clientGone();
      this.#destroy();
    }
    // S_WAIT: the response goes out, then the connection ends.
  }

  closed_(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.state = S_CLOSING;
    this.#tunnel?.close();
    const ex = this.exchange;
    if (
      !ex.finished &&
      this.#tunnel === undefined &&
      (ex.responseStarted || ex.pool !== undefined || ex.route !== undefined)
    ) {
      ex.clientGone();
    }
    if (this.#spill !== undefined) {
      this.#spill.close();
      this.#spill = undefined;
    }
    // Request bytes are copied before they go anywhere: nothing still points into the read buffer.
    if (this.#readBuf !== undefined) this.#options.buffers.give(this.#readBuf);
    this.#options.onClosed(this);
  }

  #destroy(): void {
    this.state = S_CLOSING;
    this.socket.destroy();
  }

  /** Timer work: header/idle/body/send timeouts and idle tunnels. */
  sweep(now: number): void {
    if (this.#closed) return;
    const t = this.listener.config.timeouts;
    switch (this.state) {
      case S_IDLE:
        if (this.deadline !== 0 && now >= this.deadline) {
          if (this.#requests === 0) this.#timeoutHead();
          else this.#destroy();
        }
        return;
      case S_HEAD:
        if (now >= this.deadline) this.#timeoutHead();
        return;
      case S_BODY:
        if (now - this.#lastRead >= t.clientBodyMs) {
          this.listener.stats.badRequests++;
          const ex = this.exchange;
          if (!ex.responseStarted && !ex.finished) {
            ex.closeAfter = true;
            ex.clientGone();
            ex.status = 408;
            this.#writeRawAndClose(408);
          } else this.abort();
          return;
        }
        break;
      case S_TUNNEL:
        if (this.#tunnel !== undefined && now - this.#tunnel.lastActivity >= t.tunnelMs) this.#tunnel.close();
        return;
    }
    // A drain that no 'drain' event announced (fast writes finishing after the stream's own) is caught here.
    if ((this.#upstreamPaused || (this.#spill?.pending ?? 0) > 0) && queuedOn(this.socket) < SPILL_CHUNK)
      this.drained();
    const queued = this.queuedBytes;
    if (queued === 0 || queued < this.#lastQueued) this.#sendSince = now;
    this.#lastQueued = queued;
    if (queued > 0 && now - this.#sendSince >= t.sendMs) {
      this.exchange.clientGone();
      this.#destroy();
    }
  }

  #timeoutHead(): void {
    this.listener.stats.badRequests++;
    this.#writeRawAndClose(408);
    const s = this.socket;
    setTimeout(() => s.destroy(), 1000).unref();
  }
}

const NO_RULES = { set: [], add: [], remove: [] };

function conn(socket: net.Socket): ClientConnection {
  return (socket as Tagged)[kConn];
}

function onPlainRead(this: net.Socket, nread: number, buf: Buffer): boolean {
  return conn(this).onData(buf, 0, nread);
}

function onTlsData(this: net.Socket, chunk: Buffer): void {
  if (!conn(this).onData(chunk, 0, chunk.length)) this.pause();
}

function onEnd(this: net.Socket): void {
  conn(this).ended();
}

function onClose(this: net.Socket): void {
  conn(this).closed_();
}

function onError(this: net.Socket): void {
  // 'close' follows; nothing else to do (ECONNRESET from clients is ordinary).
}

function onDrain(this: net.Socket): void {
  conn(this).drained();
}
