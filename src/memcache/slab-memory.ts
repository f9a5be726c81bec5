import { HastackError } from '../core/errors.ts';
import { F_FREE, META_CLASS_SHIFT, NIL, W_HNEXT, W_META } from './item-layout.ts';
import type { SlabClassTable } from './slab-classes.ts';

/**
 * Slab memory: fixed-size pages, each given to one slab class and cut into
 * equal chunks. An item is addressed by a *ref*: page index and 8-byte unit
 * offset packed in one int32 (`page << unitShift | unit`), so links between
 * items are plain int32 words and nothing per item lives on the JS heap.
 *
 * Pages are allocated on demand until the memory limit, as memcached does without
 * `-L`; a page never goes back to the OS (it is reused by its class).
 */
export class SlabMemory {
  readonly classes: SlabClassTable;
  readonly pageSize: number;
  /** log2(pageSize / 8): bits of the in-page part of a ref. */
  readonly unitShift: number;
  readonly unitMask: number;
  /** Page bytes and the same memory as int32 words. */
  readonly bytes: Buffer[] = [];
  readonly words: Int32Array[] = [];
  /** The same memory as DataViews (keys are hashed and compared a word at a time). */
  readonly views: DataView[] = [];
  /** Slab class of each page. */
  readonly pageClass: number[] = [];
  /** Pages the memory limit allows. */
  maxPages: number;
  /** Per class: free list head (ref), free count, pages, and the part of the newest page not yet cut. */
  readonly freeHead: Int32Array;
  readonly freeCount: Float64Array;
  readonly pagesOf: Int32Array;
  readonly endRef: Int32Array;
  readonly endLeft: Int32Array;
  /** Chunks in use per class (linked or being filled). */
  readonly usedChunks: Float64Array;
  /** Pages ever allocated (bytes taken from the OS for item memory). */
  mallocFails = 0;

  constructor(classes: SlabClassTable, memoryLimit: number) {
    this.classes = classes;
    this.pageSize = classes.pageSize;
    this.unitShift = Math.log2(this.pageSize / 8);
    if (!Number.isInteger(this.unitShift))
      throw new HastackError(
        'HASTACK_MEMCACHED_PAGE_SIZE',
        `page size ${this.pageSize} is not a power of two`,
      );
    this.unitMask = (1 << this.unitShift) - 1;
    this.maxPages = this.pagesFor(memoryLimit);
    const n = classes.chunkSizes.length;
    this.freeHead = new Int32Array(n).fill(NIL);
    this.freeCount = new Float64Array(n);
    this.pagesOf = new Int32Array(n);
    this.endRef = new Int32Array(n).fill(NIL);
    this.endLeft = new Int32Array(n);
    this.usedChunks = new Float64Array(n);
  }

  /** Pages within a limit; refs are int32, so at most 2^31 8-byte units (16 GiB). */
  pagesFor(memoryLimit: number): number {
    const maxByRefs = 2 ** (31 - this.unitShift);
    return Math.max(1, Math.min(maxByRefs, Math.floor(memoryLimit / this.pageSize)));
  }

  get totalPages(): number {
    return this.bytes.length;
  }

  /** A chunk of class `cls`, or NIL when the class has no free chunk and no page is left. */
  alloc(cls: number): number {
    let ref = this.freeHead[cls]!;
    if (ref !== NIL) {
      const w = this.words[ref >>> this.unitShift]!;
      const at = (ref & this.unitMask) << 1;
      this.freeHead[cls] = w[at + W_HNEXT]!;
      this.freeCount[cls]!--;
      w[at + W_META] = cls << META_CLASS_SHIFT;
      this.usedChunks[cls]!++;
      return ref;
    }
    if (this.endLeft[cls] === 0 && !this.#newPage(cls)) return NIL;
    ref = this.endRef[cls]!;
    this.endLeft[cls]!--;
    this.endRef[cls] = this.endLeft[cls] === 0 ? NIL : ref + (this.classes.chunkSizes[cls]! >>> 3);
    const w = this.words[ref >>> this.unitShift]!;
    w[((ref & this.unitMask) << 1) + W_META] = cls << META_CLASS_SHIFT;
    this.usedChunks[cls]!++;
    return ref;
  }

  /** Returns a chunk to its class (the caller has unlinked it). */
  free(ref: number): void {
    const w = this.words[ref >>> this.unitShift]!;
    const at = (ref & this.unitMask) << 1;
    const cls = (w[at + W_META]! >>> META_CLASS_SHIFT) & 0xff;
    w[at + W_META] = (cls << META_CLASS_SHIFT) | F_FREE;
    w[at + W_HNEXT] = this.freeHead[cls]!;
    this.freeHead[cls] = ref;
    this.freeCount[cls]!++;
    this.usedChunks[cls]!--;
  }

  /** True when class `cls` can hand out a chunk without evicting. */
  hasFree(cls: number): boolean {
    return this.freeHead[cls] !== NIL || this.endLeft[cls]! > 0 || this.bytes.length < this.maxPages;
  }

  #newPage(cls: number): boolean {
    if (this.bytes.length >= this.maxPages) return false;
    let page: Buffer;
    try {
      page = Buffer.allocUnsafeSlow(this.pageSize);
    } catch {
      this.mallocFails++;
      return false;
    }
    const index = this.bytes.length;
    this.bytes.push(page);
    this.words.push(new Int32Array(page.buffer, page.byteOffset, this.pageSize >>> 2));
    this.views.push(new DataView(page.buffer, page.byteOffset, this.pageSize));
    this.pageClass.push(cls);
    this.pagesOf[cls]!++;
    this.endRef[cls] = index << this.unitShift;
    this.endLeft[cls] = this.classes.perPage[cls]!;
    return true;
  }

  /** Byte offset of a ref inside its page. */
  offsetOf(ref: number): number {
    return (ref & this.unitMask) << 3;
  }

  pageOf(ref: number): Buffer {
    return this.bytes[ref >>> this.unitShift]!;
  }

  /** Visits every chunk that was ever cut (for the crawler and stats). */
  chunkCount(page: number): number {
    const cls = this.pageClass[page]!;
    return this.classes.perPage[cls]!;
  }

  refAt(page: number, chunk: number): number {
    const cls = this.pageClass[page]!;
    return (page << this.unitShift) | ((chunk * this.classes.chunkSizes[cls]!) >>> 3);
  }

  /** Whether a chunk of a page was already cut from the page (a never-used tail is not). */
  isCut(page: number, chunk: number): boolean {
    const cls = this.pageClass[page]!;
    const ref = this.refAt(page, chunk);
    const end = this.endRef[cls]!;
    if (end === NIL || end >>> this.unitShift !== page) return true;
    return ref < end;
  }
}
