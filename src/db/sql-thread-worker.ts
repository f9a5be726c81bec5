import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../core/clock.ts';
import { errorCode, errorMessage, HastackError } from '../core/errors.ts';
import { Applier } from './applier.ts';
import { BinlogWriter } from './binlog-writer.ts';
import { EventType, FIRST_EVENT_POS } from './event-types.ts';
import { GtidSet } from './gtid-set.ts';
import { checkMagic, scanSegment } from './log-scan.ts';
import { openDatabase } from './open-database.ts';
import type { RelaySegment } from './relay-log.ts';
import { ensureStateTable, readState } from './replication-state.ts';
import type { FromSqlThread, SqlProgress, SqlThreadInit, ToSqlThread } from './sql-thread-protocol.ts';
import { wallMicros } from './wall-clock.ts';

/*
 * The replica's applier (MySQL's SQL thread) in a worker thread: reads the relay
 * log up to what the I/O thread has written, applies each transaction with
 * its position in the same SQLite transaction, re-logs it into this server's
 * binary log, and stops at the first corrupt or truncated event or failed
 * statement instead of applying garbage.
 */

const init = workerData as SqlThreadInit;
const port = parentPort!;
const MAX_BATCH = 2000;
const MAX_BATCH_MS = 50;
const CHUNK = 4 * 1024 * 1024;

let segments: RelaySegment[] = init.segments;
let stopRequested = false;
let drainRequested = false;
let wake: (() => void) | undefined;

port.on('message', (m: ToSqlThread) => {
  if (m.type === 'relay') segments = m.segments;
  else if (m.type === 'stop') stopRequested = true;
  else if (m.type === 'drain') drainRequested = true;
  const w = wake;
  wake = undefined;
  w?.();
});

function post(m: FromSqlThread): void {
  port.postMessage(m);
}

function relayError(code: string, message: string): HastackError {
  return new HastackError(code, `relay log read failure: ${message}`);
}

