import {
  highWord,
  lowWord,
  parsedBig,
  parsedNumber,
  parseInt32,
  parseUint32,
  parseUint64,
} from './ascii-numbers.ts';
import { base64DecodeInPlace, base64EncodeInto } from './base64.ts';
import { type CommandContext, VALUE_META } from './command-context.ts';
import { F_FETCHED, F_KEY_BINARY, F_STALE, F_TOKEN_SENT, KEY_MAX_LENGTH, NIL } from './item-layout.ts';
import {
  ALLOC_NO_MEMORY,
  DELTA_CAS_MISMATCH,
  DELTA_EOM,
  DELTA_NON_NUMERIC,
  DELTA_NOT_FOUND,
  EXISTS,
  MODE_ADD,
  MODE_APPEND,
  MODE_CAS,
  MODE_PREPEND,
  MODE_REPLACE,
  MODE_SET,
  NOT_FOUND,
  NOT_STORED,
  STORED,
} from './item-store.ts';
import { isValidTextKey } from './key-check.ts';
import type { LineTokens } from './line-tokens.ts';
import { enc, type ReplyBuffer } from './reply-buffer.ts';

/*
 * The meta protocol (mg, ms, md, ma, me, mn) as memcached 1.6 implements it:
 * flags parsed once per command into module scratch fields, reply flags in the
 * order the request gave them, errors always sent (even with q).
 */

const MAX_OPT_TOKENS = 20;
const MAX_OPAQUE_LENGTH = 32;

const R_ERROR = enc('ERROR\r\n');
const R_MN = enc('MN\r\n');
const R_EN = enc('EN\r\n');
const R_BAD_FORMAT = 'CLIENT_ERROR bad command line format';
const R_BAD_TOKEN = 'CLIENT_ERROR bad token in command line format';
const R_FLAGS_TOO_LONG = 'CLIENT_ERROR options flags too long';
const R_BAD_FLAG = 'CLIENT_ERROR invalid or duplicate flag';

// Parsed flags of the current meta command (one command runs at a time).
let hasError = false;
let errstr = R_BAD_FORMAT;
let noUpdate = false;
let locked = false;
let vivify = false;
let wantValue = false;
let setStale = false;
let noReply = false;
let hasCas = false;
let newTtl = false;
let keyBinary = false;
let removeValue = false;
let hasExplicitCas = false;
let mode = 0;
let exptime = 0;
let autovivExptime = 0;
let recacheTime = 0;
let clientFlags = 0;
let reqCasLo = 0;
let reqCasHi = 0;
let explicitCasLo = 0;
let explicitCasHi = 0;
let delta = 1n;
let initial = 0n;
const seen = new Uint8Array(128);

function resetFlags(): void {
  hasError = false;
  errstr = R_BAD_FORMAT;
  noUpdate = locked = vivify = wantValue = setStale = noReply = hasCas = newTtl = false;
  keyBinary = removeValue = hasExplicitCas = false;
  mode = 0;
  exptime = autovivExptime = recacheTime = clientFlags = 0;
  reqCasLo = reqCasHi = explicitCasLo = explicitCasHi = 0;
  delta = 1n;
  initial = 0n;
  seen.fill(0);
}

