import { type CommandContext, VALUE_BINARY } from './command-context.ts';
import { KEY_MAX_LENGTH, NIL } from './item-layout.ts';
import {
  ALLOC_NO_MEMORY,
  DELTA_CAS_MISMATCH,
  DELTA_EOM,
  DELTA_NON_NUMERIC,
  DELTA_NOT_FOUND,
  DELTA_OK,
  EXISTS,
  MODE_ADD,
  MODE_APPEND,
  MODE_CAS,
  MODE_PREPEND,
  MODE_REPLACE,
  MODE_SET,
  NOT_FOUND,
  STORED,
} from './item-store.ts';
import {
  generalStats,
  itemsStats,
  type StatSink,
  settingsStats,
  sizesStats,
  slabsStats,
} from './stats-report.ts';

/*
 * memcached's binary protocol (proto_bin.c; deprecated upstream but still what
 * memjs speaks): 24-byte headers, quiet variants that stay silent on success
 * (and GETQ on a miss), errors always answered.
 */

export const BIN_HEADER = 24;
export const REQ_MAGIC = 0x80;
const RES_MAGIC = 0x81;

export const OP_GET = 0x00;
export const OP_SET = 0x01;
export const OP_ADD = 0x02;
export const OP_REPLACE = 0x03;
export const OP_DELETE = 0x04;
export const OP_INCREMENT = 0x05;
export const OP_DECREMENT = 0x06;
export const OP_QUIT = 0x07;
export const OP_FLUSH = 0x08;
export const OP_GETQ = 0x09;
export const OP_NOOP = 0x0a;
export const OP_VERSION = 0x0b;
export const OP_GETK = 0x0c;
export const OP_GETKQ = 0x0d;
export const OP_APPEND = 0x0e;
export const OP_PREPEND = 0x0f;
export const OP_STAT = 0x10;
export const OP_SETQ = 0x11;
export const OP_ADDQ = 0x12;
export const OP_REPLACEQ = 0x13;
export const OP_DELETEQ = 0x14;
export const OP_INCREMENTQ = 0x15;
export const OP_DECREMENTQ = 0x16;
export const OP_QUITQ = 0x17;
export const OP_FLUSHQ = 0x18;
export const OP_APPENDQ = 0x19;
export const OP_PREPENDQ = 0x1a;
export const OP_TOUCH = 0x1c;
export const OP_GAT = 0x1d;
export const OP_GATQ = 0x1e;
export const OP_GATK = 0x23;
export const OP_GATKQ = 0x24;

export const ST_OK = 0x00;
export const ST_KEY_ENOENT = 0x01;
export const ST_KEY_EEXISTS = 0x02;
export const ST_E2BIG = 0x03;
export const ST_EINVAL = 0x04;
export const ST_NOT_STORED = 0x05;
export const ST_DELTA_BADVAL = 0x06;
export const ST_UNKNOWN_COMMAND = 0x81;
export const ST_ENOMEM = 0x82;

const ERROR_TEXT: Record<number, string> = {
  [ST_KEY_ENOENT]: 'Not found',
  [ST_KEY_EEXISTS]: 'Data exists for key.',
  [ST_E2BIG]: 'Too large.',
  [ST_EINVAL]: 'Invalid arguments',
  [ST_NOT_STORED]: 'Not stored.',
  [ST_DELTA_BADVAL]: 'Non-numeric server-side value for incr or decr',
  [ST_UNKNOWN_COMMAND]: 'Unknown command',
  [ST_ENOMEM]: 'Out of memory',
};

/** The quiet opcode's loud twin (memcached rewrites c->cmd the same way). */
function loudOpcode(op: number): number {
  switch (op) {
    case OP_SETQ:
      return OP_SET;
    case OP_ADDQ:
      return OP_ADD;
    case OP_REPLACEQ:
      return OP_REPLACE;
    case OP_DELETEQ:
      return OP_DELETE;
    case OP_INCREMENTQ:
      return OP_INCREMENT;
    case OP_DECREMENTQ:
      return OP_DECREMENT;
    case OP_QUITQ:
      return OP_QUIT;
    case OP_FLUSHQ:
      return OP_FLUSH;
    case OP_APPENDQ:
      return OP_APPEND;
    case OP_PREPENDQ:
      return OP_PREPEND;
    case OP_GETQ:
      return OP_GET;
    case OP_GETKQ:
      return OP_GETK;
    case OP_GATQ:
      return OP_GAT;
    case OP_GATKQ:
      return OP_GATK;
    default:
      return -1;
  }
}

