import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostPort } from '../core/address.ts';
import { HastackError } from '../core/errors.ts';
import { isServerUuid } from './gtid-set.ts';
import { writeFileDurably } from './log-index.ts';

/*
 * Small files in a server's data directory:
 *   auto.json         the server UUID, generated once (MySQL's auto.cnf)
 *   replication.json  role and source as changed at run time (promotion, change
 *                     source, reset), which win over the config until the
 *                     config's own role/source keys change (MySQL keeps
 *                     CHANGE REPLICATION SOURCE in its connection metadata).
 */

export interface DataDirLayout {
  dir: string;
  dbFile: string;
  binlogDir: string;
  relayDir: string;
}

export function dataDirLayout(dir: string): DataDirLayout {
  return {
    dir,
    dbFile: join(dir, 'data.sqlite'),
    binlogDir: join(dir, 'binlog'),
    relayDir: join(dir, 'relay'),
  };
}

export function prepareDataDir(dir: string): DataDirLayout {
  const layout = dataDirLayout(dir);
  for (const d of [layout.dir, layout.binlogDir, layout.relayDir]) mkdirSync(d, { recursive: true });
  return layout;
}

export function loadServerUuid(dir: string): string {
  const path = join(dir, 'auto.json');
  if (existsSync(path)) {
    let uuid: unknown;
    try {
      uuid = (JSON.parse(readFileSync(path, 'utf8')) as { serverUuid?: unknown }).serverUuid;
    } catch {
      uuid = undefined;
    }
    if (typeof uuid !== 'string' || !isServerUuid(uuid))
      throw new HastackError('HASTACK_DB_DATA_DIR', `${path} does not hold a valid server UUID`);
    return uuid;
  }
  const uuid = randomUUID();
  writeFileDurably(path, `${JSON.stringify({ serverUuid: uuid })}\n`);
  return uuid;
}

export type ServerRole = 'source' | 'replica';

export interface ReplicationSettings {
  role: ServerRole;
  source: HostPort | null;
  autoPosition: boolean;
  /** UUID of the source this replica follows (learnt at the first connection). */
  sourceUuid: string | null;
  /** The config values these settings were derived from. */
  seed: { role: ServerRole; source: HostPort | null };
}

function sameSeed(a: ReplicationSettings['seed'], b: ReplicationSettings['seed']): boolean {
  return (
    a.role === b.role &&
    (a.source?.host ?? null) === (b.source?.host ?? null) &&
    (a.source?.port ?? null) === (b.source?.port ?? null)
  );
}

export function loadReplicationSettings(
  dir: string,
  config: { role: ServerRole; source: HostPort | undefined; autoPosition: boolean },
): ReplicationSettings {
  const seed = { role: config.role, source: config.source ?? null };
  const path = join(dir, 'replication.json');
  if (existsSync(path)) {
    try {
      const saved = JSON.parse(readFileSync(path, 'utf8')) as ReplicationSettings;
      if (sameSeed(saved.seed, seed)) return saved;
    } catch {
      // Unreadable: fall back to the config.
    }
  }
  const fresh: ReplicationSettings = {
    role: config.role,
    source: config.source ?? null,
    autoPosition: config.autoPosition,
    sourceUuid: null,
    seed,
  };
  saveReplicationSettings(dir, fresh);
  return fresh;
}

export function saveReplicationSettings(dir: string, s: ReplicationSettings): void {
  writeFileDurably(join(dir, 'replication.json'), `${JSON.stringify(s, null, 2)}\n`);
}
