/**
 * One throughput run of the database benchmark, in its own (pinned) process:
 * single-writer transactions (an INSERT and a counter UPDATE each) on plain
 * node:sqlite, or through hastack's write engine with the binary log in one
 * format. Prints one JSON line: {"transactions", "seconds", "txPerSec"}.
 *
 *   node bench/db-engine-run.ts --target plain|statement|row|mixed --durable yes|no --seconds N --dir DIR
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/core/clock.ts';
import { BinlogWriter } from '../src/db/binlog-writer.ts';
import { GtidSet } from '../src/db/gtid-set.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { ensureStateTable } from '../src/db/replication-state.ts';
import { WriteEngine } from '../src/db/sql-engine.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    durable: { type: 'string', default: 'yes' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    dir: { type: 'string' },
  },
});
const target = values.target!;
const durable = values.durable === 'yes';
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const dir = values.dir!;

const SCHEMA = `CREATE TABLE IF NOT EXISTS bench (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v REAL, n INTEGER);
CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
INSERT OR IGNORE INTO counters SELECT value, 0 FROM generate_series(0, 99);`;

const payload = (i: number) => `key-${i.toString(36).padStart(12, '0')}-${(i * 2654435761) % 1000003}`;

async function runFor(sec: number, one: (i: number) => void | Promise<void>, start: number): Promise<number> {
  const end = performance.now() + sec * 1000;
  let i = start;
  while (performance.now() < end) {
    for (let k = 0; k < 64; k++) await one(i++);
  }
  return i - start;
}

async function main(): Promise<void> {
  const file = join(dir, `${target}.sqlite`);
  let one: (i: number) => void | Promise<void>;
  let close: () => void;
  if (target === 'plain') {
    const db = new DatabaseSync(file, { enableForeignKeyConstraints: true });
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${durable ? 'FULL' : 'NORMAL'}`);
    db.exec(
      SCHEMA.replace(/INSERT OR IGNORE INTO counters SELECT value, 0 FROM generate_series\(0, 99\);/, ''),
    );
    const ins = db.prepare('INSERT INTO bench (id, k, v, n) VALUES (?, ?, ?, ?)');
    const upd = db.prepare('UPDATE counters SET n = n + 1 WHERE id = ?');
    db.exec('BEGIN');
    for (let c = 0; c < 100; c++) db.prepare('INSERT OR IGNORE INTO counters VALUES (?, 0)').run(BigInt(c));
    db.exec('COMMIT');
    const begin = db.prepare('BEGIN IMMEDIATE');
    const commit = db.prepare('COMMIT');
    one = (i) => {
      begin.run();
      ins.run(BigInt(i), payload(i), i * 7.5, BigInt(i % 1000));
      upd.run(BigInt(i % 100));
      commit.run();
    };
    close = () => db.close();
  } else {
    const db = openDatabase(file);
    ensureStateTable(db);
    const binlog = BinlogWriter.recover({
      dir: join(dir, `${target}-binlog`),
      serverId: 1,
      serverUuid: '3e11fa47-71ca-11e1-9e33-c80aa9429562',
      serverVersion: 'bench',
      maxSize: 256 * 1024 * 1024,
      expireMs: 0,
      maxTotalSize: 0,
      sync: durable,
      clock: systemClock,
    });
    binlog.start();
    const engine = new WriteEngine({
      db,
      binlog,
      serverUuid: '3e11fa47-71ca-11e1-9e33-c80aa9429562',
      executed: new GtidSet(),
      format: target as 'statement' | 'row' | 'mixed',
      clock: systemClock,
    });
    engine.execute([
      {
        sql: 'CREATE TABLE IF NOT EXISTS bench (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v REAL, n INTEGER)',
      },
      { sql: 'CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)' },
    ]);
    engine.execute(
      Array.from({ length: 100 }, (_, c) => ({
        sql: 'INSERT OR IGNORE INTO counters VALUES (?, 0)',
        params: [BigInt(c)],
      })),
    );
    const reqs = [
      {
        sql: 'INSERT INTO bench (id, k, v, n) VALUES (?, ?, ?, ?)',
        params: [0n, '', 0, 0n] as (bigint | string | number)[],
      },
      { sql: 'UPDATE counters SET n = n + 1 WHERE id = ?', params: [0n] as bigint[] },
    ];
    one = async (i) => {
      reqs[0]!.params = [BigInt(i), payload(i), i * 7.5, BigInt(i % 1000)];
      reqs[1]!.params = [BigInt(i % 100)];
      engine.execute(reqs);
      // What a client waits for before its commit is acknowledged: the binlog group fsync.
      await binlog.flush();
    };
    close = () => {
      binlog.close();
      db.close();
    };
  }
  const warm = await runFor(warmup, one, 1);
  const t0 = performance.now();
  const n = await runFor(seconds, one, warm + 1);
  const elapsed = (performance.now() - t0) / 1000;
  close();
  process.stdout.write(`${JSON.stringify({ transactions: n, seconds: elapsed, txPerSec: n / elapsed })}\n`);
}

await main();