/** memcached's _meta_flag_preparse. Returns false on an error (errstr set). Decodes a `b` key in place. */
function preparse(ctx: CommandContext, buf: Uint8Array, first: number): boolean {
  resetFlags();
  const t = ctx.tokens;
  const store = ctx.store;
  for (let i = first; i < t.count - 1; i++) {
    const s = t.starts[i]!;
    const e = t.ends[i]!;
    const o = buf[s]!;
    if (o >= 127 || seen[o] !== 0) {
      errstr = 'CLIENT_ERROR duplicate flag';
      return false;
    }
    seen[o] = 1;
    switch (o) {
      case 98 /* b */:
        {
          const len = base64DecodeInPlace(buf, t.starts[1]!, t.length(1));
          if (len === 0) {
            errstr = 'CLIENT_ERROR error decoding key';
            hasError = true;
          }
          t.ends[1] = t.starts[1]! + len;
          keyBinary = true;
          break;
        }
      case 78 /* N */:
        locked = vivify = true;
        if (!parseInt32(buf, s + 1, e)) {
          errstr = R_BAD_TOKEN;
          hasError = true;
        } else autovivExptime = store.realtime(parsedNumber);
        break;
      case 84 /* T */:
        locked = true;
        if (!parseInt32(buf, s + 1, e)) {
          errstr = R_BAD_TOKEN;
          hasError = true;
        } else {
          exptime = store.realtime(parsedNumber);
          newTtl = true;
        }
        break;
      case 82 /* R */:
        locked = true;
        if (!parseInt32(buf, s + 1, e)) {
          errstr = R_BAD_TOKEN;
          hasError = true;
        } else recacheTime = store.realtime(parsedNumber);
        break;
      case 108 /* l */:
      case 104 /* h */:
        locked = true;
        break;
      case 79 /* O */:
      case 80 /* P */:
      case 76 /* L */:
      case 107 /* k */:
      case 115 /* s */:
      case 116 /* t */:
      case 99 /* c */:
      case 102 /* f */:
        break;
      case 118 /* v */:
        wantValue = true;
        break;
      case 117 /* u */:
        noUpdate = true;
        break;
      case 113 /* q */:
        noReply = true;
        break;
      case 120 /* x */:
        removeValue = true;
        break;
      case 70 /* F */:
        if (!parseUint32(buf, s + 1, e)) hasError = true;
        else clientFlags = parsedNumber;
        break;
      case 67 /* C */:
        if (!parseUint64(buf, s + 1, e)) {
          errstr = R_BAD_TOKEN;
          hasError = true;
        } else {
          reqCasLo = lowWord(parsedBig);
          reqCasHi = highWord(parsedBig);
          hasCas = true;
        }
        break;
      case 69 /* E */:
        if (!parseUint64(buf, s + 1, e)) {
          errstr = R_BAD_TOKEN;
          hasError = true;
        } else {
          explicitCasLo = lowWord(parsedBig);
          explicitCasHi = highWord(parsedBig);
          hasExplicitCas = true;
        }
        break;
      case 77 /* M */:
        if (e - s !== 2) {
          errstr = 'CLIENT_ERROR incorrect length for M token';
          hasError = true;
        } else mode = buf[s + 1]!;
        break;
      case 74 /* J */:
        if (!parseUint64(buf, s + 1, e)) {
          errstr = 'CLIENT_ERROR invalid numeric initial value';
          hasError = true;
        } else initial = parsedBig;
        break;
      case 68 /* D */:
        if (!parseUint64(buf, s + 1, e)) {
          errstr = 'CLIENT_ERROR invalid numeric delta value';
          hasError = true;
        } else delta = parsedBig;
        break;
      case 73 /* I */:
        setStale = true;
        break;
      default:
        errstr = 'CLIENT_ERROR invalid flag';
        return false;
    }
  }
  return !hasError;
}

function error(out: ReplyBuffer, text: string): void {
  out.ascii(text);
  out.crlf();
}

/** A plain (not base64) meta key must also be a valid text key. */
function keyOk(buf: Uint8Array, start: number, end: number): boolean {
  return keyBinary || isValidTextKey(buf, start, end);
}

/** " k<key>" (base64 and " b" for binary keys). */
function writeKeyFlag(out: ReplyBuffer, src: Uint8Array, start: number, end: number, binary: boolean): void {
  out.ensure(4 + ((end - start) * 4) / 3 + 8);
  out.byte(32);
  out.byte(107);
  if (!binary) {
    out.bytes(src, start, end);
    return;
  }
  out.pos = base64EncodeInto(src, start, end, out.buf, out.pos);
  out.byte(32);
  out.byte(98);
}

/** " O<opaque>" verbatim. Returns false when the token is too long. */
function writeOpaque(out: ReplyBuffer, buf: Uint8Array, s: number, e: number): boolean {
  if (e - s > MAX_OPAQUE_LENGTH) return false;
  out.byte(32);
  out.bytes(buf, s, e);
  return true;
}

/**
 * The checks mg, md and ma start with, in memcached's order: enough tokens, key
 * length, option count, then the flags (the command counts as a meta command
 * once the line is well-formed). Writes the error and returns false when one
 * fails. The wording of the last two errors is the command's own in memcached
 * (`badFlag` undefined: the flag parser's message).
 */
