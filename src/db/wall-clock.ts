/** Wall-clock time in µs since the epoch, with sub-millisecond precision (commit timestamps, lag). */
export function wallMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
