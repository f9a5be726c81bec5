import { BIN_HEADER, binaryCommand, completeBinaryStore, REQ_MAGIC } from './binary-commands.ts';
import { type CommandContext, VALUE_META, VALUE_TEXT } from './command-context.ts';
import { NIL } from './item-layout.ts';
import type { ItemStore } from './item-store.ts';
import { LineTokens } from './line-tokens.ts';
import { completeMetaSet } from './meta-commands.ts';
import { ReplyBuffer } from './reply-buffer.ts';
import type { ServerState } from './server-state.ts';
import { completeTextStore, DONE, textCommand } from './text-commands.ts';

const ST_COMMAND = 0;
const ST_VALUE = 1;
const ST_SWALLOW = 2;

const PROTO_UNKNOWN = 0;
const PROTO_TEXT = 1;
const PROTO_BINARY = 2;

/** Close states: none, after the queued replies are written, at once. */
export const OPEN = 0;
export const CLOSE_AFTER_WRITE = 1;
export const CLOSE_NOW = 2;

const STASH_SIZE = 4096;

/**
 * One connection's protocol state machine, with no socket: bytes in (feed),
 * replies out (`out`). Handles pipelined requests and frames split anywhere:
 * an incomplete line or binary header is carried to the next feed, a value is
 * copied straight into its item as it arrives (memcached's conn_nread), and the
 * data of a refused store is skipped (conn_swallow).
 *
 * A feed stops early when the replies queued reach the output limit or after
 * `reqsPerEvent` requests; the rest stays carried and `resume()` goes on later.
 */
