import { globSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError } from '../config/config-error.ts';
import { type LoadedConfig, readConfigFile, validateRawConfig } from '../config/load-config.ts';
import type { ConfigWarning } from '../config/model.ts';
import type { FullConfig } from '../config/sections.ts';
import type { RandomSource } from '../core/clock.ts';
import { parseBlocks } from './block-parser.ts';
import { type ConvertResult, convertKeepalived } from './convert.ts';
import { expandIncludes, type IncludeIo, type IncludeLimits } from './include.ts';
import { createLexState } from './lexer.ts';

export interface KeepalivedParseOptions {
  /** keepalived -i: selects `@ID` lines. Default: the host name up to its first dot, as keepalived. */
  instanceId?: string;
  /** File access for include lines; without it an include is an error. */
  io?: IncludeIo;
  /** For ${_RANDOM}. */
  random?: RandomSource;
  includeLimits?: IncludeLimits;
}

/** The same per-file size limit as the YAML loader. */
const MAX_INCLUDED_BYTES = 8 * 1024 * 1024;

export function defaultInstanceId(): string {
  return hostname().split('.')[0] ?? '';
}

/**
 * Parses keepalived.conf text into the validated model. Pure apart from the
 * injected `io` (includes): tests pass an in-memory file system.
 */
export function parseKeepalivedConfig(
  text: string,
  file: string,
  options: KeepalivedParseOptions = {},
): LoadedConfig {
  const state = createLexState({
    instanceId: options.instanceId ?? defaultInstanceId(),
    ...(options.random !== undefined && { random: options.random }),
  });
  const source = expandIncludes(file, text, state, options.io, options.includeLimits);
  const converted = convertKeepalived(parseBlocks(source.tokens), file);
  const config = validateConverted(converted, file);
  const order = new Map(source.files.map((f, i) => [f, i]));
  const warnings = sortWarnings([...source.warnings, ...converted.warnings], order);
  return { config, warnings, source: { kind: 'keepalived', file } };
}

/** Schema validation with errors pointed at the keepalived file and line that produced the key. */
function validateConverted(converted: ConvertResult, file: string): FullConfig {
  try {
    return validateRawConfig(converted.raw, file, converted.lineOf);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(converted.sourceMap.relocate(err.issues), err.code);
  }
}

function sortWarnings(warnings: ConfigWarning[], order: ReadonlyMap<string, number>): ConfigWarning[] {
  const rank = (w: ConfigWarning) => order.get(w.file ?? '') ?? Number.MAX_SAFE_INTEGER;
  return warnings
    .map((w, i) => ({ w, i }))
    .sort((a, b) => rank(a.w) - rank(b.w) || (a.w.line ?? 0) - (b.w.line ?? 0) || a.i - b.i)
    .map(({ w }) => w);
}

/** Includes read from disk. Reads are synchronous: a configuration is read once per load, lexing decides what to read next. */
export const diskIncludeIo: IncludeIo = {
  readFile(path) {
    const size = statSync(path).size;
    if (size > MAX_INCLUDED_BYTES) throw new Error(`larger than ${MAX_INCLUDED_BYTES} bytes`);
    return readFileSync(path, 'utf8');
  },
  glob(pattern) {
    // keepalived skips directories among the matches.
    return globSync(pattern)
      .filter((p) => {
        try {
          return statSync(p).isFile();
        } catch {
          return false;
        }
      })
      .sort();
  },
};

/** `hastack up|check --keepalived FILE`. */
export async function loadKeepalivedConfigFile(
  file: string,
  options: { instanceId?: string } = {},
): Promise<LoadedConfig> {
  const path = resolve(file);
  const text = await readConfigFile(path);
  return parseKeepalivedConfig(text, path, {
    io: diskIncludeIo,
    ...(options.instanceId !== undefined && { instanceId: options.instanceId }),
  });
}
