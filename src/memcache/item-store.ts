import type { Clock } from '../core/clock.ts';
import { parsedBig, parseUint64 } from './ascii-numbers.ts';
import {
  F_ACTIVE,
  F_FETCHED,
  F_FREE,
  F_LINKED,
  F_SEG_MASK,
  F_SEG_SHIFT,
  F_STALE,
  F_TOKEN_SENT,
  HEADER_BYTES,
  itemTotalSize,
  META_CLASS_SHIFT,
  META_KEY_MASK,
  NIL,
  SEG_COLD,
  SEG_HOT,
  SEG_WARM,
  W_CAS_HI,
  W_CAS_LO,
  W_EXPTIME,
  W_FLAGS,
  W_HNEXT,
  W_META,
  W_NBYTES,
  W_NEXT,
  W_PREV,
  W_TIME,
} from './item-layout.ts';
import { murmur3View } from './key-hash.ts';
import { classForSize, computeSlabClasses } from './slab-classes.ts';
import { SlabMemory } from './slab-memory.ts';
import { ClassStats, GlobalStats } from './store-stats.ts';

/** memcached's REALTIME_MAXDELTA: expiry values above 30 days are Unix times. */
export const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;

export const STORED = 0;
export const NOT_STORED = 1;
export const EXISTS = 2;
export const NOT_FOUND = 3;
export const TOO_LARGE = 4;
export const NO_MEMORY = 5;

export const MODE_SET = 0;
export const MODE_ADD = 1;
export const MODE_REPLACE = 2;
export const MODE_APPEND = 3;
export const MODE_PREPEND = 4;
export const MODE_CAS = 5;

/** alloc() failures (refs are >= 0). */
export const ALLOC_TOO_LARGE = -2;
export const ALLOC_NO_MEMORY = -3;

export const DELTA_OK = 0;
export const DELTA_NON_NUMERIC = 1;
export const DELTA_EOM = 2;
export const DELTA_NOT_FOUND = 3;
export const DELTA_CAS_MISMATCH = 4;

const TWO_32 = 4294967296;
const U64_MASK = (1n << 64n) - 1n;

export interface ItemStoreOptions {
  /** Bytes of item memory (pages) allowed. */
  memoryLimit: number;
  /** Largest item (header + key + value), memcached's -I. */
  itemSizeMax: number;
  growthFactor?: number;
  /** memcached's -n: key + value room of the smallest class. */
  chunkSize?: number;
  clock: Clock;
  /** Seed of the key hash (random in production, fixed in tests). */
  hashSeed?: number;
  /** false = memcached -M: refuse stores instead of evicting. */
  evictions?: boolean;
  /** false = memcached -C. */
  casEnabled?: boolean;
  hotLruPct?: number;
  warmLruPct?: number;
  hotMaxFactor?: number;
  warmMaxFactor?: number;
  hashPowerInit?: number;
}

/** Page size: 1 MiB as memcached, or the next power of two holding the largest item. */
export function pageSizeFor(itemSizeMax: number): number {
  let size = 1024 * 1024;
  while (size < itemSizeMax) size *= 2;
  return size;
}

/** Old buckets moved to the doubled hash table per link while it expands. */
const EXPAND_BUCKETS_PER_LINK = 16;

/**
 * The cache: slab memory, a hash table of refs, and a segmented LRU (HOT, WARM,
 * COLD per slab class, as memcached's "modern" LRU), with memcached's expiry,
 * flush and CAS rules. Pure: time comes from the injected clock (refreshTime),
 * no I/O and no timers; the server calls maintain() and crawl() on a timer.
 *
 * Items are refs (see SlabMemory). A ref from get()/alloc() stays valid until
 * the next call that may allocate (alloc, storeItem, addDelta, vivify); pin()
 * protects one ref across such a call.
 */
export class ItemStore {
  readonly mem: SlabMemory;
  readonly stats = new GlobalStats();
  readonly classStats: ClassStats;
  readonly itemSizeMax: number;
  readonly growthFactor: number;
  readonly chunkSize: number;
  evictions: boolean;
  casEnabled: boolean;
  hotLruPct: number;
  warmLruPct: number;
  hotMaxFactor: number;
  warmMaxFactor: number;
  memoryLimit: number;
  /** Unix seconds at server-relative time 0. */
  readonly processStarted: number;
  /** Server-relative seconds (memcached's current_time). */
  currentTime = 2;
  /** flush_all state (memcached's settings.oldest_live / oldest_cas). */
  oldestLive = 0;
  oldestCas = 0;
  /** Request inputs of storeItem (set before the call, so no per-call objects). */
  reqCasLo = 0;
  reqCasHi = 0;
  newCasLo = 0;
  newCasHi = 0;
  hasNewCas = false;
  /** ms with I: a lower CAS may replace the item, marking it stale. */
  allowStaleSet = false;
  /** Outputs: CAS of the last stored item, the delta result. */
  lastCasLo = 0;
  lastCasHi = 0;
  deltaResult = 0n;
  deltaRef = NIL;
  /** Item count and bytes of linked items. */
  currItems = 0;
  currBytes = 0;