/** Response header; `opcode` is the request's own (quiet opcodes are echoed as sent). */
export function writeHeader(
  ctx: CommandContext,
  status: number,
  extLen: number,
  keyLen: number,
  bodyLen: number,
  casLo: number,
  casHi: number,
): void {
  const out = ctx.out;
  out.ensure(BIN_HEADER);
  const b = out.buf;
  const p = out.pos;
  b[p] = RES_MAGIC;
  b[p + 1] = ctx.binOpcode;
  b.writeUInt16BE(keyLen, p + 2);
  b[p + 4] = extLen;
  b[p + 5] = 0;
  b.writeUInt16BE(status, p + 6);
  b.writeUInt32BE(bodyLen >>> 0, p + 8);
  b.writeInt32BE(ctx.binOpaque | 0, p + 12);
  b.writeUInt32BE(casHi >>> 0, p + 16);
  b.writeUInt32BE(casLo >>> 0, p + 20);
  out.pos = p + BIN_HEADER;
}

export function writeError(ctx: CommandContext, status: number): void {
  const text = ERROR_TEXT[status] ?? 'UNHANDLED ERROR';
  writeHeader(ctx, status, 0, 0, text.length, 0, 0);
  ctx.out.ascii(text);
}

/** A success reply without extras/key/value, unless the request was quiet. */
function writeOk(ctx: CommandContext, casLo = 0, casHi = 0): void {
  if (!ctx.binQuiet) writeHeader(ctx, ST_OK, 0, 0, 0, casLo, casHi);
}

/**
 * Handles one request whose header, extras and key are at buf[at..]. The value
 * (bodyLen - extLen - keyLen bytes) follows in the stream; a handler that does not
 * read it leaves it to the caller to swallow (`valueLeft`).
 */
