import {
  highWord,
  lowWord,
  parsedBig,
  parsedNumber,
  parseInt32,
  parseUint32,
  parseUint64,
} from './ascii-numbers.ts';
import { type CommandContext, VALUE_TEXT } from './command-context.ts';
import { KEY_MAX_LENGTH, NIL } from './item-layout.ts';
import {
  ALLOC_NO_MEMORY,
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
  NOT_STORED,
  STORED,
} from './item-store.ts';
import { isValidTextKey } from './key-check.ts';
import type { LineTokens } from './line-tokens.ts';
import { metaCommand } from './meta-commands.ts';
import { enc } from './reply-buffer.ts';
import {
  connsStats,
  generalStats,
  itemsStats,
  type StatSink,
  settingsStats,
  sizesStats,
  slabsStats,
} from './stats-report.ts';

/*
 * The classic text protocol (memcached's proto_text.c): one command per line,
 * replies and error strings exactly as memcached 1.6 sends them.
 */

export const R_ERROR = enc('ERROR\r\n');
export const R_STORED = enc('STORED\r\n');
export const R_NOT_STORED = enc('NOT_STORED\r\n');
export const R_EXISTS = enc('EXISTS\r\n');
export const R_NOT_FOUND = enc('NOT_FOUND\r\n');
export const R_DELETED = enc('DELETED\r\n');
export const R_TOUCHED = enc('TOUCHED\r\n');
export const R_OK = enc('OK\r\n');
export const R_END = enc('END\r\n');
export const R_RESET = enc('RESET\r\n');
const R_VALUE = enc('VALUE ');
const R_STAT = enc('STAT ');
export const R_BAD_FORMAT = enc('CLIENT_ERROR bad command line format\r\n');
const R_BAD_DATA_CHUNK = enc('CLIENT_ERROR bad data chunk\r\n');
const R_BAD_EXPTIME = enc('CLIENT_ERROR invalid exptime argument\r\n');
const R_BAD_DELTA = enc('CLIENT_ERROR invalid numeric delta argument\r\n');
const R_NON_NUMERIC = enc('CLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
const R_TOO_LARGE = enc('SERVER_ERROR object too large for cache\r\n');
const R_NO_MEMORY_STORE = enc('SERVER_ERROR out of memory storing object\r\n');
const R_NO_MEMORY = enc('SERVER_ERROR out of memory\r\n');
const R_DELETE_USAGE = enc('CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n');
const R_FLUSH_DISABLED = enc('CLIENT_ERROR flush_all not allowed\r\n');
const R_BAD_CMDLINE = enc('CLIENT_ERROR bad command line\r\n');
const R_STATS_DETAIL_USAGE = enc('CLIENT_ERROR usage: stats detail on|off|dump\r\n');
const R_CACHEDUMP_DISABLED = enc('CLIENT_ERROR stats cachedump not allowed\r\n');
const R_MEMLIMIT_SMALL = enc('MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n');
const R_MEMLIMIT_UNITS = enc('MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n');
const R_SHUTDOWN_DISABLED = enc('ERROR: shutdown not enabled\r\n');
const R_SLAB_REASSIGN_DISABLED = enc('CLIENT_ERROR slab reassignment disabled\r\n');
const R_WATCH_DISABLED = enc('CLIENT_ERROR watch commands not allowed\r\n');
const R_CRAWLER_OK = R_OK;

/** Returned by textCommand when a multi-get stopped early (reply limit); the line runs again later. */
export const DONE = -1;

const MAX_VERBOSITY = 2;

/** Writes a reply unless the command asked for noreply. */
function reply(ctx: CommandContext, r: Buffer, noreply: boolean): void {
  if (!noreply) ctx.out.bytes(r);
}

/** memcached's set_noreply_maybe: the last real token is "noreply". */
function hasNoreply(ctx: CommandContext, buf: Uint8Array): boolean {
  const t = ctx.tokens;
  return t.count >= 2 && t.is(buf, t.count - 2, 'noreply');
}

/**
 * Runs one request line [start, end) (without the line ending). Returns DONE, or
 * for a multi-get paused by the reply limit the offset where it continues.
 */
export function textCommand(
  ctx: CommandContext,
  buf: Uint8Array,
  start: number,
  end: number,
  resume: number,
): number {
  const t = ctx.tokens;
  const n = t.tokenize(buf, start, end);
  if (n < 2 || t.length(0) < 2) {
    ctx.out.bytes(R_ERROR);
    return DONE;
  }
  const c0 = buf[t.starts[0]!]!;
  const len0 = t.length(0);
  if (c0 === 109 /* m */ && len0 === 2) {
    metaCommand(ctx, buf, start, end);
    return DONE;
  }
  if (c0 === 103 /* g */) {
    if (n < 3) {
      ctx.out.bytes(R_ERROR);
      return DONE;
    }
    if (t.is(buf, 0, 'get')) return getCommand(ctx, buf, end, false, false, resume);
    if (t.is(buf, 0, 'gets')) return getCommand(ctx, buf, end, true, false, resume);
    if (t.is(buf, 0, 'gat')) return getCommand(ctx, buf, end, false, true, resume);
    if (t.is(buf, 0, 'gats')) return getCommand(ctx, buf, end, true, true, resume);
    ctx.out.bytes(R_ERROR);
    return DONE;
  }
  if (t.is(buf, 0, 'set')) return updateCommand(ctx, buf, MODE_SET, 6);
  if (t.is(buf, 0, 'add')) return updateCommand(ctx, buf, MODE_ADD, 6);
  if (t.is(buf, 0, 'replace')) return updateCommand(ctx, buf, MODE_REPLACE, 6);
  if (t.is(buf, 0, 'append')) return updateCommand(ctx, buf, MODE_APPEND, 6);
  if (t.is(buf, 0, 'prepend')) return updateCommand(ctx, buf, MODE_PREPEND, 6);
  if (t.is(buf, 0, 'cas')) return updateCommand(ctx, buf, MODE_CAS, 7);
  if (t.is(buf, 0, 'delete')) return deleteCommand(ctx, buf);
  if (t.is(buf, 0, 'incr')) return arithmeticCommand(ctx, buf, true);
  if (t.is(buf, 0, 'decr')) return arithmeticCommand(ctx, buf, false);
  if (t.is(buf, 0, 'touch')) return touchCommand(ctx, buf);
  if (t.is(buf, 0, 'stats')) return statsCommand(ctx, buf);
  if (t.is(buf, 0, 'flush_all')) return flushCommand(ctx, buf);
  if (t.is(buf, 0, 'version')) {
    ctx.out.ascii(`VERSION ${ctx.server.settings.version}\r\n`);
    return DONE;
  }
  if (t.is(buf, 0, 'quit')) {
    ctx.closeAfterWrite();
    return DONE;
  }
  if (t.is(buf, 0, 'verbosity')) return verbosityCommand(ctx, buf);
  if (t.is(buf, 0, 'cache_memlimit')) return memlimitCommand(ctx, buf);
  if (t.is(buf, 0, 'bget')) return getCommand(ctx, buf, end, false, false, resume);
  if (t.is(buf, 0, 'shutdown')) {
    ctx.out.bytes(R_SHUTDOWN_DISABLED);
    return DONE;
  }
  if (t.is(buf, 0, 'slabs')) return slabsCommand(ctx, buf);
  if (t.is(buf, 0, 'lru_crawler')) return crawlerCommand(ctx, buf);
  if (t.is(buf, 0, 'lru')) return lruCommand(ctx, buf);
  if (t.is(buf, 0, 'watch')) {
    ctx.out.bytes(R_WATCH_DISABLED);
    return DONE;
  }
  // An HTTP request sent to the cache port: memcached closes without a reply.
  const last = n - 2;
  if (t.length(last) >= 5 && startsWith(buf, t.starts[last]!, 'HTTP/')) {
    ctx.closeNow();
    return DONE;
  }
  ctx.out.bytes(R_ERROR);
  return DONE;
}

function startsWith(buf: Uint8Array, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word.charCodeAt(i)) return false;
  return true;
}

