import type net from 'node:net';
import type { UpstreamConnection } from './upstream-connection.ts';

/** Pause a side once this much waits to be written to the other. */
const HIGH_WATER = 64 * 1024;

/**
 * A WebSocket (or any Upgrade) connection after the 101: bytes relayed both
 * ways with backpressure and half-close, closed when idle for the tunnel
 * timeout (HAProxy's `timeout tunnel`).
 */
export class Tunnel {
  readonly client: net.Socket;
  readonly upstream: UpstreamConnection;
  lastActivity: number;
  closed = false;
  readonly #onClose: () => void;
  readonly #pauseClient: () => void;
  readonly #resumeClient: () => void;

  constructor(
    client: net.Socket,
    upstream: UpstreamConnection,
    now: number,
    hooks: { onClose: () => void; pauseClient: () => void; resumeClient: () => void },
  ) {
    this.client = client;
    this.upstream = upstream;
    this.lastActivity = now;
    this.#onClose = hooks.onClose;
    this.#pauseClient = hooks.pauseClient;
    this.#resumeClient = hooks.resumeClient;
    upstream.tunnelSink = (buf, start, end) => this.fromUpstream(buf, start, end);
    upstream.tunnelDrain = () => this.#resumeClient();
    upstream.tunnelEnd = () => {
      if (!client.destroyed) client.end();
    };
    upstream.tunnelClosed = () => this.close();
    client.on('drain', () => {
      if (!this.closed) upstream.resume();
    });
  }

  /** Bytes from the client; false = pause the client until the upstream drains. */
  fromClient(buf: Buffer, start: number, end: number, now: number): boolean {
    if (this.closed) return false;
    this.lastActivity = now;
    const s = this.upstream.socket;
    s.write(Buffer.from(buf.subarray(start, end)));
    if (s.writableLength <= HIGH_WATER) return true;
    this.#pauseClient();
    return false;
  }

  fromUpstream(buf: Buffer, start: number, end: number): boolean {
    if (this.closed) return false;
    this.client.write(Buffer.from(buf.subarray(start, end)));
    if (this.client.writableLength <= HIGH_WATER) return true;
    this.upstream.pause();
    return false;
  }

  clientEnded(): void {
    if (!this.closed) this.upstream.socket.end();
  }

  touch(now: number): void {
    this.lastActivity = now;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.upstream.destroy();
    this.upstream.socket.destroy();
    if (!this.client.destroyed) this.client.destroy();
    this.#onClose();
  }
}