export function binaryCommand(ctx: CommandContext, buf: Buffer, at: number): void {
  const opcode = buf[at + 1]!;
  const keyLen = buf.readUInt16BE(at + 2);
  const extLen = buf[at + 4]!;
  const bodyLen = buf.readUInt32BE(at + 8);
  const casHi = buf.readUInt32BE(at + 16);
  const casLo = buf.readUInt32BE(at + 20);
  ctx.binOpcode = opcode;
  ctx.binOpaque = buf.readInt32BE(at + 12);
  const ext = at + BIN_HEADER;
  const key = ext + extLen;
  const valueLen = bodyLen - extLen - keyLen;
  if (keyLen > bodyLen || keyLen + extLen > bodyLen) {
    ctx.binQuiet = false;
    writeError(ctx, ST_UNKNOWN_COMMAND);
    ctx.closeAfterWrite();
    return;
  }
  const loud = loudOpcode(opcode);
  ctx.binQuiet = loud >= 0;
  const cmd = loud >= 0 ? loud : opcode;
  if (keyLen > KEY_MAX_LENGTH) {
    protocolError(ctx);
    return;
  }
  const store = ctx.store;
  switch (cmd) {
    case OP_VERSION:
      if (extLen !== 0 || keyLen !== 0 || bodyLen !== 0) {
        protocolError(ctx);
        return;
      }
      {
        const v = ctx.server.settings.version;
        writeHeader(ctx, ST_OK, 0, 0, v.length, 0, 0);
        ctx.out.ascii(v);
      }
      return;
    case OP_FLUSH:
      if (keyLen !== 0 || bodyLen !== extLen || (extLen !== 0 && extLen !== 4)) {
        protocolError(ctx);
        return;
      }
      if (!ctx.server.settings.flushEnabled) {
        writeError(ctx, 0x20);
        return;
      }
      store.flushAll(extLen === 4 ? buf.readUInt32BE(ext) | 0 : 0);
      store.stats.flushCmds++;
      writeOk(ctx);
      return;
    case OP_NOOP:
      if (extLen !== 0 || keyLen !== 0 || bodyLen !== 0) {
        protocolError(ctx);
        return;
      }
      writeHeader(ctx, ST_OK, 0, 0, 0, 0, 0);
      return;
    case OP_SET:
    case OP_ADD:
    case OP_REPLACE:
      if (extLen !== 8 || keyLen === 0 || bodyLen < keyLen + 8) {
        protocolError(ctx);
        return;
      }
      {
        update(
          ctx,
          buf,
          key,
          keyLen,
          buf.readUInt32BE(ext),
          buf.readUInt32BE(ext + 4) | 0,
          valueLen,
          cmd,
          casLo,
          casHi,
        );
        return;
      }
    case OP_APPEND:
    case OP_PREPEND:
      if (keyLen === 0 || extLen !== 0) {
        protocolError(ctx);
        return;
      }
      {
        update(ctx, buf, key, keyLen, 0, 0, valueLen, cmd, casLo, casHi);
        return;
      }
    case OP_GET:
    case OP_GETK:
      if (extLen !== 0 || bodyLen !== keyLen || keyLen === 0) {
        protocolError(ctx);
        return;
      }
      {
        getOrTouch(ctx, buf, key, keyLen, cmd, 0);
        return;
      }
    case OP_TOUCH:
    case OP_GAT:
    case OP_GATK:
      if (extLen !== 4 || keyLen === 0) {
        protocolError(ctx);
        return;
      }
      {
        getOrTouch(ctx, buf, key, keyLen, cmd, buf.readUInt32BE(ext) | 0);
        return;
      }
    case OP_DELETE:
      if (keyLen === 0 || extLen !== 0 || bodyLen !== keyLen) {
        protocolError(ctx);
        return;
      }
      {
        deleteItem(ctx, buf, key, keyLen, casLo, casHi);
        return;
      }
    case OP_INCREMENT:
    case OP_DECREMENT:
      if (keyLen === 0 || extLen !== 20 || bodyLen !== keyLen + extLen) {
        protocolError(ctx);
        return;
      }
      {
        arithmetic(ctx, buf, ext, key, keyLen, cmd === OP_INCREMENT, casLo, casHi);
        return;
      }
    case OP_STAT:
      if (extLen !== 0) {
        protocolError(ctx);
        return;
      }
      {
        stat(ctx, buf, key, keyLen, valueLen);
        return;
      }
    case OP_QUIT:
      if (keyLen !== 0 || extLen !== 0 || bodyLen !== 0) {
        protocolError(ctx);
        return;
      }
      writeOk(ctx);
      ctx.closeAfterWrite();
      return;
    default:
      // Unknown (SASL included: hastack has no SASL): answered, and the rest of the body skipped.
      ctx.binQuiet = false;
      writeError(ctx, ST_UNKNOWN_COMMAND);
      if (valueLen > 0) ctx.swallow(valueLen);
  }
}

/** memcached's handle_binary_protocol_error: EINVAL, then the connection closes. */
function protocolError(ctx: CommandContext): void {
  writeError(ctx, ST_EINVAL);
  ctx.closeAfterWrite();
}

function update(
  ctx: CommandContext,
  buf: Buffer,
  key: number,
  keyLen: number,
  flags: number,
  exptime: number,
  valueLen: number,
  cmd: number,
  casLo: number,
  casHi: number,
): void {
  const store = ctx.store;
  const ref = store.alloc(buf, key, keyLen, flags, store.realtime(exptime), valueLen);
  if (ref < 0) {
    if (ref === ALLOC_NO_MEMORY && store.sizeOk(keyLen, valueLen)) {
      store.stats.storeNoMemory++;
      writeError(ctx, ST_ENOMEM);
    } else {
      store.stats.storeTooLarge++;
      writeError(ctx, ST_E2BIG);
    }
    if (cmd === OP_SET) {
      const old = store.get(buf, key, keyLen, false);
      if (old !== NIL) store.unlink(old);
    }
    ctx.swallow(valueLen);
    return;
  }
  let mode: number;
  if (cmd === OP_SET) mode = MODE_SET;
  else if (cmd === OP_ADD) mode = MODE_ADD;
  else if (cmd === OP_REPLACE) mode = MODE_REPLACE;
  else if (cmd === OP_APPEND) mode = MODE_APPEND;
  else mode = MODE_PREPEND;
  if ((casLo !== 0 || casHi !== 0) && mode !== MODE_APPEND && mode !== MODE_PREPEND) mode = MODE_CAS;
  ctx.pendingCasLo = casLo;
  ctx.pendingCasHi = casHi;
  ctx.readValue(ref, valueLen, VALUE_BINARY, mode, ctx.binQuiet);
}

