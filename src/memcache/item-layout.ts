/*
 * Layout of one item inside a slab chunk, as 32-bit words (the chunk starts on an
 * 8-byte boundary). Keeping the header in the chunk itself, as memcached does,
 * makes the memory limit honest: a page holds headers, keys and values, nothing
 * lives beside it per item.
 *
 *   word 0  next item in the hash bucket chain (ref, -1 = none)
 *   word 1  previous item in its LRU list
 *   word 2  next item in its LRU list
 *   word 3  value length in bytes (without the trailing \r\n)
 *   word 4  expiry, server-relative seconds (0 = never)
 *   word 5  last access, server-relative seconds
 *   word 6  client flags (uint32)
 *   word 7  CAS, low 32 bits
 *   word 8  CAS, high 32 bits
 *   word 9  key length (bits 0-7), slab class (bits 8-15), item flags (bits 16-31)
 *   then the key bytes, the value bytes and "\r\n" (kept so a reply copies value+CRLF at once).
 */
export const HEADER_BYTES = 40;
export const HEADER_WORDS = 10;

export const W_HNEXT = 0;
export const W_PREV = 1;
export const W_NEXT = 2;
export const W_NBYTES = 3;
export const W_EXPTIME = 4;
export const W_TIME = 5;
export const W_FLAGS = 6;
export const W_CAS_LO = 7;
export const W_CAS_HI = 8;
export const W_META = 9;

/** No item (end of a chain or list). */
export const NIL = -1;

export const META_KEY_MASK = 0xff;
export const META_CLASS_SHIFT = 8;
export const META_CLASS_MASK = 0xff00;

/** In the hash table and an LRU list. */
export const F_LINKED = 1 << 16;
/** Fetched at least once since stored. */
export const F_FETCHED = 1 << 17;
/** Fetched twice: protected from the next trip to COLD. */
export const F_ACTIVE = 1 << 18;
/** LRU segment, two bits (HOT/WARM/COLD). */
export const F_SEG_SHIFT = 19;
export const F_SEG_MASK = 3 << 19;
/** Marked stale by `md k I`: served with X until recached. */
export const F_STALE = 1 << 21;
/** A client already got the W (win) flag for this item. */
export const F_TOKEN_SENT = 1 << 22;
/** Key was given base64-encoded: meta replies re-encode it. */
export const F_KEY_BINARY = 1 << 23;
/** Chunk is on its class's free list. */
export const F_FREE = 1 << 24;

export const SEG_HOT = 0;
export const SEG_WARM = 1;
export const SEG_COLD = 2;

/** memcached's KEY_MAX_LENGTH. */
export const KEY_MAX_LENGTH = 250;

/** Total chunk bytes an item needs. */
export function itemTotalSize(keyLength: number, valueLength: number): number {
  return HEADER_BYTES + keyLength + valueLength + 2;
}
