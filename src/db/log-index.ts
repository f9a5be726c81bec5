import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { HastackError } from '../core/errors.ts';
import { isSegmentName, segmentSeq } from './log-names.ts';

/*
 * The index file of a log (binlog.index, relay-bin.index): one segment name per
 * line, oldest first, as MySQL keeps it. Rewritten atomically (temp file, fsync,
 * rename, fsync of the directory) so a crash leaves the old or the new list.
 */

export function indexPath(dir: string, base: string): string {
  return join(dir, `${base}.index`);
}

/** Segment names in the index; segments on disk past the index (a crash while rotating) are added. */
export function readIndex(dir: string, base: string): string[] {
  const path = indexPath(dir, base);
  let names: string[] = [];
  if (existsSync(path)) {
    names = readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    for (const n of names)
      if (!isSegmentName(base, n))
        throw new HastackError(
          'HASTACK_DB_LOG_INDEX',
          `${path} lists "${n}", which is not a ${base} segment`,
        );
  }
  const present = new Set(readdirSync(dir).filter((f) => isSegmentName(base, f)));
  names = names.filter((n) => present.has(n));
  const last = names.length === 0 ? 0 : segmentSeq(names[names.length - 1]!);
  const extra = [...present].filter((n) => !names.includes(n) && segmentSeq(n) > last).sort();
  return [...names, ...extra];
}

export function writeIndex(dir: string, base: string, names: readonly string[]): void {
  const path = indexPath(dir, base);
  writeFileDurably(path, names.length === 0 ? '' : `${names.join('\n')}\n`);
}

/** Writes a small file atomically and durably (temp file, fsync, rename, directory fsync). */
export function writeFileDurably(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(path.slice(0, Math.max(path.lastIndexOf('/'), 1)));
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