/** complete_update_bin: the value is in; store it and answer. */
export function completeBinaryStore(ctx: CommandContext, ref: number, mode: number): void {
  const requested = loudOpcode(ctx.binOpcode) >= 0 ? loudOpcode(ctx.binOpcode) : ctx.binOpcode;
  const store = ctx.store;
  store.terminateValue(ref);
  store.reqCasLo = ctx.pendingCasLo;
  store.reqCasHi = ctx.pendingCasHi;
  const result = store.storeItem(ref, mode);
  if (result === STORED) writeOk(ctx, store.lastCasLo, store.lastCasHi);
  else if (result === EXISTS) writeError(ctx, ST_KEY_EEXISTS);
  else if (result === NOT_FOUND) writeError(ctx, ST_KEY_ENOENT);
  else if (requested === OP_ADD) writeError(ctx, ST_KEY_EEXISTS);
  else if (requested === OP_REPLACE) writeError(ctx, ST_KEY_ENOENT);
  else writeError(ctx, ST_NOT_STORED);
}

function getOrTouch(
  ctx: CommandContext,
  buf: Buffer,
  key: number,
  keyLen: number,
  cmd: number,
  exptime: number,
): void {
  const store = ctx.store;
  const touch = cmd === OP_TOUCH || cmd === OP_GAT || cmd === OP_GATK;
  const withKey = cmd === OP_GETK || cmd === OP_GATK;
  const withValue = cmd !== OP_TOUCH;
  const ref = touch
    ? store.touch(buf, key, keyLen, store.realtime(exptime))
    : store.get(buf, key, keyLen, true);
  if (ref === NIL) {
    if (touch) {
      store.stats.touchCmds++;
      store.stats.touchMisses++;
    } else {
      store.stats.getCmds++;
      store.stats.getMisses++;
    }
    if (ctx.binQuiet) return;
    if (withKey) {
      writeHeader(ctx, ST_KEY_ENOENT, 0, keyLen, keyLen, 0, 0);
      ctx.out.bytes(buf, key, key + keyLen);
    } else {
      writeError(ctx, ST_KEY_ENOENT);
    }
    return;
  }
  const cls = store.slabClass(ref);
  if (touch) {
    store.stats.touchCmds++;
    store.classStats.touchHits[cls]!++;
  } else {
    store.stats.getCmds++;
    store.classStats.getHits[cls]!++;
  }
  const nbytes = withValue ? store.valueLength(ref) : 0;
  const k = withKey ? keyLen : 0;
  writeHeader(ctx, ST_OK, 4, k, 4 + k + nbytes, store.casLo(ref), store.casHi(ref));
  const out = ctx.out;
  out.ensure(4);
  out.buf.writeUInt32BE(store.clientFlags(ref), out.pos);
  out.pos += 4;
  const page = store.page(ref);
  if (withKey) {
    const ko = store.keyOffset(ref);
    out.bytes(page, ko, ko + keyLen);
  }
  if (nbytes > 0) {
    const vo = store.valueOffset(ref);
    out.bytes(page, vo, vo + nbytes);
  }
}

