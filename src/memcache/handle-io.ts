import type net from 'node:net';

/*
 * Socket I/O below net.Socket for the cache's hot path, where Node's own
 * per-read and per-write JavaScript costs about as much as the request itself.
 *
 * Writes go straight to the libuv handle, skipping the Writable machinery
 * (state checks, a write request object and a callback tick per write).
 * memcached answers most requests with one small write the kernel takes at
 * once; for those Node's C++ write path never touches the request object (it
 * tries the write first), so one object is reused until a write really has to
 * wait, and only then is it handed over and replaced.
 *
 * Reads: a socket created with `onread` (a user buffer) gets its data from
 * Node's onStreamRead, which looks up the stream, refreshes timers and calls
 * the callback; hookReads() puts a shorter function in its place for data and
 * leaves end-of-file and errors to Node's.
 */

interface WriteReq {
  handle: unknown;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Buffer | null;
  owner: WriteOwner | null;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
}

interface Binding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
  kReadBytesOrError: number;
}

/** Told when a write that had to wait has finished (status < 0: it failed). */
export interface WriteOwner {
  writeDone(status: number, bytes: number): void;
}

function loadBinding(): Binding | undefined {
  try {
    const b = (process as unknown as { binding(name: string): Binding }).binding('stream_wrap');
    if (
      typeof b.WriteWrap !== 'function' ||
      b.streamBaseState === undefined ||
      typeof b.kLastWriteWasAsync !== 'number' ||
      typeof b.kReadBytesOrError !== 'number'
    )
      return undefined;
    return b;
  } catch {
    return undefined;
  }
}

const binding = process.env.HASTACK_NO_FAST_WRITE === undefined ? loadBinding() : undefined;

function onComplete(this: WriteReq, status: number): void {
  const owner = this.owner;
  this.owner = null;
  this.buffer = null;
  owner?.writeDone(status, this.bytes);
}

function newReq(): WriteReq {
  const req = new binding!.WriteWrap();
  req.handle = null;
  req.oncomplete = onComplete;
  req.async = false;
  req.bytes = 0;
  req.buffer = null;
  req.owner = null;
  return req;
}

/** Not yet used for a write that waited: reusable. */
let spare: WriteReq | undefined = binding === undefined ? undefined : newReq();

/** The kernel took everything. */
export const WRITE_DONE = 0;
/** Queued in libuv: `data` must not change until owner.writeDone() is called. */
export const WRITE_PENDING = 1;
/** The direct path cannot be used now (no handle, Writable data queued, ended): use socket.write. */
export const WRITE_UNAVAILABLE = 2;
/** The write failed at once (the socket should be destroyed). */
export const WRITE_FAILED = 3;

/** Writes `data` to the socket's handle: one of the WRITE_* results. */
export function writeToHandle(socket: net.Socket, data: Buffer, owner: WriteOwner): number {
  const handle = (socket as net.Socket & { _handle?: StreamHandle | null })._handle;
  if (
    spare === undefined ||
    handle === null ||
    handle === undefined ||
    socket.writableLength !== 0 ||
    socket.destroyed ||
    socket.writableEnded
  )
    return WRITE_UNAVAILABLE;
  const req = spare;
  const err = handle.writeBuffer(req, data);
  if (err !== 0) {
    // The request object may have been bound to a failed write: do not reuse it.
    spare = newReq();
    return WRITE_FAILED;
  }
  if (binding!.streamBaseState[binding!.kLastWriteWasAsync] === 0) return WRITE_DONE;
  req.handle = handle;
  req.async = true;
  req.bytes = data.length;
  req.buffer = data;
  req.owner = owner;
  spare = newReq();
  return WRITE_PENDING;
}

interface ReadHandle {
  onread: ((this: ReadHandle, arrayBuffer: unknown) => unknown) | undefined;
  reading: boolean;
  readStop(): number;
  [kReader]?: Reader;
}

const kReader = Symbol('hastack.memcache.reader');

interface Reader {
  socket: net.Socket;
  /** Node's onStreamRead: end-of-file and errors go there. */
  node: (this: ReadHandle, arrayBuffer: unknown) => unknown;
  /** Bytes landed in the socket's `onread` buffer; false stops reading (as an onread callback). */
  onData: (socket: net.Socket, nread: number) => boolean;
}

function onHandleRead(this: ReadHandle, arrayBuffer: unknown): unknown {
  const reader = this[kReader]!;
  const nread = binding!.streamBaseState[binding!.kReadBytesOrError]!;
  const socket = reader.socket;
  if (nread <= 0 || socket.destroyed) return reader.node.call(this, arrayBuffer);
  // Node refreshes the idle timer on every read (socket.setTimeout); so do we.
  if (socket.timeout !== undefined && socket.timeout > 0)
    (socket as net.Socket & { _unrefTimer(): void })._unrefTimer();
  if (!reader.onData(socket, nread)) {
    // What Node does when an onread callback returns false.
    this.reading = false;
    if (this.readStop() !== 0) socket.destroy();
  }
  return undefined;
}

/**
 * Routes the data reads of a socket created with `onread: { buffer, callback }`
 * to `onData(socket, nread)` (the bytes are at the start of that buffer), without
 * Node's onStreamRead in between. Returns false (and changes nothing) when the
 * internals it relies on are not there; the `onread` callback then keeps working.
 */
export function hookReads(
  socket: net.Socket,
  onData: (socket: net.Socket, nread: number) => boolean,
): boolean {
  const handle = (socket as net.Socket & { _handle?: ReadHandle | null })._handle;
  if (binding === undefined || handle === null || handle === undefined) return false;
  const node = handle.onread;
  if (typeof node !== 'function') return false;
  handle[kReader] = { socket, node, onData };
  handle.onread = onHandleRead;
  return handle.onread === onHandleRead;
}
