/**
 * The method's run loop (docs/benchmarks.md): every target is measured `runs`
 * times, round by round, and each round visits the targets in an order rotated
 * by one, so slow drift on the machine hits every target alike.
 */

/** `list` rotated left by k (k may exceed the length): round k's visiting order. */
export function rotate<T>(list: readonly T[], k: number): T[] {
  const n = list.length;
  return list.map((_, i) => list[(i + k) % n]!);
}

/**
 * Calls `measure(target, run)` for runs 1..`runs`, round by round in rotated
 * order, and returns each target's results in run order. `stop` is asked before
 * each visit: once it says true, the results so far are returned.
 */
export async function interleavedRuns<T, R>(
  targets: readonly T[],
  runs: number,
  measure: (target: T, run: number) => Promise<R>,
  stop: () => boolean = () => false,
): Promise<Map<T, R[]>> {
  const results = new Map<T, R[]>(targets.map((t) => [t, []]));
  for (let run = 1; run <= runs; run++) {
    for (const target of rotate(targets, run - 1)) {
      if (stop()) return results;
      results.get(target)!.push(await measure(target, run));
    }
  }
  return results;
}

/** Runs `run` unmeasured for `warmupSec` (skipped when 0), then for `durationSec`: returns the measured result. */
export async function warmThenMeasure<R>(
  warmupSec: number,
  durationSec: number,
  run: (seconds: number) => Promise<R>,
): Promise<R> {
  if (warmupSec > 0) await run(warmupSec);
  return run(durationSec);
}