function keyCommandChecks(
  ctx: CommandContext,
  buf: Uint8Array,
  tooManyFlags: string,
  badFlag: string | undefined,
): boolean {
  const t = ctx.tokens;
  const out = ctx.out;
  if (t.count < 3) {
    out.bytes(R_ERROR);
    return false;
  }
  if (t.length(1) > KEY_MAX_LENGTH) {
    error(out, R_BAD_FORMAT);
    return false;
  }
  if (t.count > MAX_OPT_TOKENS) {
    error(out, tooManyFlags);
    return false;
  }
  ctx.store.stats.metaCmds++;
  if (!preparse(ctx, buf, 2)) {
    error(out, badFlag ?? errstr);
    return false;
  }
  return true;
}

/**
 * Echoes the request's O (opaque) and k (key) flags into the reply (md, ma, and
 * mg's miss). An opaque that is too long drops the reply begun at `mark` for an
 * error, and returns false.
 */
function echoOpaqueAndKey(
  out: ReplyBuffer,
  t: LineTokens,
  buf: Uint8Array,
  ks: number,
  ke: number,
  mark: number,
): boolean {
  for (let i = 2; i < t.count - 1; i++) {
    const s = t.starts[i]!;
    const c = buf[s]!;
    if (c === 79 /* O */) {
      if (!writeOpaque(out, buf, s, t.ends[i]!)) {
        out.rewind(mark);
        error(out, 'CLIENT_ERROR opaque token too long');
        return false;
      }
    } else if (c === 107 /* k */) writeKeyFlag(out, buf, ks, ke, keyBinary);
  }
  return true;
}

function flagChar(out: ReplyBuffer, c: number): void {
  out.byte(32);
  out.byte(c);
}

export function metaCommand(ctx: CommandContext, buf: Uint8Array, _start: number, _end: number): void {
  const t = ctx.tokens;
  const sub = buf[t.starts[0]! + 1]!;
  switch (sub) {
    case 103 /* g */:
      metaGet(ctx, buf);
      break;
    case 115 /* s */:
      metaSet(ctx, buf);
      break;
    case 100 /* d */:
      metaDelete(ctx, buf);
      break;
    case 110 /* n */:
      ctx.out.bytes(R_MN);
      break;
    case 97 /* a */:
      metaArithmetic(ctx, buf);
      break;
    case 101 /* e */:
      metaDebug(ctx, buf);
      break;
    default:
      ctx.out.bytes(R_ERROR);
  }
}

// --- mg -----------------------------------------------------------------------

