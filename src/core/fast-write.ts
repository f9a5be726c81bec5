import type net from 'node:net';

/*
 * Writes that skip Node's Writable machinery when nothing is queued on the
 * socket: straight to the libuv handle, as net.Socket itself does underneath.
 * On a busy proxy two writes per request go through here, and the stream layer
 * (state checks, callbacks, nextTick) costs more than the system call's own user
 * time. Falls back to socket.write() whenever the socket has queued data, is not
 * connected, or the internal binding is not available.
 */

interface WriteReq {
  handle: unknown;
  done: (() => void) | null;
  oncomplete: (status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Buffer | null;
  socket: net.Socket | null;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
  writeLatin1String(req: WriteReq, data: string): number;
}

interface Binding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

function loadBinding(): Binding | undefined {
  try {
    const b = (process as unknown as { binding(name: string): Binding }).binding('stream_wrap');
    if (typeof b.WriteWrap !== 'function' || b.streamBaseState === undefined) return undefined;
    return b;
  } catch {
    return undefined;
  }
}

const binding =
  process.env.HASTACK_NO_FAST_WRITE === undefined && process.env.HASTACK_HTTP_NO_FAST_WRITE === undefined
    ? loadBinding()
    : undefined;

/** Whether writes really skip the stream layer (false when the binding is missing or turned off). */
export const fastWriteAvailable = binding !== undefined;

const kPending = Symbol('hastack.http.fastPending');
type Tracked = net.Socket & { [kPending]?: number; _handle?: StreamHandle | null };

function onComplete(this: WriteReq, status: number): void {
  const socket = this.socket as Tracked | null;
  if (socket === null) return;
  socket[kPending] = (socket[kPending] ?? 0) - this.bytes;
  const done = this.done;
  this.buffer = null;
  this.socket = null;
  this.done = null;
  done?.();
  if (status < 0 && !socket.destroyed) socket.destroy();
  else if ((socket[kPending] ?? 0) === 0 && socket.writableLength === 0) socket.emit('drain');
}

/** Bytes handed to the handle by fastWrite that the kernel has not taken yet. */
export function fastPending(socket: net.Socket): number {
  return (socket as Tracked)[kPending] ?? 0;
}

/**
 * Writes `data` (a Buffer that must not change until written, or a latin1
 * string). Returns true when the kernel took everything at once, false when some
 * of it waits (a Buffer is then still referenced). `done`, when given, is called
 * once a write that waited has completed (and may be called after a write that
 * did not wait: callers check their own state).
 */
export function fastWrite(socket: net.Socket, data: Buffer | string, done?: () => void): boolean {
  const s = socket as Tracked;
  const handle = s._handle;
  if (
    binding === undefined ||
    handle === null ||
    handle === undefined ||
    s.writableLength !== 0 ||
    s.destroyed ||
    s.connecting ||
    s.writableEnded
  ) {
    if (typeof data === 'string') s.write(data, 'latin1', done);
    else s.write(data, done);
    return s.writableLength === 0;
  }
  const req = new binding.WriteWrap();
  req.handle = handle;
  req.done = null;
  req.oncomplete = onComplete;
  req.async = false;
  req.bytes = 0;
  req.buffer = null;
  req.socket = null;
  const err = typeof data === 'string' ? handle.writeLatin1String(req, data) : handle.writeBuffer(req, data);
  if (err !== 0) {
    s.destroy();
    return true;
  }
  if (binding.streamBaseState[binding.kLastWriteWasAsync] === 0) return true;
  req.async = true;
  req.bytes = data.length;
  if (typeof data !== 'string') req.buffer = data;
  req.socket = s;
  req.done = done ?? null;
  s[kPending] = (s[kPending] ?? 0) + data.length;
  return false;
}

/** What waits to go out on the socket: its Writable queue and fast writes in flight. */
export function queuedOn(socket: net.Socket): number {
  return socket.writableLength + ((socket as Tracked)[kPending] ?? 0);
}