// --- retrieval ---------------------------------------------------------------

/** Writes `VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n` for a hit. */
export function writeValue(ctx: CommandContext, ref: number, withCas: boolean): void {
  const store = ctx.store;
  const out = ctx.out;
  const page = store.page(ref);
  const keyOff = store.keyOffset(ref);
  const keyLen = store.keyLength(ref);
  const nbytes = store.valueLength(ref);
  out.ensure(6 + keyLen + 64);
  out.bytes(R_VALUE);
  out.bytes(page, keyOff, keyOff + keyLen);
  out.byte(32);
  out.uint(store.clientFlags(ref));
  out.byte(32);
  out.uint(nbytes);
  if (withCas) {
    out.byte(32);
    out.u64(store.casLo(ref), store.casHi(ref));
  }
  out.crlf();
  const valueOff = keyOff + keyLen;
  out.bytes(page, valueOff, valueOff + nbytes + 2);
}

function getCommand(
  ctx: CommandContext,
  buf: Uint8Array,
  end: number,
  withCas: boolean,
  touch: boolean,
  resume: number,
): number {
  const t = ctx.tokens;
  const store = ctx.store;
  let p = t.ends[0]!;
  let exptime = 0;
  if (touch) {
    if (!parseInt32(buf, t.starts[1]!, t.ends[1]!)) {
      ctx.out.bytes(R_BAD_EXPTIME);
      return DONE;
    }
    exptime = store.realtime(parsedNumber);
    p = t.ends[1]!;
  }
  const limit = ctx.server.settings.outputLimit;
  if (resume < 0 && t.rest < 0) {
    // Every key is a token already: no second scan of the line.
    const first = touch ? 2 : 1;
    const last = t.count - 1;
    for (let i = first; i < last; i++) {
      if (t.ends[i]! - t.starts[i]! > KEY_MAX_LENGTH) {
        ctx.out.bytes(R_BAD_FORMAT);
        return DONE;
      }
    }
    for (let i = first; i < last; i++) {
      const ks = t.starts[i]!;
      getOne(ctx, buf, ks, t.ends[i]! - ks, withCas, touch, exptime);
      if (ctx.out.length >= limit && i + 1 < last) return t.ends[i]!;
    }
    ctx.out.bytes(R_END);
    return DONE;
  }
  if (resume < 0) {
    // A key over 250 bytes fails the whole command before any hit is sent (memcached drops them).
    for (let i = p; i < end; ) {
      while (i < end && buf[i] === 32) i++;
      const ks = i;
      while (i < end && buf[i] !== 32) i++;
      if (i - ks > KEY_MAX_LENGTH) {
        ctx.out.bytes(R_BAD_FORMAT);
        return DONE;
      }
    }
  } else {
    p = resume;
  }
  while (p < end) {
    while (p < end && buf[p] === 32) p++;
    if (p >= end) break;
    const ks = p;
    while (p < end && buf[p] !== 32) p++;
    getOne(ctx, buf, ks, p - ks, withCas, touch, exptime);
    if (ctx.out.length >= limit && p < end) return p;
  }
  ctx.out.bytes(R_END);
  return DONE;
}

