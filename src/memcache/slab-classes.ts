import { HEADER_BYTES } from './item-layout.ts';

/** memcached's MAX_NUMBER_OF_SLAB_CLASSES is 64 (63 usable, ids start at 1). */
export const MAX_SLAB_CLASSES = 63;
const ALIGN = 8;

export interface SlabClassTable {
  /** Chunk size of class i (index 0 is class id 1 in stats, as memcached counts from 1). */
  readonly chunkSizes: Int32Array;
  readonly perPage: Int32Array;
  readonly pageSize: number;
}

/**
 * Chunk sizes as memcached computes them: the first is header + `chunkSize`,
 * each next one `growthFactor` times larger (8-byte aligned), and the last class
 * takes a whole page so the largest allowed item always fits.
 */
export function computeSlabClasses(
  pageSize: number,
  growthFactor: number,
  chunkSize: number,
): SlabClassTable {
  const sizes: number[] = [];
  let size = align(HEADER_BYTES + chunkSize);
  while (sizes.length < MAX_SLAB_CLASSES - 1 && size <= pageSize / growthFactor) {
    sizes.push(size);
    const next = align(Math.floor(size * growthFactor));
    size = next > size ? next : size + ALIGN;
  }
  sizes.push(pageSize);
  const chunkSizes = Int32Array.from(sizes);
  const perPage = Int32Array.from(sizes, (s) => Math.floor(pageSize / s));
  return { chunkSizes, perPage, pageSize };
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** The smallest class whose chunks hold `total` bytes, or -1 when none does. */
export function classForSize(table: SlabClassTable, total: number): number {
  const sizes = table.chunkSizes;
  let lo = 0;
  let hi = sizes.length - 1;
  if (total > sizes[hi]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sizes[mid]! >= total) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