  readonly #clock: Clock;
  readonly #monoStart: number;
  readonly #seed: number;
  #buckets: Int32Array;
  #hashMask: number;
  hashPower: number;
  /**
   * While the table doubles: the previous table, whose buckets below #expandBucket
   * have moved to #buckets (memcached's expansion, done a few buckets per link
   * instead of in a thread, so no request waits for a whole rehash).
   */
  #oldBuckets: Int32Array | undefined;
  #oldMask = 0;
  #expandBucket = 0;
  /** LRU heads/tails/sizes per (class, segment). */
  readonly #heads: Int32Array;
  readonly #tails: Int32Array;
  readonly lruSizes: Int32Array;
  #casCounter = 0;
  #pinned = NIL;
  /** Crawler position: page and chunk. */
  #crawlPage = 0;
  #crawlChunk = 0;
  /**
   * Whether a crawl can find anything: some item may carry an expiry, or a
   * flush is pending. Cleared by a full sweep that saw neither (memcached's
   * crawler likewise backs off when it finds nothing to reclaim).
   */
  #crawlWanted = false;
  /** An expiry was set or a flush ran since the current sweep started. */
  #expiryNoted = false;
  /** The current sweep saw a linked item with an expiry. */
  #sweepSawExpiry = false;
  #sweepStartTime = 0;
  /** A DataView of the last buffer keys came from (requests mostly come from one read buffer). */
  #keySource: Uint8Array | undefined;
  #keyView: DataView | undefined;

  constructor(options: ItemStoreOptions) {
    this.#clock = options.clock;
    this.#monoStart = options.clock.now();
    this.processStarted = Math.floor(options.clock.wallNow() / 1000) - 2;
    this.itemSizeMax = options.itemSizeMax;
    this.growthFactor = options.growthFactor ?? 1.25;
    this.chunkSize = options.chunkSize ?? 48;
    this.memoryLimit = options.memoryLimit;
    const classes = computeSlabClasses(pageSizeFor(options.itemSizeMax), this.growthFactor, this.chunkSize);
    this.mem = new SlabMemory(classes, options.memoryLimit);
    this.classStats = new ClassStats(classes.chunkSizes.length);
    this.#seed = options.hashSeed ?? 0x9747b28c;
    this.evictions = options.evictions ?? true;
    this.casEnabled = options.casEnabled ?? true;
    this.hotLruPct = options.hotLruPct ?? 20;
    this.warmLruPct = options.warmLruPct ?? 40;
    this.hotMaxFactor = options.hotMaxFactor ?? 0.2;
    this.warmMaxFactor = options.warmMaxFactor ?? 2.0;
    this.hashPower = options.hashPowerInit ?? 16;
    this.#buckets = new Int32Array(1 << this.hashPower).fill(NIL);
    this.#hashMask = (1 << this.hashPower) - 1;
    const lists = classes.chunkSizes.length * 3;
    this.#heads = new Int32Array(lists).fill(NIL);
    this.#tails = new Int32Array(lists).fill(NIL);
    this.lruSizes = new Int32Array(lists);
  }

  // --- time ---------------------------------------------------------------

  /** Reads the clock (once per batch of requests: time has one-second granularity). */
  refreshTime(): void {
    this.currentTime = 2 + Math.floor((this.#clock.now() - this.#monoStart) / 1000);
  }

  /** Unix time now, as memcached's `time` stat. */
  get unixTime(): number {
    return this.processStarted + this.currentTime;
  }

  /** memcached's realtime(): client exptime → server-relative expiry (0 = never, 1 = already expired). */
  realtime(exptime: number): number {
    if (exptime === 0) return 0;
    if (exptime < 0) return 1;
    if (exptime > REALTIME_MAXDELTA) {
      if (exptime <= this.processStarted) return 1;
      return exptime - this.processStarted;
    }
    return exptime + this.currentTime;
  }

  // --- item fields ----------------------------------------------------------

  #w(ref: number): Int32Array {
    return this.mem.words[ref >>> this.mem.unitShift]!;
  }

  #at(ref: number): number {
    return (ref & this.mem.unitMask) << 1;
  }

  word(ref: number, field: number): number {
    return this.mem.words[ref >>> this.mem.unitShift]![((ref & this.mem.unitMask) << 1) + field]!;
  }

  setWord(ref: number, field: number, value: number): void {
    this.mem.words[ref >>> this.mem.unitShift]![((ref & this.mem.unitMask) << 1) + field] = value;
  }

  keyLength(ref: number): number {
    return this.word(ref, W_META) & META_KEY_MASK;
  }

  valueLength(ref: number): number {
    return this.word(ref, W_NBYTES);
  }

  clientFlags(ref: number): number {
    return this.word(ref, W_FLAGS) >>> 0;
  }

  exptime(ref: number): number {
    return this.word(ref, W_EXPTIME);
  }

  accessTime(ref: number): number {
    return this.word(ref, W_TIME);
  }

  casLo(ref: number): number {
    return this.word(ref, W_CAS_LO) >>> 0;
  }

  casHi(ref: number): number {
    return this.word(ref, W_CAS_HI) >>> 0;
  }

  itemFlags(ref: number): number {
    return this.word(ref, W_META);
  }

  setItemFlag(ref: number, flag: number, on: boolean): void {
    const meta = this.word(ref, W_META);
    this.setWord(ref, W_META, on ? meta | flag : meta & ~flag);
  }

  slabClass(ref: number): number {
    return (this.word(ref, W_META) >>> META_CLASS_SHIFT) & 0xff;
  }

  /** The page holding the item, and where its key and value start in it. */
  page(ref: number): Buffer {
    return this.mem.bytes[ref >>> this.mem.unitShift]!;
  }

  keyOffset(ref: number): number {
    return ((ref & this.mem.unitMask) << 3) + HEADER_BYTES;
  }

