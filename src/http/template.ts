/*
 * "$1", "$host", "${path}" templates of rewrites, redirects and header values,
 * compiled once into parts so expanding one allocates only the result. Pure.
 */

export interface TemplateVars {
  /** Regex captures: index 1..9. */
  captures: ArrayLike<string | undefined> | undefined;
  host: string;
  path: string;
  /** Without the '?'. */
  query: string;
  requestUri: string;
  scheme: string;
  method: string;
  remoteAddr: string;
}

type Part = string | number | keyof Omit<TemplateVars, 'captures'>;

const NAMES: Record<string, keyof Omit<TemplateVars, 'captures'>> = {
  host: 'host',
  path: 'path',
  uri: 'path',
  query: 'query',
  args: 'query',
  request_uri: 'requestUri',
  scheme: 'scheme',
  method: 'method',
  request_method: 'method',
  remote_addr: 'remoteAddr',
};

/** Marks a variable part (vs literal text). */
const VAR = 0x76;

export class Template {
  readonly source: string;
  readonly #parts: { kind: number; value: Part }[];
  readonly constant: boolean;

  constructor(source: string) {
    this.source = source;
    this.#parts = [];
    const re = /\$(?:(\d)|\{([a-z_]+)\}|([a-z_]+))/g;
    let last = 0;
    for (const m of source.matchAll(re)) {
      const name = m[2] ?? m[3];
      if (m[1] === undefined && (name === undefined || NAMES[name] === undefined)) continue; // literal "$foo"
      if (m.index > last) this.#parts.push({ kind: 0, value: source.slice(last, m.index) });
      this.#parts.push({ kind: VAR, value: m[1] !== undefined ? Number(m[1]) : NAMES[name!]! });
      last = m.index + m[0].length;
    }
    if (last < source.length) this.#parts.push({ kind: 0, value: source.slice(last) });
    this.constant = this.#parts.every((p) => p.kind === 0);
  }

  expand(vars: TemplateVars): string {
    if (this.constant) return this.source;
    let out = '';
    for (const p of this.#parts) {
      if (p.kind === 0) out += p.value as string;
      else if (typeof p.value === 'number') out += vars.captures?.[p.value] ?? '';
      else out += vars[p.value as keyof Omit<TemplateVars, 'captures'>];
    }
    return out;
  }
}

/**
 * nginx's rule for a rewritten target: a replacement with its own '?' gets the
 * original arguments appended (unless it ends with '?', which drops them); a
 * replacement without '?' keeps the original query.
 */
export function rewrittenTarget(replacement: string, originalQuery: string): string {
  const q = replacement.indexOf('?');
  if (q < 0) return replacement + originalQuery;
  if (q === replacement.length - 1) return replacement.slice(0, -1);
  return originalQuery.length > 1 ? `${replacement}&${originalQuery.slice(1)}` : replacement;
}
