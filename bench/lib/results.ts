/** Where a bench's raw results go, and how they are written. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './hastack.ts';

/** bench/results/<benchmark>-<UTC time, seconds, ':' as '-'>.json, e.g. l4-2026-11-25T14-22-28Z.json. */
export function resultsPath(benchmark: string, at = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  return join(REPO_ROOT, 'bench', 'results', `${benchmark}-${stamp}.json`);
}

/** Writes `data` as indented JSON (creating the folder). */
export async function writeResults(file: string, data: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
}
