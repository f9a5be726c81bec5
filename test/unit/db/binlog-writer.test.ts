import assert from 'node:assert/strict';
import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { formatBinlogDump } from '../../../src/db/binlog-dump.ts';
import { BinlogWriter, type DurableChunk } from '../../../src/db/binlog-writer.ts';
import { EventType } from '../../../src/db/event-types.ts';
import { GtidSet } from '../../../src/db/gtid-set.ts';
import { scanSegment } from '../../../src/db/log-scan.ts';
import { RelayLog } from '../../../src/db/relay-log.ts';

import { binlogOptions, UUID } from './binlog-helpers.ts';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hastack-binlog-'));
  dirs.push(d);
  return d;
}

function tx(w: BinlogWriter, seq: number, sql = `INSERT INTO t VALUES (${seq})`) {
  const r = w.appendTransaction(
    [
      { type: EventType.GTID, uuid: UUID, seq, originalCommitUs: seq },
      { type: EventType.QUERY, flags: 0, sql, params: [BigInt(seq)] },
      { type: EventType.XID, xid: seq },
    ],
    1_700_000_000,
  );
  w.noteLogged(UUID, seq);
  return r;
}

describe('binary log writer', () => {
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('writes segments with a header, an index, rotation and Previous_gtids', async () => {
    const d = dir();
    const durable: DurableChunk[] = [];
    const w = BinlogWriter.recover(binlogOptions(d, { maxSize: 600, onDurable: (c) => durable.push(...c) }));
    w.start();
    for (let seq = 1; seq <= 12; seq++) tx(w, seq);
    await w.flush();
    w.close();
    const names = readFileSync(join(d, 'binlog.index'), 'utf8').trim().split('\n');
    assert.ok(names.length >= 3, `rotated into ${names.length} segments`);
    const second = scanSegment(readFileSync(join(d, names[1]!)), names[1]!);
    assert.equal(second.tail, undefined);
    assert.equal(second.events[0]!.event.type, EventType.FORMAT_DESCRIPTION);
    const prev = second.events[1]!.event;
    assert.ok(prev.type === EventType.PREVIOUS_GTIDS && /^3e11fa47.*:1-\d+$/.test(prev.gtids));
    const first = scanSegment(readFileSync(join(d, names[0]!)), names[0]!);
    const last = first.events[first.events.length - 1]!;
    assert.ok(last.event.type === EventType.ROTATE && last.event.file === names[1]);
    assert.equal(last.end, statSync(join(d, names[0]!)).size, 'next_pos chain ends at the file size');
    const final = scanSegment(readFileSync(join(d, names.at(-1)!)), 'x');
    assert.equal(final.events.at(-1)!.event.type, EventType.STOP, 'a clean close writes Stop');
    const total = names.reduce((n, f) => n + scanSegment(readFileSync(join(d, f)), f).groups.length, 0);
    assert.equal(total, 12);
    assert.ok(durable.length >= 12, 'every append was reported durable');
  });

  it('cuts a torn tail, finds transactions the database lacks, and rotates at start', () => {
    const d = dir();
    const w = BinlogWriter.recover(binlogOptions(d));
    w.start();
    for (let seq = 1; seq <= 5; seq++) tx(w, seq);
    const file = join(d, w.current().file);
    const size = w.current().pos;
    assert.ok(statSync(file).size > size, 'zeros are written ahead of the data');
    // Simulate kill -9 in the middle of writing transaction 6.
    const fd = openSync(file, 'r+');
    writeSync(
      fd,
      Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]),
      0,
      21,
      size,
    );
    closeSync(fd);
    const warnings: string[] = [];
    const r = BinlogWriter.recover(binlogOptions(d, { warn: (m) => warnings.push(m) }));
    assert.equal(statSync(file).size, size);
    assert.match(warnings[0]!, new RegExp(`cutting \\d+ bytes after position ${size} \\(`));
    const missing = r.unexecuted(GtidSet.parse(`${UUID}:1-3`));
    assert.deepEqual(
      missing.map((g) => g.gtid.seq),
      [4, 5],
    );
    r.start(GtidSet.parse(`${UUID}:1-5`));
    assert.equal(r.logged.toString(), `${UUID}:1-5`);
    assert.equal(readdirSync(d).filter((f) => /^binlog\.\d+$/.test(f)).length, 2);
    tx(r, 6);
    r.close();
  });

  it('drops an unfinished transaction at the end (torn between events)', () => {
    const d = dir();
    const w = BinlogWriter.recover(binlogOptions(d));
    w.start();
    tx(w, 1);
    const { file, end } = tx(w, 2);
    const path = join(d, file);
    truncateSync(path, end - 10);
    const r = BinlogWriter.recover(binlogOptions(d, { warn: () => {} }));
    assert.deepEqual(
      r.unexecuted(new GtidSet()).map((g) => g.gtid.seq),
      [1],
    );
    r.start();
    r.close();
  });

  it('undoes an append whose commit failed, and purges old segments', () => {
    const d = dir();
    const w = BinlogWriter.recover(binlogOptions(d));
    w.start();
    tx(w, 1);
    const before = w.current().pos;
    const r = tx(w, 2);
    w.truncateTo(r);
    assert.equal(w.current().pos, before);
    w.rotate();
    w.rotate();
    const segs = w.segments().map((s) => s.name);
    assert.equal(segs.length, 3);
    assert.deepEqual(w.purgeTo(segs[2]!), segs.slice(0, 2));
    assert.equal(w.purged.toString(), `${UUID}:1-2`, 'gtid_purged is the oldest segment Previous_gtids');
    assert.throws(() => w.purgeTo('binlog.999999'), { code: 'HASTACK_DB_LOG_UNKNOWN' });
    w.close();
    const size = BinlogWriter.recover(binlogOptions(d, { maxTotalSize: 1 }));
    size.start();
    assert.equal(size.segments().length, 1, 'max_total_size keeps only the current segment');
    size.close();
  });

  it('dumps a segment like mysqlbinlog and stops at corruption', () => {
    const d = dir();
    const w = BinlogWriter.recover(binlogOptions(d));
    w.start();
    tx(w, 1, "INSERT INTO t VALUES ('it''s')");
    w.close();
    const name = w.current().file;
    const buf = readFileSync(join(d, name));
    const text = formatBinlogDump(buf, name, { verbose: true });
    assert.match(text, /# at 4\n#231114 22:13:20 server id 7 {2}end_log_pos \d+ CRC32 0x[0-9a-f]{8} \tStart/);
    assert.match(text, /Previous-GTIDs\n# \[empty\]/);
    assert.match(text, /SET @@SESSION.GTID_NEXT= '3e11fa47-71ca-11e1-9e33-c80aa9429562:1'/);
    assert.match(text, /INSERT INTO t VALUES \('it''s'\)\n\/\*!\*\/;\n# parameters: 1/);
    assert.match(text, /Xid = 1\nCOMMIT/);
    assert.match(text, /# End of log file\n$/);
    const bad = Buffer.from(buf);
    bad[bad.length - 30] = bad[bad.length - 30]! ^ 0xff;
    assert.match(formatBinlogDump(bad, name, { verbose: false }), /# ERROR: event checksum mismatch/);
    assert.match(formatBinlogDump(buf.subarray(0, buf.length - 3), name, { verbose: false }), /truncated/);
    assert.match(formatBinlogDump(Buffer.from('hello'), name, { verbose: false }), /bad magic/);
  });
});

describe('relay log', () => {
  it('recovers retrieved GTIDs and source coordinates, cutting a torn tail', async () => {
    const d = dir();
    const clock = new ManualClock();
    const o = { dir: d, serverId: 2, serverUuid: UUID, serverVersion: 't', maxSize: 1 << 20, clock };
    const relay = RelayLog.recover(o);
    const src = BinlogWriter.recover(binlogOptions(dir()));
    src.start();
    const bytes = (seq: number) => {
      const r = tx(src, seq);
      return readFileSync(join(src.segmentPath(r.file))).subarray(r.start, r.end);
    };
    await relay.startSegment({ file: 'binlog.000001', pos: 4 });
    for (let seq = 1; seq <= 3; seq++)
      relay.append({
        bytes: Buffer.from(bytes(seq)),
        gtid: { uuid: UUID, seq },
        source: { file: 'binlog.000001', pos: seq * 100 },
      });
    await relay.idle();
    assert.equal(relay.retrieved.toString(), `${UUID}:1-3`);
    const seg = relay.current()!;
    await relay.close();
    appendFileSync(join(d, seg.file), Buffer.from(bytes(4)).subarray(0, 30));
    const again = RelayLog.recover({ ...o, warn: () => {} });
    assert.equal(again.retrieved.toString(), `${UUID}:1-3`);
    assert.equal(again.current()!.pos, seg.pos, 'the torn transaction was cut');
    assert.equal(again.lastSource?.file, 'binlog.000001');
    await again.reset();
    assert.deepEqual(again.segments(), []);
    assert.equal(again.retrieved.toString(), '');
    src.close();
  });
});
