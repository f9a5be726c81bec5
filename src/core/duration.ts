import { HastackError } from './errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const BARE_NUMBER = /^\d+(?:\.\d+)?$/;
const COMPOUND = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Parses a duration into milliseconds. A bare number means seconds, as in
 * keepalived (`delay_loop 2`, `connect_timeout 0.5`); strings take a unit
 * suffix (`500ms`, `2s`, `1m`) or combine them (`1m30s`).
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw invalid(String(input));
    return Math.round(input * 1000);
  }
  const text = input.trim();
  if (BARE_NUMBER.test(text)) return Math.round(Number(text) * 1000);
  if (!COMPOUND.test(text)) throw invalid(input);
  let total = 0;
  for (const m of text.matchAll(PART)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Math.round(total);
}

function invalid(input: string): HastackError {
  return new HastackError(
    'HASTACK_DURATION_INVALID',
    `invalid duration "${input}" (use seconds or e.g. 500ms, 2s, 1m30s)`,
  );
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
