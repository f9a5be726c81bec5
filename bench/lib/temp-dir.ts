import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from './cleanup.ts';

/**
 * Creates a temp dir (removed at cleanup). It is made world-readable because
 * servers started as root may drop privileges in their workers (nginx → nobody)
 * and still need to read files in it.
 */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `hastack-bench-${prefix}-`));
  await chmod(dir, 0o755);
  registerCleanup({
    label: `temp dir ${dir}`,
    run: () => rm(dir, { recursive: true, force: true }),
    runSync: () => rmSync(dir, { recursive: true, force: true }),
  });
  return dir;
}
