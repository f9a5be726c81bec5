/**
 * One throughput run of the database benchmark, in its own (pinned) process:
 * single-writer transactions (an INSERT and a counter UPDATE each) on plain
 * node:sqlite, or through hastack's write engine with the binary log in one
 * format. With several targets (--target plain,statement,...) they run in the
 * same process in alternating blocks of --block-ms (the order rotates every
 * round), so that every target sees the same disk and CPU noise; each gets
 * --seconds in total. Prints one JSON line per target:
 * {"target", "transactions", "seconds", "txPerSec", "cpuUsPerTx"}.
 *
 * Both sides run WAL mode and checkpoint the same way: by default in a background
 * thread (src/db/checkpointer.ts, as a hastack server does; the writer then
 * checkpoints only past a backstop size), or with --checkpoints auto SQLite's
 * default (the committing writer checkpoints every 1000 pages). durable: plain
 * synchronous=FULL (the WAL is fsynced in every COMMIT) vs hastack
 * synchronous=NORMAL + the binary log fdatasynced per commit (sync_binlog=1);
 * no fsync: synchronous=NORMAL on both, binary log not synced.
 *
 *   node bench/db-engine-run.ts --target plain|statement|row|mixed[,...] --durable yes|no --seconds N --dir DIR
 *     [--checkpoints background|auto] [--block-ms 100]
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/core/clock.ts';
import { BinlogWriter } from '../src/db/binlog-writer.ts';
import { Checkpointer } from '../src/db/checkpointer.ts';
import { GtidSet } from '../src/db/gtid-set.ts';
import { BACKSTOP_CHECKPOINT_PAGES, openDatabase } from '../src/db/open-database.ts';
import { ensureStateTable } from '../src/db/replication-state.ts';
import { WriteEngine } from '../src/db/sql-engine.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    durable: { type: 'string', default: 'yes' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    dir: { type: 'string' },
    checkpoints: { type: 'string', default: 'background' },
    'block-ms': { type: 'string', default: '100' },
  },
});
const targets = values.target!.split(',');
const blockMs = Number(values['block-ms']);
const durable = values.durable === 'yes';
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const dir = values.dir!;
const background = values.checkpoints !== 'auto';

const SCHEMA = `CREATE TABLE IF NOT EXISTS bench (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v REAL, n INTEGER);
CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
INSERT OR IGNORE INTO counters SELECT value, 0 FROM generate_series(0, 99);`;

const payload = (i: number) => `key-${i.toString(36).padStart(12, '0')}-${(i * 2654435761) % 1000003}`;

type One = (i: number) => void | Promise<void>;

async function runFor(sec: number, one: One, start: number): Promise<number> {
  const end = performance.now() + sec * 1000;
  let i = start;
  while (performance.now() < end) {
    for (let k = 0; k < 16; k++) await one(i++);
  }
  return i - start;
}

interface Prepared {
  target: string;
  one: One;
  close: () => Promise<void>;
  next: number;
  transactions: number;
  ms: number;
  cpuUs: number;
}

async function prepare(target: string): Promise<Prepared> {
  const file = join(dir, `${target}.sqlite`);
  let one: One;
  let close: () => void;
  if (target === 'plain') {
    const db = new DatabaseSync(file, { enableForeignKeyConstraints: true });
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${durable ? 'FULL' : 'NORMAL'}`);
    if (background) db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
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
    const db = openDatabase(file, { backgroundCheckpoints: background });
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
  const checkpointer = background
    ? new Checkpointer(file, target, (m) => process.stderr.write(`${m}\n`))
    : undefined;
  return {
    target,
    one,
    close: async () => {
      close();
      await checkpointer?.stop();
    },
    next: 1,
    transactions: 0,
    ms: 0,
    cpuUs: 0,
  };
}

/** Runs `p` for `ms` and adds what it did to its totals (CPU: the whole process, every thread). */
async function measure(p: Prepared, sec: number): Promise<void> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const n = await runFor(sec, p.one, p.next);
  const cpu = process.cpuUsage(cpu0);
  p.ms += performance.now() - t0;
  p.cpuUs += cpu.user + cpu.system;
  p.transactions += n;
  p.next += n;
}

async function main(): Promise<void> {
  const prepared: Prepared[] = [];
  for (const t of targets) prepared.push(await prepare(t));
  for (const p of prepared) p.next += await runFor(warmup, p.one, p.next);
  if (prepared.length === 1) await measure(prepared[0]!, seconds);
  else {
    const rounds = Math.max(1, Math.round((seconds * 1000) / blockMs));
    for (let r = 0; r < rounds; r++)
      for (let k = 0; k < prepared.length; k++)
        await measure(prepared[(k + r) % prepared.length]!, blockMs / 1000);
  }
  for (const p of prepared) {
    await p.close();
    process.stdout.write(
      `${JSON.stringify({ target: p.target, transactions: p.transactions, seconds: p.ms / 1000, txPerSec: p.transactions / (p.ms / 1000), cpuUsPerTx: p.cpuUs / p.transactions })}\n`,
    );
  }
}

await main();
