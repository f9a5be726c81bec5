import { HastackError } from '../core/errors.ts';

/*
 * A small SQLite tokenizer: enough to find statement boundaries, keywords such as
 * LIMIT, function calls and their literal arguments, without being fooled by
 * strings, quoted identifiers or comments. It does not validate SQL: SQLite does.
 */

export type TokenKind = 'word' | 'string' | 'ident' | 'number' | 'blob' | 'param' | 'punct';

export interface Token {
  kind: TokenKind;
  /** Words are upper-cased; strings are unquoted; other kinds keep their text. */
  text: string;
  /** Offset of the token in the SQL text. */
  at: number;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? n : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close === -1 ? n : close + 2;
    } else if (c === "'") {
      const [text, end] = quoted(sql, i, "'");
      out.push({ kind: 'string', text, at: i });
      i = end;
    } else if (c === '"' || c === '`') {
      const [text, end] = quoted(sql, i, c);
      out.push({ kind: 'ident', text, at: i });
      i = end;
    } else if (c === '[') {
      const close = sql.indexOf(']', i);
      const end = close === -1 ? n : close + 1;
      out.push({ kind: 'ident', text: sql.slice(i + 1, end - 1), at: i });
      i = end;
    } else if ((c === 'x' || c === 'X') && sql[i + 1] === "'") {
      const [text, end] = quoted(sql, i + 1, "'");
      out.push({ kind: 'blob', text, at: i });
      i = end;
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < n && WORD_PART.test(sql[j]!)) j++;
      out.push({ kind: 'word', text: sql.slice(i, j).toUpperCase(), at: i });
      i = j;
    } else if (
      (c >= '0' && c <= '9') ||
      (c === '.' && sql[i + 1] !== undefined && /[0-9]/.test(sql[i + 1]!))
    ) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(sql[j]!)) {
        // Exponent signs: 1e-5.
        if ((sql[j] === 'e' || sql[j] === 'E') && (sql[j + 1] === '-' || sql[j + 1] === '+')) j++;
        j++;
      }
      out.push({ kind: 'number', text: sql.slice(i, j), at: i });
      i = j;
    } else if (c === '?' || c === ':' || c === '@' || c === '$') {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(sql[j]!)) j++;
      out.push({ kind: 'param', text: sql.slice(i, j), at: i });
      i = j;
    } else {
      // Two-character operators matter only as punctuation here.
      const two = sql.slice(i, i + 2);
      const len = ['||', '<=', '>=', '==', '!=', '<>', '<<', '>>', '->'].includes(two) ? 2 : 1;
      out.push({ kind: 'punct', text: sql.slice(i, i + len), at: i });
      i += len;
    }
  }
  return out;
}

function quoted(sql: string, start: number, quote: string): [string, number] {
  let text = '';
  let i = start + 1;
  for (;;) {
    const close = sql.indexOf(quote, i);
    if (close === -1) return [text + sql.slice(i), sql.length];
    text += sql.slice(i, close);
    if (sql[close + 1] === quote) {
      text += quote;
      i = close + 2;
    } else {
      return [text, close + 1];
    }
  }
}

/**
 * The tokens of the single statement in `sql`. Trailing semicolons and comments are
 * fine; a second statement is an error (node:sqlite would silently ignore it).
 * `CREATE TRIGGER ... BEGIN ...; ...; END` keeps its inner semicolons.
 */
export function singleStatement(sql: string): Token[] {
  const tokens = tokenize(sql);
  const isTrigger = startsTrigger(tokens);
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isTrigger && t.kind === 'word') {
      if (t.text === 'BEGIN' || t.text === 'CASE') depth++;
      else if (t.text === 'END') depth = Math.max(0, depth - 1);
    }
    if (t.kind === 'punct' && t.text === ';' && depth === 0) {
      const rest = tokens.slice(i + 1).filter((x) => !(x.kind === 'punct' && x.text === ';'));
      if (rest.length > 0)
        throw new HastackError(
          'HASTACK_DB_MULTIPLE_STATEMENTS',
          'one SQL statement per entry: send several entries (in a transaction if they belong together)',
        );
      return tokens.slice(0, i);
    }
  }
  return tokens;
}

function startsTrigger(tokens: Token[]): boolean {
  if (tokens[0]?.text !== 'CREATE') return false;
  for (let i = 1; i < Math.min(tokens.length, 4); i++) if (tokens[i]!.text === 'TRIGGER') return true;
  return false;
}

export interface FunctionCall {
  /** Upper-cased function name. */
  name: string;
  /** Tokens between the parentheses (nested calls included). */
  args: Token[];
}

/** Every `name(...)` call in the tokens, nested ones too. */
export function functionCalls(tokens: Token[]): FunctionCall[] {
  const calls: FunctionCall[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'word' || tokens[i + 1]!.text !== '(' || tokens[i + 1]!.kind !== 'punct') continue;
    let depth = 0;
    let j = i + 1;
    for (; j < tokens.length; j++) {
      const x = tokens[j]!;
      if (x.kind !== 'punct') continue;
      if (x.text === '(') depth++;
      else if (x.text === ')' && --depth === 0) break;
    }
    calls.push({ name: t.text, args: tokens.slice(i + 2, j) });
  }
  return calls;
}

export function hasWord(tokens: Token[], word: string): boolean {
  return tokens.some((t) => t.kind === 'word' && t.text === word);
}
