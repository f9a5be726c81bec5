import { isIP } from 'node:net';
import type { ConfigNode } from './block-parser.ts';
import { type Diagnostics, firstArg } from './convert-context.ts';

/*
 * keepalived's value syntax: <TIMER> is seconds with an optional fraction,
 * <BOOL> is on|off|true|false|yes|no (a bare flag means on), integers are decimal.
 */

/** Longest timer hastack accepts: timers beyond 2^31-1 ms overflow Node's setTimeout. */
export const MAX_TIMER_MS = 2_147_483_647;

const INTEGER = /^\d+$/;
const TIMER = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

export function parseUnsigned(
  text: string,
  node: ConfigNode,
  diag: Diagnostics,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!INTEGER.test(text)) return diag.bad(node, `"${node.keyword}": invalid number "${text}"`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    return diag.bad(node, `"${node.keyword}": ${text} is outside ${min}..${max}`);
  }
  return value;
}

/** The first argument as an unsigned integer. */
export function unsignedArg(
  node: ConfigNode,
  diag: Diagnostics,
  range?: { min?: number; max?: number },
): number | undefined {
  const text = firstArg(node, diag, 'a number');
  return text === undefined ? undefined : parseUnsigned(text, node, diag, range);
}

/** A <TIMER> (seconds, fractions allowed) in whole milliseconds. */
export function parseTimerMs(text: string, node: ConfigNode, diag: Diagnostics): number | undefined {
  if (!TIMER.test(text))
    return diag.bad(node, `"${node.keyword}": invalid time "${text}" (seconds, e.g. 3 or 0.5)`);
  const ms = Math.round(Number(text) * 1000);
  if (!Number.isFinite(ms) || ms > MAX_TIMER_MS) {
    return diag.bad(node, `"${node.keyword}": ${text} s is too long (at most ${MAX_TIMER_MS / 1000} s)`);
  }
  return ms;
}

export function timerArg(node: ConfigNode, diag: Diagnostics): number | undefined {
  const text = firstArg(node, diag, 'a time in seconds');
  return text === undefined ? undefined : parseTimerMs(text, node, diag);
}

const TRUE_WORDS = new Set(['on', 'true', 'yes']);
const FALSE_WORDS = new Set(['off', 'false', 'no']);

/** A flag keyword with an optional <BOOL>: `alpha`, `alpha on`, `alpha no`. */
export function boolArg(node: ConfigNode, diag: Diagnostics): boolean | undefined {
  const text = node.args[0];
  if (text === undefined) return true;
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return diag.bad(node, `"${node.keyword}": expected on|off|true|false|yes|no, got "${text}"`);
}

/** An IP address literal (keepalived takes no host names for servers). */
export function parseIp(
  text: string,
  node: ConfigNode,
  diag: Diagnostics,
  what = 'address',
): string | undefined {
  // keepalived writes IPv6 bare; accept brackets too.
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIP(bare) === 0) return diag.bad(node, `"${node.keyword}": invalid IP ${what} "${text}"`);
  return bare;
}

export function parsePort(text: string, node: ConfigNode, diag: Diagnostics): number | undefined {
  return parseUnsigned(text, node, diag, { min: 1, max: 65535 });
}
