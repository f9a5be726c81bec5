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
  #v0h = 0;
  #v0l = 0;
  #v1h = 0;
  #v1l = 0;
  #v2h = 0;
  #v2l = 0;
  #v3h = 0;
  #v3l = 0;

  /** Key as two 64-bit words, each given as (high 32 bits, low 32 bits). */
  constructor(key0High: number, key0Low: number, key1High: number, key1Low: number) {
    this.#k0h = key0High >>> 0;
    this.#k0l = key0Low >>> 0;
    this.#k1h = key1High >>> 0;
    this.#k1l = key1Low >>> 0;
  }

  /** hsiphash of the 4 little-endian bytes of `word` (`hsiphash(&u32, 4, key)`). */
  hashWord(word: number): number {
    // "somepseudorandomlygeneratedbytes" xor key
    this.#v0h = (0x736f6d65 ^ this.#k0h) >>> 0;
    this.#v0l = (0x70736575 ^ this.#k0l) >>> 0;
    this.#v1h = (0x646f7261 ^ this.#k1h) >>> 0;
    this.#v1l = (0x6e646f6d ^ this.#k1l) >>> 0;
    this.#v2h = (0x6c796765 ^ this.#k0h) >>> 0;
    this.#v2l = (0x6e657261 ^ this.#k0l) >>> 0;
    this.#v3h = (0x74656462 ^ this.#k1h) >>> 0;
    this.#v3l = (0x79746573 ^ this.#k1l) >>> 0;
    // Final block b = (len << 56) | bytes; len = 4, no full 8-byte block before it.
    const bh = 0x04000000;
    const bl = word >>> 0;
    this.#v3h = (this.#v3h ^ bh) >>> 0;
    this.#v3l = (this.#v3l ^ bl) >>> 0;
    this.#round();
    this.#v0h = (this.#v0h ^ bh) >>> 0;
    this.#v0l = (this.#v0l ^ bl) >>> 0;
    this.#v2l = (this.#v2l ^ 0xff) >>> 0;
    this.#round();
    this.#round();
    this.#round();
    return (this.#v0l ^ this.#v1l ^ this.#v2l ^ this.#v3l) >>> 0;
  }

  /** One SIPROUND on the four 64-bit lanes. */
  #round(): void {
    let v0h = this.#v0h;
    let v0l = this.#v0l;
    let v1h = this.#v1h;
    let v1l = this.#v1l;
    let v2h = this.#v2h;
    let v2l = this.#v2l;
    let v3h = this.#v3h;
    let v3l = this.#v3l;
    let lo: number;
    let t: number;

    // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
    lo = v0l + v1l;
    v0h = (v0h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v0l = lo >>> 0;
    t = ((v1h << 13) | (v1l >>> 19)) >>> 0;
    v1l = ((v1l << 13) | (v1h >>> 19)) >>> 0;
    v1h = t;
    v1h = (v1h ^ v0h) >>> 0;
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
    v3h = t;
    v3h = (v3h ^ v2h) >>> 0;
    v3l = (v3l ^ v2l) >>> 0;

    // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
    lo = v0l + v3l;
    v0h = (v0h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v0l = lo >>> 0;
    t = ((v3h << 21) | (v3l >>> 11)) >>> 0;
    v3l = ((v3l << 21) | (v3h >>> 11)) >>> 0;
    v3h = t;
    v3h = (v3h ^ v0h) >>> 0;
    v3l = (v3l ^ v0l) >>> 0;

    // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    lo = v2l + v1l;
    v2h = (v2h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v2l = lo >>> 0;
    t = ((v1h << 17) | (v1l >>> 15)) >>> 0;
    v1l = ((v1l << 17) | (v1h >>> 15)) >>> 0;
    v1h = t;
    v1h = (v1h ^ v2h) >>> 0;
    v1l = (v1l ^ v2l) >>> 0;
    t = v2h;
    v2h = v2l;
    v2l = t;

    this.#v0h = v0h;
    this.#v0l = v0l;
    this.#v1h = v1h;
    this.#v1l = v1l;
    this.#v2h = v2h;
    this.#v2l = v2l;
    this.#v3h = v3h;
    this.#v3l = v3l;
  }
}
