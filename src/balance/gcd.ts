/** Greatest common divisor of two positive integers. */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** gcd of all positive values; 0 when there is none (as IPVS mh; wrr maps 0 to 1 itself). */
export function gcdOfPositive(values: Iterable<number>): number {
  let g = 0;
  for (const v of values) if (v > 0) g = g === 0 ? v : gcd(v, g);
  return g;
}
