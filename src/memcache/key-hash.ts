/**
 * MurmurHash3 (x86, 32-bit) over a byte range, seeded so that clients cannot
 * aim keys at one hash bucket. memcached hashes keys with murmur3 too.
 */
export function murmur3(buf: Uint8Array, start: number, length: number, seed: number): number {
  let h = seed | 0;
  const end4 = start + (length & ~3);
  let i = start;
  for (; i < end4; i += 4) {
    const k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    h ^= scramble(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail !== 0) {
    let k = 0;
    if (tail === 3) k ^= buf[i + 2]! << 16;
    if (tail >= 2) k ^= buf[i + 1]! << 8;
    k ^= buf[i]!;
    h ^= scramble(k);
  }
  return finalMix(h, length);
}

/**
 * The same hash reading four bytes at a time through a DataView (one load per
 * word instead of four): what the store uses on its hot path.
 */
export function murmur3View(view: DataView, start: number, length: number, seed: number): number {
  let h = seed | 0;
  const end4 = start + (length & ~3);
  let i = start;
  for (; i < end4; i += 4) {
    const k = view.getInt32(i, true);
    h ^= scramble(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail !== 0) {
    let k = 0;
    if (tail === 3) k ^= view.getUint8(i + 2) << 16;
    if (tail >= 2) k ^= view.getUint8(i + 1) << 8;
    k ^= view.getUint8(i);
    h ^= scramble(k);
  }
  return finalMix(h, length);
}

/** murmur3's per-block mixing of one 32-bit word (body and tail alike). */
function scramble(k: number): number {
  const m = Math.imul(k, 0xcc9e2d51);
  return Math.imul((m << 15) | (m >>> 17), 0x1b873593);
}

/** murmur3's finalization (fmix32 after folding in the length), as an unsigned 32-bit value. */
function finalMix(h: number, length: number): number {
  let x = h ^ length;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
