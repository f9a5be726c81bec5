import { ManualClock } from '../../../src/core/clock.ts';
import type { BinlogWriterOptions } from '../../../src/db/binlog-writer.ts';

/* Shared by the db unit tests: one source UUID and the binary log options they vary. */

export const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

/** A synced 1 MiB-segment binary log in `dir` with no expiry, on a manual clock; `extra` overrides. */
export function binlogOptions(dir: string, extra: Partial<BinlogWriterOptions> = {}): BinlogWriterOptions {
  return {
    dir,
    serverId: 7,
    serverUuid: UUID,
    serverVersion: 'test',
    maxSize: 1 << 20,
    expireMs: 0,
    maxTotalSize: 0,
    sync: true,
    clock: new ManualClock(),
    ...extra,
  };
}