async function main(): Promise<void> {
  const db = openDatabase(init.dbFile, { backgroundCheckpoints: true });
  let binlog: BinlogWriter | undefined;
  let fd = -1;
  try {
    ensureStateTable(db);
    const state = readState(db);
    const executed = GtidSet.parse(state.gtidExecuted);
    const applier = new Applier(db, executed, state);
    binlog = BinlogWriter.recover({ ...init.binlog, clock: systemClock });
    const recovered = binlog.unexecuted(executed);
    for (const g of recovered) applier.apply(g, undefined);
    binlog.start(executed);
    const log = binlog;

    let file = '';
    let pos = FIRST_EVENT_POS;
    let sourceFile = state.sourceLogFile;
    let execPos = state.execSourceLogPos;
    let fdFile = '';
    let applied = 0;
    let skipped = 0;
    let lagUs: number[] = [];
    let caughtUp = false;
    let want = CHUNK;

    const startAt = (s: RelaySegment | undefined, at: number) => {
      file = s?.name ?? '';
      pos = at;
    };
    const initial = segments.find((s) => s.name === state.relayLogFile);
    let relayTailLost = 0;
    if (initial !== undefined) {
      const at = Math.max(state.relayLogPos, FIRST_EVENT_POS);
      // Applied from bytes an OS crash took before their fsync: they are in the executed
      // set, which the I/O thread asks the source to skip, so going on from the end is exact.
      relayTailLost = Math.max(0, at - initial.size);
      startAt(initial, at - relayTailLost);
    } else startAt(segments[0], FIRST_EVENT_POS);

    const progress = (): SqlProgress => ({
      executed: applier.executed.toString(),
      position: applier.position,
      lastOriginalCommitUs: applier.lastOriginalCommitUs,
      applied,
      skipped,
      lagUs,
      binlog: log.current(),
      caughtUp,
    });
    post({ type: 'started', progress: progress(), recovered: recovered.length, relayTailLost });

    /** Applies what is available; returns true if it made progress. */
    const step = (): boolean => {
      if (file === '' || !segments.some((s) => s.name === file)) {
        // Not started, or the segment was reset away: GTIDs make re-reading from the first one safe.
        if (segments.length === 0) return false;
        startAt(segments[0], FIRST_EVENT_POS);
      }
      const index = segments.findIndex((s) => s.name === file);
      const seg = segments[index]!;
      const isLast = index === segments.length - 1;
      if (pos > seg.size)
        throw relayError(
          'HASTACK_DB_RELAY_LOG_TRUNCATED',
          `${file} is ${seg.size} bytes, shorter than the applied position ${pos}`,
        );
      if (pos === seg.size) {
        if (isLast) return false;
        post({ type: 'segment-done', name: file });
        startAt(segments[index + 1], FIRST_EVENT_POS);
        return true;
      }
      if (fdFile !== file) {
        if (fd !== -1) closeSync(fd);
        fd = openSync(join(init.relayDir, file), 'r');
        fdFile = file;
        const magic = Buffer.alloc(FIRST_EVENT_POS);
        readSync(fd, magic, 0, FIRST_EVENT_POS, 0);
        checkMagic(magic, `relay log ${file}`);
      }
      const pos0 = pos;
      const len = Math.min(seg.size - pos, want);
      const readEnd = pos + len;
      const buf = Buffer.allocUnsafe(len);
      const got = readSync(fd, buf, 0, len, pos);
      if (got < len)
        throw relayError(
          'HASTACK_DB_RELAY_LOG_TRUNCATED',
          `${file} is truncated: it ends at ${pos + got} but ${seg.size} bytes were written to it`,
        );
      const scan = scanSegment(buf, `relay log ${file}`, 0, pos);
      const started = Date.now();
      let gi = 0;
      let count = 0;
      for (const e of scan.events) {
        const ev = e.event;
        if (ev.type === EventType.GTID) {
          const group = scan.groups[gi++]!;
          const xid = group.events[group.events.length - 1]!;
          execPos = xid.raw.header.nextPos;
          const position = {
            relayLogFile: file,
            relayLogPos: group.end,
            sourceLogFile: sourceFile,
            execSourceLogPos: execPos,
          };
          const done = applier.apply(group, position, () => {
            log.appendRaw(group.events.map((x) => x.raw.bytes));
          });
          if (done) {
            applied++;
            lagUs.push(wallMicros() - group.gtid.originalCommitUs);
          } else skipped++;
          pos = group.end;
          if (++count >= MAX_BATCH || Date.now() - started > MAX_BATCH_MS) return true;
        } else if (e.end > pos) {
          // Standalone events: a Rotate names the source file that follows.
          if (ev.type === EventType.ROTATE) {
            sourceFile = ev.file;
            execPos = ev.pos;
          }
          pos = e.end;
        }
      }
      if (scan.tail !== undefined) {
        if (scan.tail.code !== 'HASTACK_DB_LOG_TRUNCATED')
          throw relayError(scan.tail.code, scan.tail.message);
        if (readEnd < seg.size) {
          // The read ended inside an event or transaction: read a larger piece next time.
          want = Math.max(CHUNK, scan.incompleteNeed + 64 * 1024);
          return true;
        }
        // What the I/O thread wrote ends inside a transaction: the file was cut or overwritten.
        throw relayError('HASTACK_DB_RELAY_LOG_TRUNCATED', scan.tail.message);
      }
      want = CHUNK;
      return pos !== pos0;
    };

    for (;;) {
      if (stopRequested) break;
      let moved: boolean;
      try {
        moved = step();
      } finally {
        // The replica's own binary log syncs while the next transactions apply.
        log.syncInBackground();
      }
      const wasCaughtUp: boolean = caughtUp;
      caughtUp = !moved;
      if (moved || lagUs.length > 0 || caughtUp !== wasCaughtUp) {
        post({ type: 'progress', progress: progress() });
        lagUs = [];
      }
      if (caughtUp && drainRequested) break;
      if (moved) await yieldToEvents();
      else
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
    }
    caughtUp = true;
    post({ type: 'progress', progress: progress() });
    post({ type: 'stopped', reason: drainRequested && !stopRequested ? 'drain' : 'stop' });
  } catch (err) {
    post({ type: 'error', code: errorCode(err), message: errorMessage(err) });
  } finally {
    if (fd !== -1) closeSync(fd);
    try {
      await binlog?.backgroundIdle();
      binlog?.close();
    } catch {
      // Exiting anyway.
    }
    db.close();
    // The message listener would keep the thread alive.
    port.removeAllListeners('message');
    port.unref();
  }
}

void main();