function metaGet(ctx: CommandContext, buf: Uint8Array): void {
  const t = ctx.tokens;
  const out = ctx.out;
  const store = ctx.store;
  if (!keyCommandChecks(ctx, buf, 'CLIENT_ERROR options flags are too long', undefined)) return;
  const ks = t.starts[1]!;
  const ke = t.ends[1]!;
  if (!keyOk(buf, ks, ke)) {
    error(out, R_BAD_FORMAT);
    return;
  }
  let ref = store.get(buf, ks, ke - ks, !locked && !noUpdate);
  let created = false;
  if (ref === NIL && vivify) {
    const fresh = store.alloc(buf, ks, ke - ks, 0, 0, 0);
    if (fresh >= 0) {
      store.terminateValue(fresh);
      if (keyBinary) store.setItemFlag(fresh, F_KEY_BINARY, true);
      store.hasNewCas = hasExplicitCas;
      store.newCasLo = explicitCasLo;
      store.newCasHi = explicitCasHi;
      store.link(fresh);
      store.hasNewCas = false;
      ref = fresh;
      created = true;
    }
  }
  out.ensure(2048);
  const mark = out.mark();
  if (ref === NIL) {
    store.stats.getCmds++;
    store.stats.getMisses++;
    out.bytes(R_EN, 0, 2);
    if (!echoOpaqueAndKey(out, t, buf, ks, ke, mark)) return;
    out.crlf();
    if (noReply) out.rewind(mark);
    return;
  }
  const meta = store.itemFlags(ref);
  const nbytes = store.valueLength(ref);
  let won = false;
  let ttlSet = false;
  if (wantValue) {
    out.ascii('VA ');
    out.uint(nbytes);
  } else {
    out.bytes(HD);
  }
  for (let i = 2; i < t.count - 1; i++) {
    const s = t.starts[i]!;
    const c = buf[s]!;
    switch (c) {
      case 84 /* T */:
        ttlSet = true;
        store.setExptime(ref, exptime);
        break;
      case 78 /* N */:
        if (created) {
          store.setExptime(ref, autovivExptime);
          won = true;
        }
        break;
      case 82 /* R */:
        {
          const exp = store.exptime(ref);
          if ((meta & F_TOKEN_SENT) === 0 && !created && exp !== 0 && exp < recacheTime) won = true;
          break;
        }
      case 115 /* s */:
        flagChar(out, 115);
        out.uint(nbytes);
        break;
      case 116 /* t */:
        {
          flagChar(out, 116);
          const exp = store.exptime(ref);
          if (exp === 0) out.int(-1);
          else out.int(exp - store.currentTime);
          break;
        }
      case 99 /* c */:
        flagChar(out, 99);
        out.u64(store.casLo(ref), store.casHi(ref));
        break;
      case 102 /* f */:
        flagChar(out, 102);
        out.uint(store.clientFlags(ref));
        break;
      case 108 /* l */:
        flagChar(out, 108);
        out.uint(Math.max(0, store.currentTime - store.accessTime(ref)));
        break;
      case 104 /* h */:
        flagChar(out, 104);
        out.byte((meta & F_FETCHED) !== 0 ? 49 : 48);
        break;
      case 79 /* O */:
        if (!writeOpaque(out, buf, s, t.ends[i]!)) {
          out.rewind(mark);
          error(out, 'CLIENT_ERROR opaque token too long');
          return;
        }
        break;
      case 107 /* k */:
        writeKeyFlag(
          out,
          store.page(ref),
          store.keyOffset(ref),
          store.keyOffset(ref) + store.keyLength(ref),
          (meta & F_KEY_BINARY) !== 0,
        );
        break;
    }
  }
  if ((meta & F_TOKEN_SENT) !== 0) flagChar(out, 90 /* Z */);
  if ((meta & F_STALE) !== 0) {
    flagChar(out, 88 /* X */);
    if ((meta & F_TOKEN_SENT) === 0) won = true;
  }
  if (won) {
    flagChar(out, 87 /* W */);
    store.setItemFlag(ref, F_TOKEN_SENT, true);
  }
  out.crlf();
  if (wantValue) {
    const off = store.valueOffset(ref);
    out.bytes(store.page(ref), off, off + nbytes + 2);
  }
  if (locked && !noUpdate) store.bump(ref);
  const cls = store.slabClass(ref);
  if (ttlSet) {
    store.stats.touchCmds++;
    store.classStats.touchHits[cls]!++;
  } else {
    store.stats.getCmds++;
    store.classStats.getHits[cls]!++;
  }
}

const HD = enc('HD');

// --- ms -----------------------------------------------------------------------

