import { access, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HastackError } from '../../src/core/errors.ts';
import { type PinnedProcess, spawnPinned } from './pinned-process.ts';
import { toolVersion } from './tools.ts';

/** The repository root (bench/lib/ → ../..). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** The project's own Node (24, runs .ts directly); the machine's `node` may be older. */
export const HASTACK_NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');

export interface HastackOptions {
  name?: string;
  cpu: number | string;
  /** A bench temp dir (see makeTempDir). */
  dir: string;
  /** The YAML config text (schema: src/config/schema.ts). */
  yaml: string;
  /** Grace before SIGKILL on stop; should exceed the config's shutdown_grace (default 15000 ms). */
  stopGraceMs?: number;
}

/** Writes the YAML and starts `node src/cli/main.ts up -c FILE` from the repo root, pinned to cpu. */
export async function startHastack(options: HastackOptions): Promise<PinnedProcess> {
  try {
    await access(HASTACK_NODE);
  } catch {
    throw new HastackError(
      'HASTACK_BENCH_TOOL_MISSING',
      `${HASTACK_NODE} not found: run npm install in ${REPO_ROOT} (hastack runs on the project's Node 24)`,
    );
  }
  const name = options.name ?? 'hastack';
  const file = join(options.dir, `${name}.yaml`);
  await writeFile(file, options.yaml);
  return spawnPinned({
    name,
    command: HASTACK_NODE,
    args: ['src/cli/main.ts', 'up', '-c', file],
    cpu: options.cpu,
    cwd: REPO_ROOT,
    stopGraceMs: options.stopGraceMs ?? 15_000,
  });
}

/** "hastack <version> (node <version>)" of this checkout, for a bench's JSON. */
export function hastackVersion(): string {
  return `${toolVersion(HASTACK_NODE, [join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'version'])} (node ${toolVersion(HASTACK_NODE, ['--version'])})`;
}
