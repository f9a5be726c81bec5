/** Linux GOLDEN_RATIO_32 (include/linux/hash.h). */
const GOLDEN_RATIO_32 = 0x61c88647;
/** 2654435761, Knuth's multiplicative constant used by the older IPVS hashes. */
const KNUTH_32 = 0x9e3779b1;

/** Linux `hash_32(val, bits)`: the top `bits` bits of val·GOLDEN_RATIO_32 (used by sh). */
export function hash32(value: number, bits: number): number {
  return Math.imul(value, GOLDEN_RATIO_32) >>> (32 - bits);
}

/**
 * `(val * 2654435761) & mask` as IPVS dh computes it. Only the low bits of the
 * product are kept, so only the low bits of `value` matter: for IPv4 that is the
 * last octet. Kept as the kernel has it so dh maps addresses the same way.
 */
export function knuthLowBits(value: number, mask: number): number {
  return Math.imul(value, KNUTH_32) & mask;
}
