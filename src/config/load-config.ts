import { readFile } from 'node:fs/promises';
import { isMap, isNode, isSeq, LineCounter, type Node, type Pair, parseDocument, type Scalar } from 'yaml';
import { HastackError } from '../core/errors.ts';
import { ConfigError, formatPath, type LocatedIssue } from './config-error.ts';
import type { ConfigWarning } from './model.ts';
import { normalizeConfig } from './normalize.ts';
import { configSchema } from './schema.ts';
import type { FullConfig } from './sections.ts';

/** Maps a key path in the raw config to the line it came from (1-based), when known. */
export type LineLookup = (path: readonly PropertyKey[]) => number | undefined;

export interface LoadedConfig {
  config: FullConfig;
  warnings: ConfigWarning[];
  /** Where it came from, for reloads and messages. */
  source: { kind: 'yaml' | 'keepalived' | 'builtin'; file?: string };
}

/** Size limit for a config file: far above any real one, low enough to refuse a wrong file. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/**
 * Validates a raw config object (from YAML or the keepalived converter) and returns
 * the model, or throws a ConfigError naming every bad key with its line.
 */
export function validateRawConfig(raw: unknown, file?: string, lineOf?: LineLookup): FullConfig {
  const located = (path: readonly PropertyKey[], message: string): LocatedIssue => {
    // The deepest path that has a line wins: a missing key is reported at its parent.
    let line: number | undefined;
    for (let n = path.length; n >= 0 && line === undefined; n--) line = lineOf?.(path.slice(0, n));
    return {
      path: formatPath(path),
      message,
      ...(file !== undefined && { file }),
      ...(line !== undefined && { line }),
    };
  };
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      let path: PropertyKey[] = issue.path;
      // Point unknown keys at the key itself.
      if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path = [...path, issue.keys[0]!];
      return located(path, issue.message);
    });
    throw new ConfigError(issues);
  }
  const { config, issues } = normalizeConfig(result.data);
  if (issues.length > 0) throw new ConfigError(issues.map((i) => located(i.path, i.message)));
  return config;
}

export function parseYamlConfig(text: string, file?: string): FullConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: '',
        message: `YAML syntax: ${e.message.split('\n')[0]}`,
        ...(file !== undefined && { file }),
        line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
      })),
      'HASTACK_CONFIG_SYNTAX',
    );
  }
  const lineOf: LineLookup = (path) => {
    const node = nodeAt(doc.contents as Node | null, path);
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // e.g. an alias bomb: refuse instead of expanding it.
    throw new ConfigError(
      [{ path: '', message: `YAML: ${(err as Error).message}`, ...(file !== undefined && { file }) }],
      'HASTACK_CONFIG_SYNTAX',
    );
  }
  return validateRawConfig(raw, file, lineOf);
}

function nodeAt(root: Node | null, path: readonly PropertyKey[]): Node | undefined {
  let node: Node | null | undefined = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    if (isMap(node)) {
      const pair: Pair | undefined = node.items.find((p: Pair) => (p.key as Scalar | null)?.value === key);
      if (pair === undefined) return undefined;
      // The last step points at the key itself: that line is where people look.
      if (i === path.length - 1 && isNode(pair.key)) return pair.key;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key] as Node | undefined;
    } else {
      return undefined;
    }
  }
  return node ?? undefined;
}

export async function readConfigFile(file: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw new HastackError('HASTACK_CONFIG_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (buf.length > MAX_CONFIG_BYTES) {
    throw new HastackError('HASTACK_CONFIG_TOO_LARGE', `${file} is larger than ${MAX_CONFIG_BYTES} bytes`);
  }
  return buf.toString('utf8');
}

export async function loadYamlConfigFile(file: string): Promise<LoadedConfig> {
  const text = await readConfigFile(file);
  return { config: parseYamlConfig(text, file), warnings: [], source: { kind: 'yaml', file } };
}
