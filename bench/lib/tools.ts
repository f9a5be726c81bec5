/**
 * Finding the external tools a benchmark drives, with an error that names the
 * Debian package to install when one is missing.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { HastackError } from '../../src/core/errors.ts';

export interface ToolSpec {
  /** Executable name (looked up in PATH, then /usr/sbin and /sbin) or absolute path. */
  command: string;
  /** Debian package that provides it. */
  debianPackage: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of an executable, or undefined. /usr/sbin is searched even if PATH lacks it. */
export function findExecutable(command: string): string | undefined {
  if (isAbsolute(command)) return isExecutable(command) ? command : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The first of paths that exists and is readable, or undefined. */
export function findFile(paths: readonly string[]): string | undefined {
  for (const path of paths) {
    try {
      accessSync(path, constants.R_OK);
      return path;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Resolves each tool's path; the ones not found are listed in missing. */
export function resolveTools<const K extends string>(
  specs: Readonly<Record<K, ToolSpec>>,
): { paths: Partial<Record<K, string>>; missing: ToolSpec[] } {
  const paths: Partial<Record<K, string>> = {};
  const missing: ToolSpec[] = [];
  for (const key of Object.keys(specs) as K[]) {
    const path = findExecutable(specs[key].command);
    if (path === undefined) missing.push(specs[key]);
    else paths[key] = path;
  }
  return { paths, missing };
}

/**
 * Resolves every tool or throws one error listing all that are missing and the
 * apt-get command that installs them.
 */
export function requireTools<const K extends string>(
  specs: Readonly<Record<K, ToolSpec>>,
): Record<K, string> {
  const { paths, missing } = resolveTools(specs);
  if (missing.length > 0) throw missingToolsError(missing);
  return paths as Record<K, string>;
}

export function missingToolsError(missing: readonly ToolSpec[]): HastackError {
  const packages = [...new Set(missing.map((m) => m.debianPackage))];
  return new HastackError(
    'HASTACK_BENCH_TOOL_MISSING',
    `missing: ${missing.map((m) => `${m.command} (Debian package ${m.debianPackage})`).join(', ')}; ` +
      `install with: apt-get install ${packages.join(' ')}`,
    { details: { missing: missing.map((m) => m.command), packages } },
  );
}

/** The first non-empty line a tool prints for its version flag (stdout or stderr), or "unknown". */
export function toolVersion(path: string, args: readonly string[]): string {
  const result = spawnSync(path, args, { encoding: 'utf8', timeout: 5_000 });
  const text = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? 'unknown'
  );
}
