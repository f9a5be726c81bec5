import { posix } from 'node:path';
import type { ConfigWarning } from '../config/model.ts';
import { errorAt, KEEPALIVED_CODES, warningAt } from './diagnostics.ts';
import { type IncludeDirective, type LexState, lex, type Token } from './lexer.ts';

/**
 * File access for includes, injected so the parser works on an in-memory file
 * system in tests. Paths are absolute and POSIX.
 */
export interface IncludeIo {
  /** The file's text; throws when it cannot be read. */
  readFile(path: string): string;
  /** Regular files matching an absolute glob pattern (*, ?, [..], {a,b}), sorted. */
  glob(pattern: string): string[];
}

export interface IncludeLimits {
  /** Include nesting depth (the main file is depth 0). */
  maxDepth: number;
  /** Files read in total, the main file included. */
  maxFiles: number;
}

export const DEFAULT_INCLUDE_LIMITS: Readonly<IncludeLimits> = { maxDepth: 16, maxFiles: 1000 };

export interface ExpandedSource {
  tokens: Token[];
  warnings: ConfigWarning[];
  /** Every file read, main file first. */
  files: string[];
}

const WILDCARD = /[*?[{]/;

/**
 * Lexes the main file and, in place of each include line, the files it names.
 * As in keepalived, a relative pattern is resolved against the directory of the
 * file that holds the include line, matches are read in sorted order, and
 * definitions made in one file are visible in the files read after it.
 */
export function expandIncludes(
  file: string,
  text: string,
  state: LexState,
  io?: IncludeIo,
  limits: IncludeLimits = DEFAULT_INCLUDE_LIMITS,
): ExpandedSource {
  const out: ExpandedSource = { tokens: [], warnings: [], files: [file] };

  const visit = (current: string, content: string, chain: readonly string[]): void => {
    for (const item of lex(content, current, state)) {
      if (item.kind !== 'include') {
        out.tokens.push(item);
        continue;
      }
      for (const target of resolve(item, current)) {
        if (chain.includes(target)) {
          throw errorAt(
            KEEPALIVED_CODES.include,
            item,
            `include cycle: ${[...chain.slice(chain.indexOf(target)), target].join(' -> ')}`,
          );
        }
        if (chain.length > limits.maxDepth) {
          throw errorAt(
            KEEPALIVED_CODES.include,
            item,
            `includes are nested deeper than ${limits.maxDepth} levels`,
          );
        }
        if (out.files.length >= limits.maxFiles) {
          throw errorAt(KEEPALIVED_CODES.include, item, `more than ${limits.maxFiles} configuration files`);
        }
        let included: string;
        try {
          included = io!.readFile(target);
        } catch (err) {
          throw errorAt(
            KEEPALIVED_CODES.include,
            item,
            `cannot read included file ${target}: ${(err as Error).message}`,
          );
        }
        out.files.push(target);
        visit(target, included, [...chain, target]);
      }
    }
  };

  const resolve = (item: IncludeDirective, current: string): string[] => {
    if (io === undefined) {
      throw errorAt(
        KEEPALIVED_CODES.include,
        item,
        `${item.keyword} ${item.pattern}: includes are not available here`,
      );
    }
    const pattern = posix.isAbsolute(item.pattern)
      ? posix.normalize(item.pattern)
      : posix.join(posix.dirname(current), item.pattern);
    let matches: string[];
    try {
      matches = io.glob(pattern);
    } catch (err) {
      throw errorAt(KEEPALIVED_CODES.include, item, `cannot search ${pattern}: ${(err as Error).message}`);
    }
    if (matches.length > 0) return matches;
    if (!WILDCARD.test(item.pattern)) {
      throw errorAt(KEEPALIVED_CODES.include, item, `included file ${pattern} does not exist`);
    }
    // An optional conf.d/*.conf may well be empty; includer says so explicitly.
    if (item.keyword !== 'includer') {
      out.warnings.push(
        warningAt(KEEPALIVED_CODES.includeEmpty, item, `${item.keyword} ${pattern} matched no file`),
      );
    }
    return [];
  };

  visit(file, text, [file]);
  return out;
}

/** An IncludeIo over a map of absolute path → text, for tests and embedded configs. */
export function createMemoryIo(files: Readonly<Record<string, string>>): IncludeIo {
  const paths = Object.keys(files).sort();
  return {
    readFile(path) {
      if (!Object.hasOwn(files, path)) throw new Error(`ENOENT: no such file ${path}`);
      return files[path]!;
    },
    glob(pattern) {
      const re = globToRegExp(pattern);
      return paths.filter((p) => re.test(p));
    },
  };
}

/** A glob (*, ?, [...], [!...], {a,b}) as a RegExp over a whole path; wildcards do not cross '/'. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else re += c.replace(/[.+^$()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}${')'.repeat(braces)}$`);
}