/** One key of get/gets/gat/gats: the hit's VALUE block (if any) and the counters. */
function getOne(
  ctx: CommandContext,
  buf: Uint8Array,
  ks: number,
  klen: number,
  withCas: boolean,
  touch: boolean,
  exptime: number,
): void {
  const store = ctx.store;
  const stats = store.stats;
  const ref = touch ? store.touch(buf, ks, klen, exptime) : store.get(buf, ks, klen, true);
  if (ref !== NIL) {
    if (touch) {
      stats.touchCmds++;
      store.classStats.touchHits[store.slabClass(ref)]!++;
    } else {
      stats.getCmds++;
      store.classStats.getHits[store.slabClass(ref)]!++;
    }
    writeValue(ctx, ref, withCas);
  } else if (touch) {
    stats.touchCmds++;
    stats.touchMisses++;
  } else {
    stats.getCmds++;
    stats.getMisses++;
  }
}

// --- storage -------------------------------------------------------------------

function updateCommand(ctx: CommandContext, buf: Uint8Array, mode: number, minTokens: number): number {
  const t = ctx.tokens;
  const n = t.count;
  if (n !== minTokens && n !== minTokens + 1) {
    ctx.out.bytes(R_ERROR);
    return DONE;
  }
  const noreply = hasNoreply(ctx, buf);
  const ks = t.starts[1]!;
  const ke = t.ends[1]!;
  if (ke - ks > KEY_MAX_LENGTH) {
    reply(ctx, R_BAD_FORMAT, noreply);
    return DONE;
  }
  if (!parseUint32(buf, t.starts[2]!, t.ends[2]!)) {
    reply(ctx, R_BAD_FORMAT, noreply);
    return DONE;
  }
  const flags = parsedNumber;
  if (!parseInt32(buf, t.starts[3]!, t.ends[3]!)) {
    reply(ctx, R_BAD_FORMAT, noreply);
    return DONE;
  }
  const exptimeRaw = parsedNumber;
  if (!parseInt32(buf, t.starts[4]!, t.ends[4]!)) {
    reply(ctx, R_BAD_FORMAT, noreply);
    return DONE;
  }
  const vlen = parsedNumber;
  let casLo = 0;
  let casHi = 0;
  if (mode === MODE_CAS) {
    if (!parseUint64(buf, t.starts[5]!, t.ends[5]!)) {
      reply(ctx, R_BAD_FORMAT, noreply);
      return DONE;
    }
    casLo = lowWord(parsedBig);
    casHi = highWord(parsedBig);
  }
  if (vlen < 0 || vlen > 2147483645 || !isValidTextKey(buf, ks, ke)) {
    reply(ctx, R_BAD_FORMAT, noreply);
    return DONE;
  }
  const store = ctx.store;
  const exptime = store.realtime(exptimeRaw);
  const ref = store.alloc(buf, ks, ke - ks, flags, exptime, vlen);
  if (ref < 0) {
    if (ref === ALLOC_NO_MEMORY && store.sizeOk(ke - ks, vlen)) {
      store.stats.storeNoMemory++;
      reply(ctx, R_NO_MEMORY_STORE, noreply);
    } else {
      store.stats.storeTooLarge++;
      reply(ctx, R_TOO_LARGE, noreply);
    }
    ctx.swallow(vlen + 2);
    // A failed set must not leave the old value readable (memcached unlinks it).
    if (mode === MODE_SET) {
      const old = store.get(buf, ks, ke - ks, false);
      if (old !== NIL) store.unlink(old);
    }
    return DONE;
  }
  ctx.pendingCasLo = casLo;
  ctx.pendingCasHi = casHi;
  ctx.readValue(ref, vlen + 2, VALUE_TEXT, mode, noreply);
  return DONE;
}