function metaSet(ctx: CommandContext, buf: Uint8Array): void {
  const t = ctx.tokens;
  const out = ctx.out;
  const store = ctx.store;
  if (t.count < 3) {
    out.bytes(R_ERROR);
    return;
  }
  if (t.length(1) > KEY_MAX_LENGTH || t.count === 3) {
    error(out, R_BAD_FORMAT);
    return;
  }
  if (t.count > MAX_OPT_TOKENS) {
    error(out, R_FLAGS_TOO_LONG);
    return;
  }
  if (!parseInt32(buf, t.starts[2]!, t.ends[2]!)) {
    error(out, R_BAD_FORMAT);
    return;
  }
  const vlen = parsedNumber;
  if (vlen < 0 || vlen > 2147483645) {
    error(out, R_BAD_FORMAT);
    return;
  }
  store.stats.metaCmds++;
  // From here on the data block is known: an error swallows it.
  if (!preparse(ctx, buf, 3)) {
    refuse(ctx, vlen, errstr);
    return;
  }
  const ks = t.starts[1]!;
  const ke = t.ends[1]!;
  if (!keyOk(buf, ks, ke)) {
    refuse(ctx, vlen, R_BAD_FORMAT);
    return;
  }
  for (let i = 3; i < t.count - 1; i++) {
    if (buf[t.starts[i]!] === 79 && t.length(i) > MAX_OPAQUE_LENGTH) {
      refuse(ctx, vlen, 'CLIENT_ERROR opaque token too long');
      return;
    }
  }
  let storeMode: number;
  switch (mode) {
    case 0:
    case 83 /* S */:
      storeMode = MODE_SET;
      break;
    case 69 /* E */:
      storeMode = MODE_ADD;
      break;
    case 65 /* A */:
      storeMode = MODE_APPEND;
      break;
    case 80 /* P */:
      storeMode = MODE_PREPEND;
      break;
    case 82 /* R */:
      storeMode = MODE_REPLACE;
      break;
    default: {
      refuse(ctx, vlen, 'CLIENT_ERROR invalid mode for ms M token');
      return;
    }
  }
  if (hasCas && (storeMode === MODE_SET || storeMode === MODE_REPLACE)) storeMode = MODE_CAS;
  const ref = store.alloc(buf, ks, ke - ks, clientFlags, exptime, vlen);
  if (ref < 0) {
    let msg: string;
    if (ref === ALLOC_NO_MEMORY && store.sizeOk(ke - ks, vlen)) {
      msg = 'SERVER_ERROR out of memory storing object';
      store.stats.storeNoMemory++;
    } else {
      msg = 'SERVER_ERROR object too large for cache';
      store.stats.storeTooLarge++;
    }
    const old = store.get(buf, ks, ke - ks, false);
    if (old !== NIL) store.unlink(old);
    refuse(ctx, vlen, msg);
    return;
  }
  if (keyBinary) store.setItemFlag(ref, F_KEY_BINARY, true);
  ctx.stashLine(buf, t.starts[0]!, t.ends[t.count - 2]!);
  ctx.pendingCasLo = hasCas ? reqCasLo : 0;
  ctx.pendingCasHi = hasCas ? reqCasHi : 0;
  // What completion needs beyond the line: stale-set and an explicit CAS (E).
  ctx.pendingStale = setStale && storeMode === MODE_CAS;
  ctx.pendingExplicit = hasExplicitCas;
  ctx.pendingExplicitLo = explicitCasLo;
  ctx.pendingExplicitHi = explicitCasHi;
  ctx.readValue(ref, vlen + 2, VALUE_META, storeMode, noReply);
}

function refuse(ctx: CommandContext, vlen: number, message: string): void {
  ctx.swallow(vlen + 2);
  error(ctx.out, message);
}

/** _finalize_mset: the reply of an ms once its data is in. */
export function completeMetaSet(ctx: CommandContext, ref: number, storeMode: number, quiet: boolean): void {
  const store = ctx.store;
  const out = ctx.out;
  if (!store.hasValueTerminator(ref)) {
    store.classStats.setCmds[store.slabClass(ref)]!++;
    store.release(ref);
    error(out, 'CLIENT_ERROR bad data chunk');
    return;
  }
  const keyBinary = (store.itemFlags(ref) & F_KEY_BINARY) !== 0;
  // Keep the key bytes for the reply: the item may be replaced (append) or released.
  const keyLen = store.keyLength(ref);
  const keyScratch = ctx.stash;
  const keyAt = keyScratch.length - 256;
  store.page(ref).copy(keyScratch, keyAt, store.keyOffset(ref), store.keyOffset(ref) + keyLen);
  store.reqCasLo = ctx.pendingCasLo;
  store.reqCasHi = ctx.pendingCasHi;
  store.allowStaleSet = ctx.pendingStale;
  store.hasNewCas = ctx.pendingExplicit;
  store.newCasLo = ctx.pendingExplicitLo;
  store.newCasHi = ctx.pendingExplicitHi;
  const result = store.storeItem(ref, storeMode);
  out.ensure(2048);
  const mark = out.mark();
  let casLo = 0;
  let casHi = 0;
  if (result === STORED) {
    out.bytes(HD);
    casLo = store.lastCasLo;
    casHi = store.lastCasHi;
  } else if (result === EXISTS) out.ascii('EX');
  else if (result === NOT_FOUND) out.ascii('NF');
  else if (result === NOT_STORED) out.ascii('NS');
  else {
    error(out, 'SERVER_ERROR Unhandled storage type.');
    return;
  }
  const st = ctx.stashTokens;
  const line = ctx.stash;
  for (let i = 3; i < st.count - 1; i++) {
    const s = st.starts[i]!;
    const c = line[s]!;
    if (c === 79 /* O */) writeOpaque(out, line, s, st.ends[i]!);
    else if (c === 107 /* k */) writeKeyFlag(out, keyScratch, keyAt, keyAt + keyLen, keyBinary);
    else if (c === 99 /* c */) {
      flagChar(out, 99);
      out.u64(casLo, casHi);
    }
  }
  out.crlf();
  if (quiet && result === STORED) out.rewind(mark);
}