  valueOffset(ref: number): number {
    return ((ref & this.mem.unitMask) << 3) + HEADER_BYTES + (this.word(ref, W_META) & META_KEY_MASK);
  }

  totalSize(ref: number): number {
    return itemTotalSize(this.keyLength(ref), this.valueLength(ref));
  }

  setExptime(ref: number, exptime: number): void {
    if (exptime !== 0) this.#noteExpiry();
    this.setWord(ref, W_EXPTIME, exptime);
  }

  /** Something may expire (or be flushed): the crawler has work again. */
  #noteExpiry(): void {
    this.#crawlWanted = true;
    this.#expiryNoted = true;
  }

  /** Whether crawl() can reclaim anything (the server skips it otherwise). */
  get crawlWanted(): boolean {
    return this.#crawlWanted;
  }

  setClientFlags(ref: number, flags: number): void {
    this.setWord(ref, W_FLAGS, flags | 0);
  }

  /** Sets a new CAS on a linked item (touch-like changes that memcached versions bump). */
  bumpCas(ref: number): void {
    this.#assignCas(ref);
  }

  /** Protects one ref from eviction during the next allocation. */
  pin(ref: number): void {
    this.#pinned = ref;
  }

  unpin(): void {
    this.#pinned = NIL;
  }

  // --- hash table -------------------------------------------------------------

  hashKey(key: Uint8Array, start: number, length: number): number {
    return murmur3View(this.#viewOf(key), start, length, this.#seed);
  }

  /** The hash of a stored item's key. */
  #itemHash(ref: number): number {
    const view = this.mem.views[ref >>> this.mem.unitShift]!;
    return murmur3View(view, this.keyOffset(ref), this.keyLength(ref), this.#seed);
  }

  #viewOf(key: Uint8Array): DataView {
    if (key === this.#keySource) return this.#keyView!;
    const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
    this.#keySource = key;
    this.#keyView = view;
    return view;
  }

  /** The linked item with this key, valid or not (no expiry check). */
  lookup(key: Uint8Array, start: number, length: number, hv: number): number {
    const old = this.#oldBuckets;
    let ref =
      old !== undefined && (hv & this.#oldMask) >= this.#expandBucket
        ? old[hv & this.#oldMask]!
        : this.#buckets[hv & this.#hashMask]!;
    if (ref === NIL) return NIL;
    const shift = this.mem.unitShift;
    const mask = this.mem.unitMask;
    const kv = this.#viewOf(key);
    const words4 = length & ~3;
    while (ref !== NIL) {
      const w = this.mem.words[ref >>> shift]!;
      const at = (ref & mask) << 1;
      if ((w[at + W_META]! & META_KEY_MASK) === length) {
        // Compared a word at a time, then the last 0-3 bytes.
        const pv = this.mem.views[ref >>> shift]!;
        const off = ((ref & mask) << 3) + HEADER_BYTES;
        let i = 0;
        while (i < words4 && pv.getInt32(off + i, true) === kv.getInt32(start + i, true)) i += 4;
        if (i >= words4) {
          while (i < length && pv.getUint8(off + i) === kv.getUint8(start + i)) i++;
          if (i === length) return ref;
        }
      }
      ref = w[at + W_HNEXT]!;
    }
    return NIL;
  }

  /** The table holding hv's bucket: the old one for buckets not moved yet. */
  #tableOf(hv: number): Int32Array {
    const old = this.#oldBuckets;
    return old !== undefined && (hv & this.#oldMask) >= this.#expandBucket ? old : this.#buckets;
  }

  #hashInsert(ref: number, hv: number): void {
    const table = this.#tableOf(hv);
    const b = hv & (table.length - 1);
    this.setWord(ref, W_HNEXT, table[b]!);
    table[b] = ref;
  }

  #hashRemove(ref: number): void {
    const hv = this.#itemHash(ref);
    const table = this.#tableOf(hv);
    const b = hv & (table.length - 1);
    let cur = table[b]!;
    if (cur === ref) {
      table[b] = this.word(ref, W_HNEXT);
      return;
    }
    while (cur !== NIL) {
      const next = this.word(cur, W_HNEXT);
      if (next === ref) {
        this.setWord(cur, W_HNEXT, this.word(ref, W_HNEXT));
        return;
      }
      cur = next;
    }
  }

  /**
   * Doubles the table when it holds 1.5 items per bucket (memcached's threshold),
   * then moves EXPAND_BUCKETS_PER_LINK old buckets per link: the next doubling is
   * at least 1.5 × (old size) links away, so each expansion ends long before it.
   */
  #maybeExpand(): void {
    if (this.#oldBuckets !== undefined) {
      this.#expandStep(EXPAND_BUCKETS_PER_LINK);
      return;
    }
    if (this.currItems <= (this.#buckets.length * 3) / 2 || this.hashPower >= 30) return;
    this.#oldBuckets = this.#buckets;
    this.#oldMask = this.#hashMask;
    this.#expandBucket = 0;
    this.hashPower++;
    this.#buckets = new Int32Array(1 << this.hashPower).fill(NIL);
    this.#hashMask = (1 << this.hashPower) - 1;
    this.#expandStep(EXPAND_BUCKETS_PER_LINK);
  }

  #expandStep(buckets: number): void {
    const old = this.#oldBuckets!;
    const end = Math.min(old.length, this.#expandBucket + buckets);
    for (let b = this.#expandBucket; b < end; b++) {
      let ref = old[b]!;
      old[b] = NIL;
      while (ref !== NIL) {
        const next = this.word(ref, W_HNEXT);
        const nb = this.#itemHash(ref) & this.#hashMask;
        this.setWord(ref, W_HNEXT, this.#buckets[nb]!);
        this.#buckets[nb] = ref;
        ref = next;
      }
    }
    this.#expandBucket = end;
    if (end === old.length) this.#oldBuckets = undefined;
  }

  /** memcached's hash_is_expanding. */
  get hashExpanding(): boolean {
    return this.#oldBuckets !== undefined;
  }

  get hashBytes(): number {
    return (this.#buckets.length + (this.#oldBuckets?.length ?? 0)) * 4;
  }

  // --- LRU lists ----------------------------------------------------------------

  #lruLink(ref: number, seg: number): void {
    const cls = this.slabClass(ref);
    const list = cls * 3 + seg;
    const head = this.#heads[list]!;
    const w = this.#w(ref);
    const at = this.#at(ref);
    w[at + W_PREV] = NIL;
    w[at + W_NEXT] = head;
    w[at + W_META] = (w[at + W_META]! & ~F_SEG_MASK) | (seg << F_SEG_SHIFT);
    if (head !== NIL) this.setWord(head, W_PREV, ref);
    this.#heads[list] = ref;
    if (this.#tails[list] === NIL) this.#tails[list] = ref;
    this.lruSizes[list]!++;
  }

  #lruUnlink(ref: number): void {
    const w = this.#w(ref);
    const at = this.#at(ref);
    const meta = w[at + W_META]!;
    const list = ((meta >>> META_CLASS_SHIFT) & 0xff) * 3 + ((meta & F_SEG_MASK) >>> F_SEG_SHIFT);
    const prev = w[at + W_PREV]!;
    const next = w[at + W_NEXT]!;
    if (prev === NIL) this.#heads[list] = next;
    else this.setWord(prev, W_NEXT, next);
    if (next === NIL) this.#tails[list] = prev;
    else this.setWord(next, W_PREV, prev);
    this.lruSizes[list]!--;
  }

  segmentOf(ref: number): number {
    return (this.itemFlags(ref) & F_SEG_MASK) >>> F_SEG_SHIFT;
  }

  lruTail(cls: number, seg: number): number {
    return this.#tails[cls * 3 + seg]!;
  }

  lruHead(cls: number, seg: number): number {
    return this.#heads[cls * 3 + seg]!;
  }

  lruNext(ref: number): number {
    return this.word(ref, W_NEXT);
  }

  lruPrev(ref: number): number {
    return this.word(ref, W_PREV);
  }

  // --- validity -------------------------------------------------------------------

  isExpired(ref: number): boolean {
    const exp = this.word(ref, W_EXPTIME);
    return exp !== 0 && exp <= this.currentTime;
  }

  /** memcached's item_is_flushed. */
  isFlushed(ref: number): boolean {
    const oldest = this.oldestLive;
    if (oldest === 0 || oldest > this.currentTime) return false;
    if (this.word(ref, W_TIME) <= oldest) return true;
    if (this.oldestCas !== 0) {
      const cas = this.casLo(ref) + this.casHi(ref) * TWO_32;
      if (cas !== 0 && cas < this.oldestCas) return true;
    }
    return false;
  }

  // --- lookups ---------------------------------------------------------------------

  /**
   * memcached's do_item_get: the live item or NIL. Expired and flushed items are
   * unlinked on sight; `bump` marks the access (FETCHED, ACTIVE, WARM promotion).
   */
  get(key: Uint8Array, start: number, length: number, bump: boolean): number {
    const ref = this.lookup(key, start, length, this.hashKey(key, start, length));
    if (ref === NIL) return NIL;
    if (this.isFlushed(ref)) {
      this.unlink(ref);
      this.stats.getFlushed++;
      return NIL;
    }
    if (this.isExpired(ref)) {
      this.unlink(ref);
      this.stats.getExpired++;
      return NIL;
    }
    if (bump) this.bump(ref);
    return ref;
  }

  /**
   * Marks an access: first hit sets FETCHED, the second ACTIVE. An active item in
   * COLD goes back to WARM at once (memcached does this asynchronously); HOT and
   * WARM items only get flags, so reads do not relink lists.
   */
  bump(ref: number): void {
    const w = this.#w(ref);
    const at = this.#at(ref);
    const meta = w[at + W_META]!;
    const cls = (meta >>> META_CLASS_SHIFT) & 0xff;
    const seg = (meta & F_SEG_MASK) >>> F_SEG_SHIFT;
    if (seg === SEG_HOT) this.classStats.hitsToHot[cls]!++;
    else if (seg === SEG_WARM) this.classStats.hitsToWarm[cls]!++;
    else this.classStats.hitsToCold[cls]!++;
    w[at + W_TIME] = this.currentTime;
    if ((meta & F_ACTIVE) !== 0) return;
    if ((meta & F_FETCHED) === 0) {
      w[at + W_META] = meta | F_FETCHED;
      return;
    }
    w[at + W_META] = meta | F_ACTIVE;
    if (seg === SEG_COLD) {
      this.#lruUnlink(ref);
      this.setItemFlag(ref, F_ACTIVE, false);
      this.#lruLink(ref, SEG_WARM);
      this.classStats.movesToWarm[cls]!++;
    }
  }

  // --- allocation --------------------------------------------------------------------

  /** Whether an item of this key and value length fits the item size limit. */
  sizeOk(keyLength: number, valueLength: number): boolean {
    const total = itemTotalSize(keyLength, valueLength);
    return total <= this.itemSizeMax && classForSize(this.mem.classes, total) >= 0;
  }

  /**
   * memcached's item_alloc: a chunk for the item, header and key filled in, not
   * linked. Evicts from the class's COLD tail when memory is full. Returns a ref
   * or ALLOC_TOO_LARGE / ALLOC_NO_MEMORY.
   */
  alloc(
    key: Uint8Array,
    keyStart: number,
    keyLength: number,
    clientFlags: number,
    exptime: number,
    valueLength: number,
  ): number {
    const total = itemTotalSize(keyLength, valueLength);
    if (total > this.itemSizeMax) return ALLOC_TOO_LARGE;
    const cls = classForSize(this.mem.classes, total);
    if (cls < 0) return ALLOC_TOO_LARGE;
    let ref = this.mem.alloc(cls);
    let tries = 0;
    while (ref === NIL && tries < 10) {
      tries++;
      if (this.#pullTail(cls, SEG_COLD, true) <= 0) {
        if (this.#pullTail(cls, SEG_HOT, false) <= 0 && this.#pullTail(cls, SEG_WARM, false) <= 0) break;
      }
      ref = this.mem.alloc(cls);
    }
    if (tries > 0) this.classStats.directReclaims[cls]! += tries;
    if (ref === NIL) {
      this.classStats.outOfMemory[cls]!++;
      return ALLOC_NO_MEMORY;
    }
    const w = this.#w(ref);
    const at = this.#at(ref);
    w[at + W_HNEXT] = NIL;
    w[at + W_PREV] = NIL;
    w[at + W_NEXT] = NIL;
    w[at + W_NBYTES] = valueLength;
    if (exptime !== 0) this.#noteExpiry();
    w[at + W_EXPTIME] = exptime;
    w[at + W_TIME] = this.currentTime;
    w[at + W_FLAGS] = clientFlags | 0;
    w[at + W_CAS_LO] = 0;
    w[at + W_CAS_HI] = 0;
    w[at + W_META] = keyLength | (cls << META_CLASS_SHIFT);
    const page = this.page(ref);
    const keyOff = this.keyOffset(ref);
    if (keyLength > 0) page.set(key.subarray(keyStart, keyStart + keyLength), keyOff);
    // The trailing CRLF is written by the filler (protocols copy value+CRLF or write it).
    return ref;
  }

  /** Frees an allocated item that was never linked (failed or abandoned store). */
  release(ref: number): void {
    if ((this.itemFlags(ref) & (F_LINKED | F_FREE)) === 0) this.mem.free(ref);
  }

  /** Writes the CRLF after the value (binary and internal stores do not receive one). */
  terminateValue(ref: number): void {
    const page = this.page(ref);
    const end = this.valueOffset(ref) + this.valueLength(ref);
    page[end] = 13;
    page[end + 1] = 10;
  }

  /** True when the two bytes after the value are CRLF (text protocol data check). */
  hasValueTerminator(ref: number): boolean {
    const page = this.page(ref);
    const end = this.valueOffset(ref) + this.valueLength(ref);
    return page[end] === 13 && page[end + 1] === 10;
  }

  // --- link / unlink -------------------------------------------------------------------

  #nextCas(): number {
    return ++this.#casCounter;
  }

  /** The CAS counter's last value (flush_all takes one, as memcached's get_cas_id). */
  takeCasId(): number {
    return this.#nextCas();
  }

  #assignCas(ref: number): void {
    if (this.hasNewCas) {
      this.setWord(ref, W_CAS_LO, this.newCasLo | 0);
      this.setWord(ref, W_CAS_HI, this.newCasHi | 0);
      return;
    }
    const cas = this.casEnabled ? this.#nextCas() : 0;
    this.setWord(ref, W_CAS_LO, (cas % TWO_32) | 0);
    this.setWord(ref, W_CAS_HI, Math.floor(cas / TWO_32) | 0);
  }

  /** memcached's do_item_link: into the hash table and HOT, with a fresh CAS. */
  link(ref: number): void {
    const hv = this.#itemHash(ref);
    this.setItemFlag(ref, F_LINKED, true);
    this.setWord(ref, W_TIME, this.currentTime);
    this.#assignCas(ref);
    this.#hashInsert(ref, hv);
    this.#lruLink(ref, SEG_HOT);
    this.currItems++;
    const size = this.totalSize(ref);
    this.currBytes += size;
    this.classStats.memRequested[this.slabClass(ref)]! += size;
    this.stats.totalItems++;
    this.#maybeExpand();
    // Keep HOT and WARM within their shares as items arrive (memcached's maintainer does it in the background).
    const cls = this.slabClass(ref);
    this.#pullTail(cls, SEG_HOT, false);
    this.#pullTail(cls, SEG_WARM, false);
  }

  /** memcached's do_item_unlink + free: out of the hash table and LRU, chunk back to its class. */
  unlink(ref: number): void {
    if ((this.itemFlags(ref) & F_LINKED) === 0) return;
    this.#hashRemove(ref);
    this.#lruUnlink(ref);
    this.setItemFlag(ref, F_LINKED, false);
    this.currItems--;
    const size = this.totalSize(ref);
    this.currBytes -= size;
    this.classStats.memRequested[this.slabClass(ref)]! -= size;
    this.mem.free(ref);
  }

  #replace(oldRef: number, newRef: number): void {
    this.unlink(oldRef);
    this.link(newRef);
  }

  // --- store -------------------------------------------------------------------------------

  /**
   * memcached's do_store_item for a filled, unlinked item. Takes ownership: the
   * item is linked when stored and released otherwise. For MODE_CAS (and
   * append/prepend with a CAS) the compare value is reqCasLo/Hi.
   */
  storeItem(ref: number, mode: number): number {
    const page = this.page(ref);
    const keyOff = this.keyOffset(ref);
    const keyLen = this.keyLength(ref);
    const old = this.get(page, keyOff, keyLen, false);
    const cls = old === NIL ? 0 : this.slabClass(old);
    let result = NOT_STORED;
    let stored = NIL;
    this.classStats.setCmds[this.slabClass(ref)]!++;
    const hasReqCas = this.reqCasLo !== 0 || this.reqCasHi !== 0;
    if (old !== NIL && mode === MODE_ADD) {
      // add only adds a missing item, but promotes the existing one.
      this.bumpAccessTime(old);
    } else if (old === NIL && (mode === MODE_REPLACE || mode === MODE_APPEND || mode === MODE_PREPEND)) {
      // nothing to replace
    } else if (mode === MODE_CAS) {
      if (old === NIL) {
        result = NOT_FOUND;
        this.stats.casMisses++;
      } else if (this.casLo(old) === this.reqCasLo >>> 0 && this.casHi(old) === this.reqCasHi >>> 0) {
        this.classStats.casHits[cls]!++;
        this.#replace(old, ref);
        stored = ref;
        result = STORED;
      } else if (this.allowStaleSet && this.#casBelow(old)) {
        // ms with I: an older CAS still lands, marked stale, keeping the TTL and any win token.
        this.setExptime(ref, this.exptime(old));
        const sent = this.itemFlags(old) & F_TOKEN_SENT;
        this.#replace(old, ref);
        this.setItemFlag(ref, F_STALE | sent, true);
        stored = ref;
        result = STORED;
      } else {
        this.classStats.casBadval[cls]!++;
        result = EXISTS;
      }
    } else if (mode === MODE_APPEND || mode === MODE_PREPEND) {
      if (hasReqCas && (this.casLo(old) !== this.reqCasLo >>> 0 || this.casHi(old) !== this.reqCasHi >>> 0)) {
        result = EXISTS;
      } else {
        const combined = this.#combine(old, ref, mode === MODE_APPEND);
        if (combined < 0) {
          // memcached answers NOT_STORED when the combined item cannot be allocated.
          result = NOT_STORED;
        } else {
          this.release(ref);
          ref = combined;
          this.#replace(old, ref);
          stored = ref;
          result = STORED;
        }
      }
    } else {
      if (old !== NIL) this.#replace(old, ref);
      else this.link(ref);
      stored = ref;
      result = STORED;
    }
    if (stored === NIL) {
      this.release(ref);
    } else {
      this.lastCasLo = this.casLo(stored);
      this.lastCasHi = this.casHi(stored);
    }
    this.hasNewCas = false;
    this.allowStaleSet = false;
    return result;
  }

  /** reqCas < the item's CAS (64-bit compare). */
  #casBelow(ref: number): boolean {
    const hi = this.casHi(ref);
    const reqHi = this.reqCasHi >>> 0;
    return reqHi < hi || (reqHi === hi && this.reqCasLo >>> 0 < this.casLo(ref));
  }

  /** A new item holding old + new data (append) or new + old (prepend), old's flags and expiry. */
  #combine(old: number, add: number, append: boolean): number {
    const oldLen = this.valueLength(old);
    const addLen = this.valueLength(add);
    const page = this.page(old);
    this.pin(old);
    const ref = this.alloc(
      page,
      this.keyOffset(old),
      this.keyLength(old),
      this.word(old, W_FLAGS),
      this.exptime(old),
      oldLen + addLen,
    );
    this.unpin();
    if (ref < 0) return ref;
    const dst = this.page(ref);
    let at = this.valueOffset(ref);
    const first = append ? old : add;
    const second = append ? add : old;
    const firstPage = this.page(first);
    const firstOff = this.valueOffset(first);
    firstPage.copy(dst, at, firstOff, firstOff + this.valueLength(first));
    at += this.valueLength(first);
    const secondPage = this.page(second);
    const secondOff = this.valueOffset(second);
    secondPage.copy(dst, at, secondOff, secondOff + this.valueLength(second));
    this.terminateValue(ref);
    if ((this.itemFlags(old) & F_STALE) !== 0) this.setItemFlag(ref, F_STALE, true);
    return ref;
  }

  /** memcached's do_item_update: refresh the access time without other side effects. */
  bumpAccessTime(ref: number): void {
    this.setWord(ref, W_TIME, this.currentTime);
  }

  // --- delete, touch, arithmetic -----------------------------------------------------

  /** Deletes a live item; returns its class or -1 when missing. Counts delete hits/misses. */
  delete(key: Uint8Array, start: number, length: number): boolean {
    const ref = this.get(key, start, length, false);
    if (ref === NIL) {
      this.stats.deleteMisses++;
      return false;
    }
    this.classStats.deleteHits[this.slabClass(ref)]!++;
    this.unlink(ref);
    return true;
  }

  /** memcached's item_touch: get with LRU bump, then a new expiry. */
  touch(key: Uint8Array, start: number, length: number, exptime: number): number {
    const ref = this.get(key, start, length, true);
    if (ref !== NIL) this.setExptime(ref, exptime);
    return ref;
  }

  /**
   * memcached's do_add_delta: unsigned 64-bit incr (wraps) or decr (stops at 0).
   * The result is in deltaResult, the item in deltaRef. A result no longer than
   * the stored text is written in place, space-padded, as memcached does.
   */
  addDelta(
    key: Uint8Array,
    start: number,
    length: number,
    incr: boolean,
    delta: bigint,
    checkCas: boolean,
  ): number {
    this.deltaRef = NIL;
    const ref = this.get(key, start, length, false);
    if (ref === NIL) return DELTA_NOT_FOUND;
    if (checkCas && (this.casLo(ref) !== this.reqCasLo >>> 0 || this.casHi(ref) !== this.reqCasHi >>> 0))
      return DELTA_CAS_MISMATCH;
    const nbytes = this.valueLength(ref);
    if (nbytes === 0) return DELTA_NON_NUMERIC;
    const value = parseStoredNumber(this.page(ref), this.valueOffset(ref), nbytes);
    if (value < 0n) return DELTA_NON_NUMERIC;
    const cls = this.slabClass(ref);
    let result: bigint;
    if (incr) {
      result = (value + delta) & U64_MASK;
      this.classStats.incrHits[cls]!++;
    } else {
      result = delta > value ? 0n : value - delta;
      this.classStats.decrHits[cls]!++;
    }
    this.deltaResult = result;
    const text = result.toString();
    if (text.length <= nbytes) {
      const page = this.page(ref);
      const off = this.valueOffset(ref);
      page.write(text, off, 'latin1');
      page.fill(32, off + text.length, off + nbytes);
      this.#assignCas(ref);
      this.bumpAccessTime(ref);
      this.deltaRef = ref;
      return DELTA_OK;
    }
    this.pin(ref);
    const page = this.page(ref);
    const fresh = this.alloc(
      page,
      this.keyOffset(ref),
      this.keyLength(ref),
      this.word(ref, W_FLAGS),
      this.exptime(ref),
      text.length,
    );
    this.unpin();
    if (fresh < 0) return DELTA_EOM;
    this.page(fresh).write(text, this.valueOffset(fresh), 'latin1');
    this.terminateValue(fresh);
    this.#replace(ref, fresh);
    this.deltaRef = fresh;
    return DELTA_OK;
  }

  // --- flush ---------------------------------------------------------------------------

  /** memcached's flush_all [delay]: items older than now (or than the delay) become invisible. */
  flushAll(delay: number): void {
    this.#noteExpiry();
    const newOldest = delay > 0 ? this.realtime(delay) : this.currentTime;
    if (this.casEnabled) {
      this.oldestLive = newOldest - 1;
      if (this.oldestLive <= this.currentTime) this.oldestCas = this.takeCasId();
    } else {
      this.oldestLive = newOldest;
    }
  }

  // --- LRU maintenance -----------------------------------------------------------------

  /** Items of a class in all segments. */
  classItems(cls: number): number {
    return this.lruSizes[cls * 3]! + this.lruSizes[cls * 3 + 1]! + this.lruSizes[cls * 3 + 2]!;
  }

  /**
   * Chunks the class's pages hold: HOT and WARM are capped at a share of this (memcached
   * sizes them against the class's memory, so a small working set is not pushed out).
   */
  #classCapacity(cls: number): number {
    return this.mem.pagesOf[cls]! * this.mem.classes.perPage[cls]!;
  }

  /** Age in seconds of the tail of a segment (0 when empty). */
  tailAge(cls: number, seg: number): number {
    const tail = this.#tails[cls * 3 + seg]!;
    return tail === NIL ? 0 : this.currentTime - this.word(tail, W_TIME);
  }

  /**
   * memcached's lru_pull_tail for one item: reclaim an expired tail, move HOT/WARM
   * overflow down (active items up to WARM), or evict COLD's tail. Returns the
   * number of items freed (> 0) or moved (0 moved: nothing to do, < 0: nothing possible).
   */
  #pullTail(cls: number, seg: number, evict: boolean): number {
    const list = cls * 3 + seg;
    let search = this.#tails[list]!;
    const cs = this.classStats;
    // Look at up to five items from the tail, as memcached does, skipping a pinned one.
    for (let tries = 0; tries < 5 && search !== NIL; tries++) {
      if (search === this.#pinned) {
        search = this.word(search, W_PREV);
        continue;
      }
      const exp = this.word(search, W_EXPTIME);
      if ((exp !== 0 && exp < this.currentTime) || this.isFlushed(search)) {
        cs.reclaimed[cls]!++;
        if ((this.itemFlags(search) & F_FETCHED) === 0) cs.expiredUnfetched[cls]!++;
        this.unlink(search);
        return 1;
      }
      const meta = this.itemFlags(search);
      if (seg === SEG_HOT) {
        const limit = Math.floor((this.#classCapacity(cls) * this.hotLruPct) / 100);
        const coldAge = this.tailAge(cls, SEG_COLD);
        const tooOld =
          this.lruSizes[cls * 3 + SEG_COLD]! > 0 && this.tailAge(cls, SEG_HOT) > coldAge * this.hotMaxFactor;
        if (this.lruSizes[list]! <= limit && !tooOld) return 0;
        this.#lruUnlink(search);
        if ((meta & F_ACTIVE) !== 0) {
          this.setItemFlag(search, F_ACTIVE, false);
          this.#lruLink(search, SEG_WARM);
          cs.movesToWarm[cls]!++;
        } else {
          this.#lruLink(search, SEG_COLD);
          cs.movesToCold[cls]!++;
        }
        this.stats.lruMaintainerJuggles++;
        return 0;
      }
      if (seg === SEG_WARM) {
        const limit = Math.floor((this.#classCapacity(cls) * this.warmLruPct) / 100);
        const coldAge = this.tailAge(cls, SEG_COLD);
        const tooOld =
          this.lruSizes[cls * 3 + SEG_COLD]! > 0 &&
          this.tailAge(cls, SEG_WARM) > coldAge * this.warmMaxFactor;
        if (this.lruSizes[list]! <= limit && !tooOld) return 0;
        this.#lruUnlink(search);
        if ((meta & F_ACTIVE) !== 0) {
          this.setItemFlag(search, F_ACTIVE, false);
          this.#lruLink(search, SEG_WARM);
          cs.movesWithinLru[cls]!++;
        } else {
          this.#lruLink(search, SEG_COLD);
          cs.movesToCold[cls]!++;
        }
        this.stats.lruMaintainerJuggles++;
        return 0;
      }
      // COLD
      if (!evict) {
        if ((meta & F_ACTIVE) === 0) return 0;
        this.#lruUnlink(search);
        this.setItemFlag(search, F_ACTIVE, false);
        this.#lruLink(search, SEG_WARM);
        cs.movesToWarm[cls]!++;
        return 0;
      }
      if (!this.evictions) return -1;
      cs.evicted[cls]!++;
      cs.evictedTime[cls] = this.currentTime - this.word(search, W_TIME);
      if (exp !== 0) cs.evictedNonzero[cls]!++;
      if ((meta & F_FETCHED) === 0) cs.evictedUnfetched[cls]!++;
      if ((meta & F_ACTIVE) !== 0) cs.evictedActive[cls]!++;
      this.unlink(search);
      return 1;
    }
    return -1;
  }

  /** Background juggling (memcached's LRU maintainer): bounded moves per class. */
  maintain(movesPerClass = 50): void {
    const n = this.mem.classes.chunkSizes.length;
    for (let cls = 0; cls < n; cls++) {
      if (this.classItems(cls) === 0) continue;
      for (let i = 0; i < movesPerClass; i++) {
        const hot = this.#pullTail(cls, SEG_HOT, false);
        const warm = this.#pullTail(cls, SEG_WARM, false);
        const cold = this.#pullTail(cls, SEG_COLD, false);
        if (hot < 0 && warm < 0 && cold < 0) break;
        if (hot === 0 && warm === 0 && cold === 0 && i > 0) break;
      }
    }
  }

  /**
   * memcached's LRU crawler: walks item memory page by page, reclaiming expired
   * and flushed items. Checks at most `budget` chunks per call; returns how many
   * it reclaimed.
   */
  crawl(budget: number): number {
    const mem = this.mem;
    if (mem.totalPages === 0) return 0;
    let reclaimed = 0;
    if (this.#crawlPage === 0 && this.#crawlChunk === 0) {
      this.stats.crawlerStarts++;
      this.#sweepSawExpiry = false;
      this.#expiryNoted = false;
      this.#sweepStartTime = this.currentTime;
    }
    for (let n = 0; n < budget; n++) {
      if (this.#crawlPage >= mem.totalPages) {
        this.#crawlPage = 0;
        this.#crawlChunk = 0;
        // A whole sweep found nothing that can still expire, and no flush is pending.
        const flushPending = this.oldestLive !== 0 && this.oldestLive >= this.#sweepStartTime;
        if (!this.#sweepSawExpiry && !this.#expiryNoted && !flushPending) this.#crawlWanted = false;
        break;
      }
      const page = this.#crawlPage;
      const chunk = this.#crawlChunk;
      if (chunk + 1 >= mem.chunkCount(page)) {
        this.#crawlPage++;
        this.#crawlChunk = 0;
      } else {
        this.#crawlChunk++;
      }
      if (!mem.isCut(page, chunk)) continue;
      const ref = mem.refAt(page, chunk);
      const meta = this.itemFlags(ref);
      if ((meta & F_LINKED) === 0) continue;
      const cls = this.slabClass(ref);
      this.classStats.crawlerItemsChecked[cls]!++;
      if (this.isExpired(ref) || this.isFlushed(ref)) {
        this.classStats.crawlerReclaimed[cls]!++;
        if ((meta & F_FETCHED) === 0) this.classStats.expiredUnfetched[cls]!++;
        this.unlink(ref);
        reclaimed++;
      } else if (this.exptime(ref) !== 0) {
        this.#sweepSawExpiry = true;
      }
    }
    return reclaimed;
  }

  /** cache_memlimit: a new page budget (pages already in use stay with their class). */
  setMemoryLimit(bytes: number): void {
    this.memoryLimit = bytes;
    this.mem.maxPages = this.mem.pagesFor(bytes);
  }

  /** `stats reset`. */
  resetStats(): void {
    const totalItems = this.stats.totalItems;
    Object.assign(this.stats, new GlobalStats());
    this.stats.totalItems = totalItems;
    this.classStats.reset();
  }

  /** Clears the win/stale flags (a fresh store replaces them anyway; kept for md I). */
  markStale(ref: number): void {
    const meta = this.itemFlags(ref);
    this.setWord(ref, W_META, (meta | F_STALE) & ~F_TOKEN_SENT);
  }
}

/**
 * memcached's safe_strtoull over a stored value followed by CRLF: leading
 * whitespace, digits, then whitespace or the end. Returns -1n when not a number
 * (or above 2^64-1, or a negative number).
 */
export function parseStoredNumber(buf: Uint8Array, start: number, length: number): bigint {
  return parseUint64(buf, start, start + length) ? parsedBig : -1n;
}