/** memcached's complete_nread_ascii: the data (and its CRLF) are in the item. */
export function completeTextStore(ctx: CommandContext, ref: number, mode: number, noreply: boolean): void {
  const store = ctx.store;
  if (!store.hasValueTerminator(ref)) {
    store.classStats.setCmds[store.slabClass(ref)]!++;
    store.release(ref);
    reply(ctx, R_BAD_DATA_CHUNK, noreply);
    return;
  }
  store.reqCasLo = ctx.pendingCasLo;
  store.reqCasHi = ctx.pendingCasHi;
  const result = store.storeItem(ref, mode);
  if (noreply) return;
  const out = ctx.out;
  if (result === STORED) out.bytes(R_STORED);
  else if (result === EXISTS) out.bytes(R_EXISTS);
  else if (result === NOT_FOUND) out.bytes(R_NOT_FOUND);
  else if (result === NOT_STORED) out.bytes(R_NOT_STORED);
  else out.ascii('SERVER_ERROR Unhandled storage type.\r\n');
}

// --- delete, incr/decr, touch ------------------------------------------------------

function deleteCommand(ctx: CommandContext, buf: Uint8Array): number {
  const t = ctx.tokens;
  const n = t.count;
  if (n < 3 || n > 5) {
    ctx.out.bytes(R_ERROR);
    return DONE;
  }
  let noreply = false;
  if (n > 3) {
    const holdIsZero = t.is(buf, 2, '0');
    noreply = hasNoreply(ctx, buf);
    const valid = (n === 4 && (holdIsZero || noreply)) || (n === 5 && holdIsZero && noreply);
    if (!valid) {
      reply(ctx, R_DELETE_USAGE, noreply);
      return DONE;
    }
  }
  const ks = t.starts[1]!;
  const klen = t.ends[1]! - ks;
  if (klen > KEY_MAX_LENGTH) {
    reply(ctx, R_BAD_FORMAT, noreply);
    return DONE;
  }
  reply(ctx, ctx.store.delete(buf, ks, klen) ? R_DELETED : R_NOT_FOUND, noreply);
  return DONE;
}