function deleteItem(
  ctx: CommandContext,
  buf: Buffer,
  key: number,
  keyLen: number,
  casLo: number,
  casHi: number,
): void {
  const store = ctx.store;
  const ref = store.get(buf, key, keyLen, false);
  if (ref === NIL) {
    store.stats.deleteMisses++;
    writeError(ctx, ST_KEY_ENOENT);
    return;
  }
  if ((casLo !== 0 || casHi !== 0) && (store.casLo(ref) !== casLo || store.casHi(ref) !== casHi)) {
    writeError(ctx, ST_KEY_EEXISTS);
    return;
  }
  store.classStats.deleteHits[store.slabClass(ref)]!++;
  store.unlink(ref);
  writeOk(ctx);
}

function arithmetic(
  ctx: CommandContext,
  buf: Buffer,
  ext: number,
  key: number,
  keyLen: number,
  incr: boolean,
  casLo: number,
  casHi: number,
): void {
  const store = ctx.store;
  const delta = buf.readBigUInt64BE(ext);
  const initial = buf.readBigUInt64BE(ext + 8);
  const expiration = buf.readUInt32BE(ext + 16);
  store.reqCasLo = casLo;
  store.reqCasHi = casHi;
  const result = store.addDelta(buf, key, keyLen, incr, delta, casLo !== 0 || casHi !== 0);
  if (result === DELTA_OK) {
    const ref = store.deltaRef;
    writeNumber(ctx, store.deltaResult, store.casLo(ref), store.casHi(ref));
  } else if (result === DELTA_NON_NUMERIC) {
    writeError(ctx, ST_DELTA_BADVAL);
  } else if (result === DELTA_EOM) {
    writeError(ctx, ST_ENOMEM);
  } else if (result === DELTA_CAS_MISMATCH) {
    writeError(ctx, ST_KEY_EEXISTS);
  } else if (result === DELTA_NOT_FOUND) {
    if (expiration === 0xffffffff) {
      if (incr) store.stats.incrMisses++;
      else store.stats.decrMisses++;
      writeError(ctx, ST_KEY_ENOENT);
      return;
    }
    const text = initial.toString();
    const ref = store.alloc(buf, key, keyLen, 0, store.realtime(expiration | 0), text.length);
    if (ref < 0) {
      writeError(ctx, ST_ENOMEM);
      return;
    }
    store.page(ref).write(text, store.valueOffset(ref), 'latin1');
    store.terminateValue(ref);
    store.reqCasLo = store.reqCasHi = 0;
    if (store.storeItem(ref, MODE_ADD) === STORED)
      writeNumber(ctx, initial, store.lastCasLo, store.lastCasHi);
    else writeError(ctx, ST_NOT_STORED);
  }
}

function writeNumber(ctx: CommandContext, value: bigint, casLo: number, casHi: number): void {
  if (ctx.binQuiet) return;
  writeHeader(ctx, ST_OK, 0, 0, 8, casLo, casHi);
  const out = ctx.out;
  out.ensure(8);
  out.buf.writeBigUInt64BE(value, out.pos);
  out.pos += 8;
}

function stat(ctx: CommandContext, buf: Buffer, key: number, keyLen: number, valueLen: number): void {
  if (valueLen > 0) ctx.swallow(valueLen);
  const store = ctx.store;
  const sub = buf.toString('latin1', key, key + keyLen);
  const emit: StatSink = (name, value) => {
    const v = String(value);
    writeHeader(ctx, ST_OK, 0, name.length, name.length + v.length, 0, 0);
    ctx.out.ascii(name);
    ctx.out.ascii(v);
  };
  if (keyLen === 0) generalStats(store, ctx.server, emit);
  else if (sub.startsWith('reset')) store.resetStats();
  else if (sub.startsWith('settings')) settingsStats(store, ctx.server, emit);
  else if (sub === 'items') itemsStats(store, emit);
  else if (sub === 'slabs') slabsStats(store, emit);
  else if (sub === 'sizes') sizesStats(emit);
  else if (sub.startsWith('detail')) {
    if (!/^detail (on|off|dump)/.test(sub)) {
      writeError(ctx, ST_KEY_ENOENT);
      return;
    }
  } else {
    writeError(ctx, ST_KEY_ENOENT);
    return;
  }
  writeHeader(ctx, ST_OK, 0, 0, 0, 0, 0);
}
