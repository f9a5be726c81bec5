import { posix } from 'node:path';
import type { RandomSource } from '../core/clock.ts';
import { type SourcePos, syntaxError } from './diagnostics.ts';

/*
 * keepalived's configuration lexer. keepalived reads its file line by line and,
 * for each line: strips comments (`#`/`!` outside quotes), applies `@ID`
 * conditionals, records `$NAME=value` definitions, substitutes `$NAME` /
 * `${NAME}`, then splits the line into words, treating `{` and `}` as words of
 * their own. Includes are found after that processing. This module does the same
 * and yields tokens lazily, so the include expander can interleave files while
 * sharing one set of definitions, as keepalived does.
 */

export type TokenKind = 'word' | 'open' | 'close';

export interface Token extends SourcePos {
  kind: TokenKind;
  text: string;
  /** Logical line: the words of one statement share it (a line may expand into several). */
  stmt: number;
}

export const INCLUDE_KEYWORDS: ReadonlySet<string> = new Set([
  'include',
  'includer',
  'includem',
  'includew',
  'includeb',
  'includea',
]);

export interface IncludeDirective extends SourcePos {
  kind: 'include';
  /** include, includer, includem... */
  keyword: string;
  pattern: string;
}

export type LexItem = Token | IncludeDirective;

export const LEX_LIMITS = {
  /** Longest accepted line, before and after substitution. */
  maxLineLength: 64 * 1024,
  /** Substitutions on one line: stops `$A=$A`-style loops. */
  maxSubstitutionsPerLine: 10_000,
  /** Lines produced by multi-line definitions from one physical line. */
  maxExpandedLines: 100_000,
} as const;

interface Definition {
  value: string;
  /** Defined with trailing `\`: its value is several lines. */
  multiline: boolean;
}

export interface LexOptions {
  /** The config id that `@ID` lines are compared with (keepalived -i); undefined = no id. */
  instanceId?: string;
  /** For ${_RANDOM}. */
  random?: RandomSource;
}

/** State shared by every file of one configuration: definitions persist across includes. */
export interface LexState {
  readonly instanceId: string | undefined;
  readonly random: RandomSource;
  readonly defs: Map<string, Definition>;
  stmt: number;
}

export function createLexState(options: LexOptions = {}): LexState {
  return { instanceId: options.instanceId, random: options.random ?? Math.random, defs: new Map(), stmt: 0 };
}

/** Lexes one file. Include directives are yielded, not followed. */
export function* lex(text: string, file: string, state: LexState): Generator<LexItem> {
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    throw syntaxError(
      { file, line: lineOfOffset(text, nul) },
      'binary data (NUL byte): this is not a keepalived configuration file',
    );
  }
  const lexer = new FileLexer(file, state);
  // A UTF-8 byte order mark would otherwise glue itself to the first keyword.
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  for (let i = 0; i < lines.length; i++) {
    yield* lexer.physicalLine(lines[i]!, i + 1);
  }
  lexer.finish();
}