/**
 * The line of incr, decr and touch: `<cmd> <key> <number> [noreply]`. Replies
 * ERROR to a wrong token count and a format error to a key that is too long,
 * and returns false then.
 */
function keyNumberLineOk(ctx: CommandContext, buf: Uint8Array): boolean {
  const t = ctx.tokens;
  if (t.count !== 4 && t.count !== 5) {
    ctx.out.bytes(R_ERROR);
    return false;
  }
  if (t.ends[1]! - t.starts[1]! > KEY_MAX_LENGTH) {
    reply(ctx, R_BAD_FORMAT, hasNoreply(ctx, buf));
    return false;
  }
  return true;
}

function arithmeticCommand(ctx: CommandContext, buf: Uint8Array, incr: boolean): number {
  if (!keyNumberLineOk(ctx, buf)) return DONE;
  const t = ctx.tokens;
  const noreply = hasNoreply(ctx, buf);
  const ks = t.starts[1]!;
  const klen = t.ends[1]! - ks;
  if (!parseUint64(buf, t.starts[2]!, t.ends[2]!)) {
    reply(ctx, R_BAD_DELTA, noreply);
    return DONE;
  }
  const store = ctx.store;
  const result = store.addDelta(buf, ks, klen, incr, parsedBig, false);
  if (result === DELTA_OK) {
    if (!noreply) {
      ctx.out.ascii(store.deltaResult.toString());
      ctx.out.crlf();
    }
  } else if (result === DELTA_NON_NUMERIC) {
    reply(ctx, R_NON_NUMERIC, noreply);
  } else if (result === DELTA_EOM) {
    reply(ctx, R_NO_MEMORY, noreply);
  } else if (result === DELTA_NOT_FOUND) {
    if (incr) store.stats.incrMisses++;
    else store.stats.decrMisses++;
    reply(ctx, R_NOT_FOUND, noreply);
  }
  return DONE;
}

function touchCommand(ctx: CommandContext, buf: Uint8Array): number {
  if (!keyNumberLineOk(ctx, buf)) return DONE;
  const t = ctx.tokens;
  const noreply = hasNoreply(ctx, buf);
  const ks = t.starts[1]!;
  const klen = t.ends[1]! - ks;
  if (!parseInt32(buf, t.starts[2]!, t.ends[2]!)) {
    reply(ctx, R_BAD_EXPTIME, noreply);
    return DONE;
  }
  const store = ctx.store;
  const ref = store.touch(buf, ks, klen, store.realtime(parsedNumber));
  store.stats.touchCmds++;
  if (ref !== NIL) {
    store.classStats.touchHits[store.slabClass(ref)]!++;
    reply(ctx, R_TOUCHED, noreply);
  } else {
    store.stats.touchMisses++;
    reply(ctx, R_NOT_FOUND, noreply);
  }
  return DONE;
}

// --- admin ------------------------------------------------------------------------

