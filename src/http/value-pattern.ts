import { HastackError } from '../core/errors.ts';

/*
 * nginx-style value patterns for route matching: "~regex" (case-sensitive),
 * "~*regex" (case-insensitive), anything else an exact string; `true` means
 * "present", `false` "absent". Pure.
 */

export type ValuePattern =
  | { kind: 'exact'; value: string }
  | { kind: 'regex'; regex: RegExp }
  | { kind: 'present'; present: boolean };

export function compileRegex(source: string, flags: string, what: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new HastackError(
      'HASTACK_HTTP_INVALID_REGEX',
      `invalid regular expression in ${what}: ${(err as Error).message}`,
    );
  }
}

export function compilePattern(raw: string | boolean, what: string): ValuePattern {
  if (typeof raw === 'boolean') return { kind: 'present', present: raw };
  if (raw.startsWith('~*')) return { kind: 'regex', regex: compileRegex(raw.slice(2), 'i', what) };
  if (raw.startsWith('~')) return { kind: 'regex', regex: compileRegex(raw.slice(1), '', what) };
  return { kind: 'exact', value: raw };
}

/** `value` is undefined when the field or parameter is absent. */
export function patternMatches(p: ValuePattern, value: string | undefined): boolean {
  switch (p.kind) {
    case 'present':
      return (value !== undefined) === p.present;
    case 'exact':
      return value === p.value;
    case 'regex':
      return value !== undefined && p.regex.test(value);
  }
}