/** Convenience for tests and include-free input: all tokens of one text; includes are an error. */
export function tokenize(text: string, file: string, options: LexOptions = {}): Token[] {
  const tokens: Token[] = [];
  for (const item of lex(text, file, createLexState(options))) {
    if (item.kind === 'include') throw syntaxError(item, `${item.keyword} is not available here`);
    tokens.push(item);
  }
  return tokens;
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

class FileLexer {
  readonly #file: string;
  readonly #state: LexState;
  /** A multi-line `$NAME= ... \` definition still collecting lines. */
  #pending: { name: string; lines: string[] } | undefined;

  constructor(file: string, state: LexState) {
    this.#file = file;
    this.#state = state;
  }

  *physicalLine(raw: string, lineNo: number): Generator<LexItem> {
    const pos: SourcePos = { file: this.#file, line: lineNo };
    if (raw.length > LEX_LIMITS.maxLineLength) {
      throw syntaxError(pos, `line is longer than ${LEX_LIMITS.maxLineLength} characters`);
    }
    const { text, continued } = decomment(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (this.#pending !== undefined) {
      if (text !== '') this.#pending.lines.push(text);
      if (!continued) this.finish();
      return;
    }
    yield* this.#logicalLines(text, continued, pos);
  }

  /** Ends a multi-line definition left open at the end of the file. */
  finish(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    this.#state.defs.set(pending.name, {
      value: pending.lines.join('\n'),
      multiline: pending.lines.length > 0,
    });
  }

  *#logicalLines(first: string, continued: boolean, pos: SourcePos): Generator<LexItem> {
    // A multi-line definition expands into several lines, each processed in full.
    const queue: string[] = [first];
    let produced = 0;
    let isFirst = true;
    while (queue.length > 0) {
      if (++produced > LEX_LIMITS.maxExpandedLines) {
        throw syntaxError(
          pos,
          `multi-line definitions expand to more than ${LEX_LIMITS.maxExpandedLines} lines`,
        );
      }
      const line = this.#expand(queue.shift()!, isFirst && continued, pos, queue);
      const lineContinues = isFirst && continued;
      isFirst = false;
      if (line === undefined) continue;
      if (lineContinues) {
        throw syntaxError(pos, "a line may only end with '\\' inside a $NAME= definition");
      }
      const include = /^(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (include !== null && INCLUDE_KEYWORDS.has(include[1]!)) {
        // Include lines are recognised before braces split words: {a,b} is a glob here.
        const args = splitWords(include[2] ?? '', pos, true);
        if (args.length !== 1) throw syntaxError(pos, `${include[1]} takes exactly one file name or pattern`);
        yield { kind: 'include', keyword: include[1]!, pattern: args[0]!.text, ...pos };
        continue;
      }
      const tokens = splitWords(line, pos);
      if (tokens.length === 0) continue;
      const stmt = ++this.#state.stmt;
      for (const t of tokens) yield { ...t, ...pos, stmt };
    }
  }

  /**
   * Conditionals, definitions and substitutions for one logical line. Returns the
   * text left to split into words, or undefined when nothing is left.
   */
  #expand(line: string, continued: boolean, pos: SourcePos, queue: string[]): string | undefined {
    let text = line;
    for (let round = 0; ; round++) {
      if (round > 100) throw syntaxError(pos, 'parameter substitution does not settle');
      if (text === '') return undefined;
      if (text[0] === '@') {
        const selected = this.#selectConditional(text);
        if (selected === undefined) return undefined;
        text = selected;
        continue;
      }
      if (text[0] === '$') {
        const def = /^\$([A-Za-z_][A-Za-z0-9_]*)=[ \t]*(.*)$/s.exec(text);
        if (def !== null) {
          this.#define(def[1]!, def[2]!, continued);
          return undefined;
        }
      }
      if (text[0] === '~') {
        throw syntaxError(pos, '~SEQ / ~LST sequence lines are not supported: write the lines out');
      }
      if (!text.includes('$')) return text;
      const replaced = this.#substitute(text, pos, queue);
      if (replaced === text) return text;
      // The result may be a conditional, a definition or hold more references: check again.
      text = replaced.trimStart();
    }
  }

  /** `@ID rest` / `@^ID rest`: the rest when selected, undefined when not. */
  #selectConditional(text: string): string | undefined {
    const negated = text[1] === '^';
    const start = negated ? 2 : 1;
    const space = text.slice(start).search(/[ \t]/);
    if (space < 0) return undefined;
    const id = text.slice(start, start + space);
    const matches = this.#state.instanceId !== undefined && id === this.#state.instanceId;
    if (matches === negated) return undefined;
    return text.slice(start + space).trimStart();
  }

  #define(name: string, value: string, continued: boolean): void {
    if (continued) {
      const first = value.replace(/[ \t]+$/, '');
      this.#pending = { name, lines: first === '' ? [] : [first] };
      return;
    }
    this.#state.defs.set(name, { value, multiline: false });
  }

  /** Replaces every defined `$NAME` (followed by a blank or the end) and `${NAME}`. */
  #substitute(line: string, pos: SourcePos, queue: string[]): string {
    let text = line;
    let from = 0;
    let count = 0;
    for (;;) {
      const at = text.indexOf('$', from);
      if (at < 0 || at + 1 >= text.length) return text;
      const ref = /^\$\{([A-Za-z_][A-Za-z0-9_]*)((?: +\d+)*)\}|^\$([A-Za-z_][A-Za-z0-9_]*)(?=[ \t]|$)/.exec(
        text.slice(at),
      );
      const name = ref?.[1] ?? ref?.[3];
      const value = ref === null || name === undefined ? undefined : this.#valueOf(name, ref[2] ?? '');
      if (ref === null || value === undefined) {
        from = at + 1;
        continue;
      }
      const end = at + ref[0].length;
      let replacement = value.value;
      if (value.multiline) {
        // keepalived only expands a multi-line definition that ends its line.
        if (end !== text.length) {
          from = at + 1;
          continue;
        }
        const parts = replacement.split('\n');
        replacement = parts[0]!;
        queue.unshift(...parts.slice(1));
      }
      text = text.slice(0, at) + replacement + text.slice(end);
      if (++count > LEX_LIMITS.maxSubstitutionsPerLine) {
        throw syntaxError(pos, `more than ${LEX_LIMITS.maxSubstitutionsPerLine} substitutions on one line`);
      }
      if (text.length > LEX_LIMITS.maxLineLength) {
        throw syntaxError(
          pos,
          `substitution makes the line longer than ${LEX_LIMITS.maxLineLength} characters`,
        );
      }
      // keepalived stops substituting once a value starts a ~SEQ/~LST block.
      if (/^[ \t]*~/.test(replacement)) return text;
      // Re-scan from the replacement: values may refer to other definitions.
      from = at;
    }
  }

  #valueOf(name: string, params: string): Definition | undefined {
    const user = this.#state.defs.get(name);
    if (user !== undefined) return params === '' ? user : undefined;
    const args = params.trim() === '' ? [] : params.trim().split(/ +/).map(Number);
    switch (name) {
      case '_PWD':
        return args.length === 0 ? { value: posix.dirname(this.#file), multiline: false } : undefined;
      case '_INSTANCE':
        return args.length === 0 ? { value: this.#state.instanceId ?? '', multiline: false } : undefined;
      case '_HASH':
        return args.length === 0 ? { value: '#', multiline: false } : undefined;
      case '_BANG':
        return args.length === 0 ? { value: '!', multiline: false } : undefined;
      case '_RANDOM': {
        if (args.length > 2) return undefined;
        const min = args[0] ?? 0;
        const max = args[1] ?? 32767;
        if (max < min) return undefined;
        const value = min + Math.floor(this.#state.random() * (max - min + 1));
        return { value: String(Math.min(value, max)), multiline: false };
      }
      default:
        return undefined;
    }
  }
}

/**
 * Removes a comment (`#` or `!` outside quotes) and surrounding blanks. `\#` and
 * `\!` outside quotes stand for the characters themselves. A final `\` marks a
 * continued line (used by multi-line definitions) and is removed.
 */
export function decomment(raw: string): { text: string; continued: boolean } {
  let out = '';
  let quote = '';
  let continued = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      if (i === raw.length - 1) {
        continued = true;
        break;
      }
      const next = raw[i + 1]!;
      out += quote === '' && (next === '#' || next === '!') ? next : c + next;
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      if (quote === '') quote = c;
      else if (quote === c) quote = '';
    } else if (quote === '' && (c === '#' || c === '!')) {
      break;
    }
    out += c;
  }
  return { text: out.replace(/^[ \t\f\v]+|[ \t\f\v]+$/g, ''), continued };
}