function flushCommand(ctx: CommandContext, buf: Uint8Array): number {
  const t = ctx.tokens;
  const n = t.count;
  if (n < 2 || n > 4) {
    ctx.out.bytes(R_ERROR);
    return DONE;
  }
  const noreply = hasNoreply(ctx, buf);
  const store = ctx.store;
  store.stats.flushCmds++;
  if (!ctx.server.settings.flushEnabled) {
    reply(ctx, R_FLUSH_DISABLED, noreply);
    return DONE;
  }
  let delay = 0;
  if (n !== (noreply ? 3 : 2)) {
    if (!parseInt32(buf, t.starts[1]!, t.ends[1]!)) {
      reply(ctx, R_BAD_EXPTIME, noreply);
      return DONE;
    }
    delay = parsedNumber;
  }
  store.flushAll(delay);
  reply(ctx, R_OK, noreply);
  return DONE;
}

/**
 * The line of verbosity and cache_memlimit: `<cmd> <uint32> [noreply]`. Replies
 * ERROR to a wrong token count and `badNumber` to an argument that is not a
 * uint32, and returns false then; on true the number is in `parsedNumber`.
 */
function uint32ArgLineOk(ctx: CommandContext, buf: Uint8Array, badNumber: Buffer): boolean {
  const t = ctx.tokens;
  if (t.count !== 3 && t.count !== 4) {
    ctx.out.bytes(R_ERROR);
    return false;
  }
  if (!parseUint32(buf, t.starts[1]!, t.ends[1]!)) {
    reply(ctx, badNumber, hasNoreply(ctx, buf));
    return false;
  }
  return true;
}

function verbosityCommand(ctx: CommandContext, buf: Uint8Array): number {
  if (!uint32ArgLineOk(ctx, buf, R_BAD_FORMAT)) return DONE;
  ctx.server.verbosity = Math.min(parsedNumber, MAX_VERBOSITY);
  reply(ctx, R_OK, hasNoreply(ctx, buf));
  return DONE;
}

function memlimitCommand(ctx: CommandContext, buf: Uint8Array): number {
  if (!uint32ArgLineOk(ctx, buf, R_ERROR)) return DONE;
  const mb = parsedNumber;
  const noreply = hasNoreply(ctx, buf);
  if (mb < 8) reply(ctx, R_MEMLIMIT_SMALL, noreply);
  else if (mb > 1_000_000_000) reply(ctx, R_MEMLIMIT_UNITS, noreply);
  else {
    ctx.store.setMemoryLimit(mb * 1024 * 1024);
    reply(ctx, R_OK, noreply);
  }
  return DONE;
}

function slabsCommand(ctx: CommandContext, buf: Uint8Array): number {
  const t = ctx.tokens;
  if (t.count === 5 && t.is(buf, 1, 'reassign')) {
    ctx.out.bytes(R_SLAB_REASSIGN_DISABLED);
  } else if (t.count >= 4 && t.is(buf, 1, 'automove')) {
    // Accepted for compatibility: hastack has no page mover (see docs).
    reply(ctx, R_OK, hasNoreply(ctx, buf));
  } else {
    ctx.out.bytes(R_ERROR);
  }
  return DONE;
}

function crawlerCommand(ctx: CommandContext, buf: Uint8Array): number {
  const t = ctx.tokens;
  if (t.count === 4 && t.is(buf, 1, 'crawl')) {
    // The crawler runs continuously; a crawl request makes one full pass now.
    const store = ctx.store;
    let budget = 0;
    for (let p = 0; p < store.mem.totalPages; p++) budget += store.mem.chunkCount(p);
    store.crawl(budget + 1);
    ctx.out.bytes(R_CRAWLER_OK);
  } else if (t.count === 4 && (t.is(buf, 1, 'tocrawl') || t.is(buf, 1, 'sleep'))) {
    if (!parseUint32(buf, t.starts[2]!, t.ends[2]!)) ctx.out.bytes(R_BAD_FORMAT);
    else ctx.out.bytes(R_OK);
  } else if (t.count === 4 && t.is(buf, 1, 'metadump')) {
    ctx.out.ascii('ERROR metadump not allowed\r\n');
  } else if (t.count === 3 && (t.is(buf, 1, 'enable') || t.is(buf, 1, 'disable'))) {
    ctx.out.bytes(R_OK);
  } else {
    ctx.out.bytes(R_ERROR);
  }
  return DONE;
}