export class ProtocolSession implements CommandContext {
  readonly store: ItemStore;
  readonly out: ReplyBuffer;
  readonly server: ServerState;
  readonly tokens = new LineTokens();
  readonly id: number;
  readonly stash = Buffer.allocUnsafe(STASH_SIZE);
  readonly stashTokens = new LineTokens();
  binOpcode = 0;
  binOpaque = 0;
  binQuiet = false;
  pendingCasLo = 0;
  pendingCasHi = 0;
  pendingStale = false;
  pendingExplicit = false;
  pendingExplicitLo = 0;
  pendingExplicitHi = 0;
  /** OPEN, CLOSE_AFTER_WRITE or CLOSE_NOW. */
  closing = OPEN;
  /** Server-relative second of the last request (for idle timeouts and `stats conns`). */
  lastCommandTime = 0;
  /** What the state machine is doing, in memcached's words (`stats conns`). */
  get stateName(): string {
    if (this.#state === ST_VALUE) return 'conn_nread';
    if (this.#state === ST_SWALLOW) return 'conn_swallow';
    return this.#inEnd > this.#inStart ? 'conn_parse_cmd' : 'conn_waiting';
  }

  #state = ST_COMMAND;
  #proto = PROTO_UNKNOWN;
  #valueRef = NIL;
  #valueDone = 0;
  #valueTotal = 0;
  #valueKind = VALUE_TEXT;
  #valueMode = 0;
  #valueNoreply = false;
  #swallowLeft = 0;
  /** Carried input (partial frame, or requests not yet run). */
  #in: Buffer | undefined;
  #inStart = 0;
  #inEnd = 0;
  /** Where a paused multi-get line continues. */
  #resume = -1;
  #budget = 0;

  constructor(store: ItemStore, server: ServerState, id: number, out = new ReplyBuffer()) {
    this.store = store;
    this.server = server;
    this.id = id;
    this.out = out;
  }

  /** Input carried over (waiting for more bytes, or for resume()). */
  get carried(): number {
    return this.#inEnd - this.#inStart;
  }

  /** Whether carried requests can run now (not just a partial frame waiting for bytes). */
  get runnable(): boolean {
    return this.#paused;
  }

  #paused = false;

  /**
   * Takes bytes src[start, end). Returns true when all complete requests ran
   * (any remainder is a partial frame); false when paused (call resume()).
   */
  feed(src: Buffer, start: number, end: number): boolean {
    if (this.closing !== OPEN) return true;
    this.store.refreshTime();
    this.#budget = this.server.settings.reqsPerEvent;
    if (this.#inEnd > this.#inStart) {
      this.#append(src, start, end);
      return this.#runCarried();
    }
    const pos = this.#run(src, start, end);
    if (pos < end && this.closing === OPEN) this.#append(src, pos, end);
    return !this.#paused;
  }

  /** Continues after a pause (the client took its replies, or other connections had their turn). */
  resume(): boolean {
    if (this.closing !== OPEN) return true;
    this.store.refreshTime();
    this.#budget = this.server.settings.reqsPerEvent;
    return this.#runCarried();
  }

  #runCarried(): boolean {
    const buf = this.#in!;
    const pos = this.#run(buf, this.#inStart, this.#inEnd);
    this.#inStart = pos;
    if (this.#inStart >= this.#inEnd || this.closing !== OPEN) {
      this.#inStart = 0;
      this.#inEnd = 0;
      if (this.#in !== undefined && this.#in.length > 64 * 1024) this.#in = undefined;
    }
    return !this.#paused;
  }

  #append(src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    let buf = this.#in;
    const carried = this.#inEnd - this.#inStart;
    if (buf === undefined || carried + n > buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(4096, (carried + n) * 2));
      if (buf !== undefined && carried > 0) buf.copy(grown, 0, this.#inStart, this.#inEnd);
      this.#in = buf = grown;
      this.#inStart = 0;
      this.#inEnd = carried;
    } else if (this.#inEnd + n > buf.length) {
      buf.copy(buf, 0, this.#inStart, this.#inEnd);
      this.#inStart = 0;
      this.#inEnd = carried;
    }
    src.copy(buf, this.#inEnd, start, end);
    this.#inEnd += n;
  }

  /** Runs requests in buf[pos, end); returns how far it got. */
  #run(buf: Buffer, pos: number, end: number): number {
    this.#paused = false;
    const settings = this.server.settings;
    const limit = settings.outputLimit;
    while (pos < end) {
      if (this.closing !== OPEN) return end;
      const state = this.#state;
      if (state === ST_VALUE) {
        const n = Math.min(this.#valueTotal - this.#valueDone, end - pos);
        const ref = this.#valueRef;
        buf.copy(this.store.page(ref), this.store.valueOffset(ref) + this.#valueDone, pos, pos + n);
        pos += n;
        this.#valueDone += n;
        if (this.#valueDone === this.#valueTotal) {
          this.#state = ST_COMMAND;
          this.#completeValue();
        }
        continue;
      }
      if (state === ST_SWALLOW) {
        const n = Math.min(this.#swallowLeft, end - pos);
        pos += n;
        this.#swallowLeft -= n;
        if (this.#swallowLeft === 0) this.#state = ST_COMMAND;
        continue;
      }
      if (this.#budget <= 0 || this.out.length >= limit) {
        if (this.#budget <= 0) this.server.connYields++;
        this.#paused = true;
        return pos;
      }
      if (this.#proto === PROTO_UNKNOWN) {
        const binary = buf[pos] === REQ_MAGIC;
        if (settings.bindingProtocol === 'binary' && !binary) {
          this.closeNow();
          return end;
        }
        this.#proto = binary && settings.bindingProtocol !== 'ascii' ? PROTO_BINARY : PROTO_TEXT;
      }
      if (this.#proto === PROTO_TEXT) {
        const nl = findNewline(buf, pos, end);
        if (nl < 0) {
          if (end - pos > settings.maxLine && !(isGetLine(buf, pos, end) && end - pos <= settings.maxGetLine))
            this.closeNow();
          return this.closing === OPEN ? pos : end;
        }
        const lineEnd = nl - pos > 1 && buf[nl - 1] === 13 ? nl - 1 : nl;
        this.lastCommandTime = this.store.currentTime;
        const r = textCommand(this, buf, pos, lineEnd, this.#resume);
        if (r !== DONE) {
          this.#resume = r;
          this.#paused = true;
          return pos;
        }
        this.#resume = -1;
        this.#budget--;
        pos = nl + 1;
        continue;
      }
      // Binary: the header, extras and key must be here; the value streams.
      if (end - pos < BIN_HEADER) return pos;
      if (buf[pos] !== REQ_MAGIC) {
        this.closeNow();
        return end;
      }
      const need = BIN_HEADER + buf[pos + 4]! + buf.readUInt16BE(pos + 2);
      if (buf.readUInt16BE(pos + 2) > 250) {
        // An oversized key: answered from the header alone, then the connection closes.
        this.lastCommandTime = this.store.currentTime;
        binaryCommand(this, buf, pos);
        return end;
      }
      if (end - pos < need) return pos;
      this.lastCommandTime = this.store.currentTime;
      binaryCommand(this, buf, pos);
      this.#budget--;
      pos += need;
    }
    return pos;
  }

  #completeValue(): void {
    const ref = this.#valueRef;
    this.#valueRef = NIL;
    this.#budget--;
    if (this.#valueKind === VALUE_TEXT) completeTextStore(this, ref, this.#valueMode, this.#valueNoreply);
    else if (this.#valueKind === VALUE_META) completeMetaSet(this, ref, this.#valueMode, this.#valueNoreply);
    else completeBinaryStore(this, ref, this.#valueMode);
  }

  // --- CommandContext ------------------------------------------------------

  readValue(ref: number, length: number, kind: number, mode: number, noreply: boolean): void {
    this.#valueRef = ref;
    this.#valueDone = 0;
    this.#valueTotal = length;
    this.#valueKind = kind;
    this.#valueMode = mode;
    this.#valueNoreply = noreply;
    if (length === 0) this.#completeValue();
    else this.#state = ST_VALUE;
  }

  swallow(bytes: number): void {
    if (bytes <= 0) return;
    this.#swallowLeft = bytes;
    this.#state = ST_SWALLOW;
  }

  closeAfterWrite(): void {
    if (this.closing === OPEN) this.closing = CLOSE_AFTER_WRITE;
  }

  closeNow(): void {
    this.closing = CLOSE_NOW;
  }

  stashLine(buf: Uint8Array, start: number, end: number): void {
    const n = Math.min(end - start, STASH_SIZE - 256);
    this.stash.set(buf.subarray(start, start + n), 0);
    this.stashTokens.tokenize(this.stash, 0, n);
  }

  /** Releases an item still being filled (the connection closed mid-value). */
  close(): void {
    if (this.#valueRef !== NIL) {
      this.store.release(this.#valueRef);
      this.#valueRef = NIL;
    }
    this.#state = ST_COMMAND;
    this.#in = undefined;
    this.#inStart = 0;
    this.#inEnd = 0;
    if (this.closing === OPEN) this.closing = CLOSE_NOW;
  }
}

/** Index of the first LF in [pos, end), or -1. */
function findNewline(buf: Buffer, pos: number, end: number): number {
  const quick = Math.min(end, pos + 256);
  for (let i = pos; i < quick; i++) if (buf[i] === 10) return i;
  if (quick === end) return -1;
  const i = buf.indexOf(10, quick);
  return i < 0 || i >= end ? -1 : i;
}

/** memcached lets only `get `/`gets ` lines grow past the line limit (large multi-gets). */
function isGetLine(buf: Buffer, pos: number, end: number): boolean {
  let p = pos;
  while (p < end && buf[p] === 32 && p - pos <= 100) p++;
  if (p - pos > 100) return false;
  const g = buf[p] === 103 && buf[p + 1] === 101 && buf[p + 2] === 116;
  return g && (buf[p + 3] === 32 || (buf[p + 3] === 115 && buf[p + 4] === 32));
}