const BLANK = /[ \t\f\v]/;

/**
 * Splits a processed line into words: blanks separate words, `"` and `'` group
 * (and may join: `ab" c"d` is one word), backslash escapes work as in the shell
 * (`\n`, `\t`, `\x41`, `\101`, `\cC`, `\"`...), and `{` / `}` outside quotes are
 * words of their own even when glued to others.
 */
export function splitWords(
  line: string,
  pos: SourcePos,
  bracesAreText = false,
): Omit<Token, 'file' | 'line' | 'stmt'>[] {
  const tokens: Omit<Token, 'file' | 'line' | 'stmt'>[] = [];
  let word: string | undefined;
  let quote = '';
  const flush = () => {
    if (word !== undefined) tokens.push({ kind: 'word', text: word });
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\') {
      const { char, next } = decodeEscape(line, i, pos);
      word = (word ?? '') + char;
      i = next - 1;
      continue;
    }
    if (quote !== '') {
      if (c === quote) quote = '';
      else word = (word ?? '') + c;
      continue;
    }
    if (BLANK.test(c)) {
      flush();
    } else if ((c === '{' || c === '}') && !bracesAreText) {
      flush();
      tokens.push({ kind: c === '{' ? 'open' : 'close', text: c });
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote !== '') throw syntaxError(pos, `missing closing ${quote}`);
  flush();
  return tokens;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** The character an escape at `at` stands for, and the index after it. */
function decodeEscape(line: string, at: number, pos: SourcePos): { char: string; next: number } {
  const c = line[at + 1];
  if (c === undefined) throw syntaxError(pos, "'\\' at the end of the line escapes nothing");
  if (c === 'x' && /[0-9a-fA-F]/.test(line[at + 2] ?? '')) {
    let i = at + 2;
    let code = 0;
    while (i < line.length && /[0-9a-fA-F]/.test(line[i]!))
      code = ((code << 4) | parseInt(line[i++]!, 16)) & 0xff;
    return { char: String.fromCharCode(code), next: i };
  }
  if (c === 'c' && at + 2 < line.length) {
    return { char: String.fromCharCode(line.charCodeAt(at + 2) & 0x1f), next: at + 3 };
  }
  if (c >= '0' && c <= '7') {
    let i = at + 1;
    let code = 0;
    while (i < at + 4 && i < line.length && line[i]! >= '0' && line[i]! <= '7')
      code = code * 8 + Number(line[i++]);
    return { char: String.fromCharCode(code & 0xff), next: i };
  }
  return { char: SIMPLE_ESCAPES[c] ?? c, next: at + 2 };
}