function lruCommand(ctx: CommandContext, buf: Uint8Array): number {
  const t = ctx.tokens;
  const store = ctx.store;
  if (t.count < 3) {
    ctx.out.bytes(R_ERROR);
    return DONE;
  }
  const noreply = hasNoreply(ctx, buf);
  if (t.is(buf, 1, 'tune') && t.count >= 7) {
    const hot = tokenAsNumber(t, buf, 2);
    const warm = tokenAsNumber(t, buf, 3);
    const hotFactor = tokenAsNumber(t, buf, 4);
    const warmFactor = tokenAsNumber(t, buf, 5);
    if (![hot, warm, hotFactor, warmFactor].every(Number.isFinite) || hot < 0 || warm < 0) {
      reply(ctx, R_ERROR, noreply);
    } else if (hot + warm > 80) {
      reply(ctx, enc('ERROR hot and warm pcts must not exceed 80\r\n'), noreply);
    } else if (hotFactor <= 0 || warmFactor <= 0) {
      reply(ctx, enc('ERROR hot/warm age factors must be greater than 0\r\n'), noreply);
    } else {
      store.hotLruPct = hot;
      store.warmLruPct = warm;
      store.hotMaxFactor = hotFactor;
      store.warmMaxFactor = warmFactor;
      reply(ctx, R_OK, noreply);
    }
  } else if (t.is(buf, 1, 'mode') && t.count >= 4 && t.is(buf, 2, 'segmented')) {
    reply(ctx, R_OK, noreply);
  } else {
    reply(ctx, R_ERROR, noreply);
  }
  return DONE;
}

/** Token i read as a JS number (admin commands only: it allocates a string). */
function tokenAsNumber(t: LineTokens, buf: Uint8Array, i: number): number {
  return Number(Buffer.from(buf.subarray(t.starts[i]!, t.ends[i]!)).toString('latin1'));
}

function statsCommand(ctx: CommandContext, buf: Uint8Array): number {
  const t = ctx.tokens;
  const n = t.count;
  const store = ctx.store;
  const server = ctx.server;
  const out = ctx.out;
  const emit: StatSink = (name, value) => {
    out.bytes(R_STAT);
    out.ascii(`${name} ${value}\r\n`);
  };
  if (n === 2) {
    generalStats(store, server, emit);
  } else if (t.is(buf, 1, 'reset')) {
    store.resetStats();
    server.bytesRead = 0;
    server.bytesWritten = 0;
    server.totalConnections = 0;
    server.rejectedConnections = 0;
    server.connYields = 0;
    out.bytes(R_RESET);
    return DONE;
  } else if (t.is(buf, 1, 'detail')) {
    if (n < 4) out.bytes(R_STATS_DETAIL_USAGE);
    else if (t.is(buf, 2, 'on') || t.is(buf, 2, 'off')) out.bytes(R_OK);
    else if (t.is(buf, 2, 'dump')) out.bytes(R_END);
    else out.bytes(R_STATS_DETAIL_USAGE);
    return DONE;
  } else if (t.is(buf, 1, 'settings')) {
    settingsStats(store, server, emit);
  } else if (t.is(buf, 1, 'cachedump')) {
    out.bytes(n < 5 ? R_BAD_CMDLINE : R_CACHEDUMP_DISABLED);
    return DONE;
  } else if (t.is(buf, 1, 'conns')) {
    connsStats(server, emit);
  } else if (t.is(buf, 1, 'items')) {
    itemsStats(store, emit);
  } else if (t.is(buf, 1, 'slabs')) {
    slabsStats(store, emit);
  } else if (t.is(buf, 1, 'sizes')) {
    sizesStats(emit);
  } else {
    out.bytes(R_ERROR);
    return DONE;
  }
  out.bytes(R_END);
  return DONE;
}
