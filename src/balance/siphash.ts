/**
 * The Linux kernel's `hsiphash()` of one 32-bit word on 64-bit machines:
 * SipHash-1-3 with a 128-bit key, truncated to 32 bits (lib/siphash.c, where
 * "HalfSipHash" is SipHash-1-3 when BITS_PER_LONG is 64). IPVS mh hashes with it.
 *
 * JavaScript has no cheap 64-bit integers (BigInt allocates), so each 64-bit lane
 * is a pair of unsigned 32-bit halves kept in fields: hashing allocates nothing.
 */
export class SipHash13 {
  readonly #k0h: number;
  readonly #k0l: number;
  readonly #k1h: number;
  readonly #k1l: number;
  /**
   * v0..v3 as [v0h, v0l, v1h, v1l, v2h, v2l, v3h, v3l]. A typed array, because
   * storing numbers above 2^31 in object fields can box them on every write.
   */
  readonly #v = new Uint32Array(8);

  /** Key as two 64-bit words, each given as (high 32 bits, low 32 bits). */
  constructor(key0High: number, key0Low: number, key1High: number, key1Low: number) {
    this.#k0h = key0High >>> 0;
    this.#k0l = key0Low >>> 0;
    this.#k1h = key1High >>> 0;
    this.#k1l = key1Low >>> 0;
  }

  /**
   * hsiphash of the 4 little-endian bytes of `word` (`hsiphash(&u32, 4, key)`),
   * unsigned. `word` may be given signed or unsigned (only its 32 bits count);
   * hot paths pass it signed, so it is not boxed when the call is not inlined.
   */
  hashWord(word: number): number {
    return this.#hash(word) >>> 0;
  }

  /**
   * `hashWord(word) % modulus`. Hot paths use this: the result is a small integer,
   * which V8 returns without boxing even when the call is not inlined (an unsigned
   * 32-bit result above 2^31 may be boxed into a heap number on every call).
   */
  hashWordModulo(word: number, modulus: number): number {
    return (this.#hash(word) >>> 0) % modulus;
  }

  /** The hash as a signed 32-bit integer (same bits). */
  #hash(word: number): number {
    const v = this.#v;
    // "somepseudorandomlygeneratedbytes" xor key
    v[0] = 0x736f6d65 ^ this.#k0h;
    v[1] = 0x70736575 ^ this.#k0l;
    v[2] = 0x646f7261 ^ this.#k1h;
    v[3] = 0x6e646f6d ^ this.#k1l;
    v[4] = 0x6c796765 ^ this.#k0h;
    v[5] = 0x6e657261 ^ this.#k0l;
    v[6] = 0x74656462 ^ this.#k1h;
    v[7] = 0x79746573 ^ this.#k1l;
    // Final block b = (len << 56) | bytes; len = 4, no full 8-byte block before it.
    const bh = 0x04000000;
    const bl = word >>> 0;
    v[6] ^= bh;
    v[7] ^= bl;
    sipRound(v);
    v[0] ^= bh;
    v[1] ^= bl;
    v[5] ^= 0xff;
    sipRound(v);
    sipRound(v);
    sipRound(v);
    return v[1]! ^ v[3]! ^ v[5]! ^ v[7]!;
  }
}

/** One SIPROUND on the four 64-bit lanes held as (high, low) pairs in `v`. */
function sipRound(v: Uint32Array): void {
  let v0h = v[0]!;
  let v0l = v[1]!;
  let v1h = v[2]!;
  let v1l = v[3]!;
  let v2h = v[4]!;
  let v2l = v[5]!;
  let v3h = v[6]!;
  let v3l = v[7]!;
  let lo: number;
  let t: number;

  // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
  lo = v0l + v1l;
  v0h = (v0h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  v0l = lo >>> 0;
  t = ((v1h << 13) | (v1l >>> 19)) >>> 0;
  v1l = ((v1l << 13) | (v1h >>> 19)) >>> 0;
  v1h = (t ^ v0h) >>> 0;
  v1l = (v1l ^ v0l) >>> 0;
  t = v0h;
  v0h = v0l;
  v0l = t;

  // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
  lo = v2l + v3l;
  v2h = (v2h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  v2l = lo >>> 0;
  t = ((v3h << 16) | (v3l >>> 16)) >>> 0;
  v3l = ((v3l << 16) | (v3h >>> 16)) >>> 0;
  v3h = (t ^ v2h) >>> 0;
  v3l = (v3l ^ v2l) >>> 0;

  // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
  lo = v0l + v3l;
  v0h = (v0h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  v0l = lo >>> 0;
  t = ((v3h << 21) | (v3l >>> 11)) >>> 0;
  v3l = ((v3l << 21) | (v3h >>> 11)) >>> 0;
  v3h = (t ^ v0h) >>> 0;
  v3l = (v3l ^ v0l) >>> 0;

  // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
  lo = v2l + v1l;
  v2h = (v2h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  v2l = lo >>> 0;
  t = ((v1h << 17) | (v1l >>> 15)) >>> 0;
  v1l = ((v1l << 17) | (v1h >>> 15)) >>> 0;
  v1h = (t ^ v2h) >>> 0;
  v1l = (v1l ^ v2l) >>> 0;
  t = v2h;
  v2h = v2l;
  v2l = t;

  v[0] = v0h;
  v[1] = v0l;
  v[2] = v1h;
  v[3] = v1l;
  v[4] = v2h;
  v[5] = v2l;
  v[6] = v3h;
  v[7] = v3l;
}