// --- md -----------------------------------------------------------------------

function metaDelete(ctx: CommandContext, buf: Uint8Array): void {
  const t = ctx.tokens;
  const out = ctx.out;
  const store = ctx.store;
  if (!keyCommandChecks(ctx, buf, R_FLAGS_TOO_LONG, R_BAD_FLAG)) return;
  const ks = t.starts[1]!;
  const ke = t.ends[1]!;
  if (!keyOk(buf, ks, ke)) {
    error(out, R_BAD_FORMAT);
    return;
  }
  out.ensure(2048);
  const mark = out.mark();
  out.ascii('XX');
  if (!echoOpaqueAndKey(out, t, buf, ks, ke, mark)) return;
  out.crlf();
  const code = out.buf;
  const at = mark - out.fullBytes;
  const ref = store.get(buf, ks, ke - ks, false);
  let quietOk = false;
  if (ref === NIL) {
    store.stats.deleteMisses++;
    code[at] = 78; // NF
    code[at + 1] = 70;
  } else if (hasCas && (store.casLo(ref) !== reqCasLo >>> 0 || store.casHi(ref) !== reqCasHi >>> 0)) {
    store.stats.deleteMisses++;
    code[at] = 69; // EX
    code[at + 1] = 88;
  } else {
    if (setStale) {
      if (newTtl) store.setExptime(ref, exptime);
      store.markStale(ref);
      store.hasNewCas = hasExplicitCas;
      store.newCasLo = explicitCasLo;
      store.newCasHi = explicitCasHi;
      store.bumpCas(ref);
      store.hasNewCas = false;
    } else if (removeValue) {
      emptyValue(ctx, ref);
    } else {
      store.classStats.deleteHits[store.slabClass(ref)]!++;
      store.unlink(ref);
    }
    code[at] = 72; // HD
    code[at + 1] = 68;
    quietOk = true;
  }
  if (quietOk && noReply) out.rewind(mark);
}

/** md x: the item stays (flags, TTL) but its value becomes empty. */
function emptyValue(ctx: CommandContext, ref: number): void {
  const store = ctx.store;
  store.pin(ref);
  const page = store.page(ref);
  const fresh = store.alloc(
    page,
    store.keyOffset(ref),
    store.keyLength(ref),
    store.clientFlags(ref),
    store.exptime(ref),
    0,
  );
  store.unpin();
  if (fresh < 0) return;
  store.terminateValue(fresh);
  store.setItemFlag(fresh, store.itemFlags(ref) & F_KEY_BINARY, true);
  store.reqCasLo = store.reqCasHi = 0;
  store.storeItem(fresh, MODE_SET);
}

// --- ma -----------------------------------------------------------------------

