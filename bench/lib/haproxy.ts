import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PinnedProcess, spawnPinned } from './pinned-process.ts';

export interface HaproxyOptions {
  name?: string;
  /** Path of the haproxy binary. */
  haproxy: string;
  cpu: number | string;
  /** A bench temp dir (see makeTempDir). */
  dir: string;
  /** The whole configuration text (global, defaults, frontends...). */
  config: string;
}

/** Writes the config and runs `haproxy -db -f CONF` (foreground, no daemon) pinned to cpu. */
export async function startHaproxy(options: HaproxyOptions): Promise<PinnedProcess> {
  const name = options.name ?? 'haproxy';
  const conf = join(options.dir, `${name}.cfg`);
  await writeFile(conf, options.config);
  return spawnPinned({ name, command: options.haproxy, args: ['-db', '-f', conf], cpu: options.cpu });
}