function metaArithmetic(ctx: CommandContext, buf: Uint8Array): void {
  const t = ctx.tokens;
  const out = ctx.out;
  const store = ctx.store;
  if (!keyCommandChecks(ctx, buf, R_FLAGS_TOO_LONG, R_BAD_FLAG)) return;
  let incr = true;
  switch (mode) {
    case 0:
    case 73 /* I */:
    case 43 /* + */:
      break;
    case 68 /* D */:
    case 45 /* - */:
      incr = false;
      break;
    default: {
      error(out, 'CLIENT_ERROR invalid mode for ma M token');
      return;
    }
  }
  const ks = t.starts[1]!;
  const ke = t.ends[1]!;
  if (!keyOk(buf, ks, ke)) {
    error(out, R_BAD_FORMAT);
    return;
  }
  store.reqCasLo = reqCasLo;
  store.reqCasHi = reqCasHi;
  const result = store.addDelta(buf, ks, ke - ks, incr, delta, hasCas);
  let ref = NIL;
  let created = false;
  let numberText = '';
  out.ensure(2048);
  const mark = out.mark();
  let quietable = false;
  let code = '';
  if (result === DELTA_NON_NUMERIC) {
    error(out, 'CLIENT_ERROR cannot increment or decrement non-numeric value');
    return;
  }
  if (result === DELTA_EOM) {
    error(out, 'SERVER_ERROR out of memory');
    return;
  }
  if (result === DELTA_CAS_MISMATCH) code = 'EX';
  else if (result === DELTA_NOT_FOUND) {
    if (vivify) {
      numberText = initial.toString();
      const fresh = store.alloc(buf, ks, ke - ks, 0, 0, numberText.length);
      if (fresh < 0) {
        error(out, 'SERVER_ERROR Out of memory allocating new item');
        return;
      }
      store.page(fresh).write(numberText, store.valueOffset(fresh), 'latin1');
      store.terminateValue(fresh);
      if (keyBinary) store.setItemFlag(fresh, F_KEY_BINARY, true);
      store.reqCasLo = store.reqCasHi = 0;
      if (store.storeItem(fresh, MODE_ADD) === STORED) {
        ref = store.lookup(buf, ks, ke - ks, store.hashKey(buf, ks, ke - ks));
        created = true;
      } else code = 'NS';
    } else {
      if (incr) store.stats.incrMisses++;
      else store.stats.decrMisses++;
      code = 'NF';
    }
  } else {
    ref = store.deltaRef;
    numberText = store.deltaResult.toString();
    quietable = true;
  }
  if (ref !== NIL) {
    if (wantValue) {
      out.ascii('VA ');
      out.uint(numberText.length);
    } else out.bytes(HD);
    for (let i = 2; i < t.count - 1; i++) {
      const s = t.starts[i]!;
      const c = buf[s]!;
      if (c === 99 /* c */) {
        flagChar(out, 99);
        out.u64(store.casLo(ref), store.casHi(ref));
      } else if (c === 116 /* t */) {
        flagChar(out, 116);
        const exp = store.exptime(ref);
        if (exp === 0) out.int(-1);
        else out.int(exp - store.currentTime);
      } else if (c === 84 /* T */) store.setExptime(ref, exptime);
      else if (c === 78 /* N */) {
        if (created) store.setExptime(ref, autovivExptime);
      } else if (c === 79 /* O */) {
        if (!writeOpaque(out, buf, s, t.ends[i]!)) {
          out.rewind(mark);
          error(out, 'CLIENT_ERROR opaque token too long');
          return;
        }
      } else if (c === 107 /* k */) writeKeyFlag(out, buf, ks, ke, keyBinary);
    }
    if (wantValue) {
      out.crlf();
      out.ascii(numberText);
    }
  } else {
    out.ascii(code);
    if (!echoOpaqueAndKey(out, t, buf, ks, ke, mark)) return;
  }
  out.crlf();
  if (quietable && noReply) out.rewind(mark);
}

// --- me -----------------------------------------------------------------------

function metaDebug(ctx: CommandContext, buf: Uint8Array): void {
  const t = ctx.tokens;
  const out = ctx.out;
  const store = ctx.store;
  if (t.count < 3 || t.length(1) > KEY_MAX_LENGTH) {
    error(out, R_BAD_FORMAT);
    return;
  }
  const ks = t.starts[1]!;
  let ke = t.ends[1]!;
  if (t.count >= 4 && t.is(buf, 2, 'b')) {
    const len = base64DecodeInPlace(buf, ks, ke - ks);
    if (len === 0) {
      error(out, R_BAD_FORMAT);
      return;
    }
    ke = ks + len;
  }
  store.stats.metaCmds++;
  const ref = store.get(buf, ks, ke - ks, false);
  if (ref === NIL) {
    out.bytes(R_EN);
    return;
  }
  const meta = store.itemFlags(ref);
  out.ensure(600);
  out.ascii('ME');
  const keyOff = store.keyOffset(ref);
  const keyLen = store.keyLength(ref);
  out.byte(32);
  if ((meta & F_KEY_BINARY) !== 0)
    out.pos = base64EncodeInto(store.page(ref), keyOff, keyOff + keyLen, out.buf, out.pos);
  else out.bytes(store.page(ref), keyOff, keyOff + keyLen);
  const exp = store.exptime(ref);
  out.ascii(' exp=');
  out.int(exp === 0 ? -1 : store.currentTime - exp);
  out.ascii(' la=');
  out.uint(Math.max(0, store.currentTime - store.accessTime(ref)));
  out.ascii(' cas=');
  out.u64(store.casLo(ref), store.casHi(ref));
  out.ascii((meta & F_FETCHED) !== 0 ? ' fetch=yes' : ' fetch=no');
  out.ascii(' cls=');
  out.uint(store.slabClass(ref) + 1);
  out.ascii(' size=');
  out.uint(store.totalSize(ref));
  out.crlf();
}
