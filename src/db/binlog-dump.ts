import { decodeEventAt } from './binlog-event.ts';
import { type ChangeValue, decodeChangeset } from './changeset.ts';
import { decodeBody } from './event-bodies.ts';
import { EventType, FIRST_EVENT_POS, LOG_MAGIC } from './event-types.ts';
import { sqlLiteral } from './sql-value.ts';

/*
 * `hastack db binlog dump FILE`: a binary or relay log segment as text, laid out
 * like mysqlbinlog (`# at POS`, a header comment line per event, the SQL of
 * Query events, `### INSERT INTO ...` pseudo-SQL for row changes with -v).
 * Stops with a clear `# ERROR` line at a corrupt or truncated event. Pure.
 */

export interface DumpOptions {
  verbose: boolean;
  startPosition?: number;
  stopPosition?: number;
}

function stamp(sec: number): string {
  const d = new Date(sec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function changeValue(v: ChangeValue): string {
  if (v === undefined) return '';
  if (
    v === null ||
    typeof v === 'bigint' ||
    typeof v === 'number' ||
    typeof v === 'string' ||
    v instanceof Uint8Array
  )
    return sqlLiteral(v);
  return String(v);
}

function rowLines(image: ChangeValue[] | undefined): string[] {
  const out: string[] = [];
  image?.forEach((v, i) => {
    if (v !== undefined) out.push(`###   @${i + 1}=${changeValue(v)}`);
  });
  return out;
}

export function formatBinlogDump(buf: Buffer, name: string, o: DumpOptions): string {
  const out: string[] = [`# hastack binlog dump of ${name}`, `# ${buf.length} bytes`];
  if (buf.length < FIRST_EVENT_POS || !buf.subarray(0, FIRST_EVENT_POS).equals(LOG_MAGIC)) {
    out.push('# ERROR: not a hastack binary or relay log (bad magic bytes)');
    return `${out.join('\n')}\n`;
  }
  let at = FIRST_EVENT_POS;
  let errors = 0;
  while (at < buf.length) {
    if (o.stopPosition !== undefined && at >= o.stopPosition) break;
    if (buf.subarray(at, Math.min(buf.length, at + 4096)).every((b) => b === 0)) {
      out.push(
        `# at ${at}`,
        `# ${buf.length - at} bytes of preallocated space (the segment is still being written)`,
      );
      break;
    }
    let r: ReturnType<typeof decodeEventAt>;
    try {
      r = decodeEventAt(buf, at, name);
    } catch (err) {
      out.push(`# at ${at}`, `# ERROR: ${(err as Error).message}`);
      errors++;
      break;
    }
    if (r.kind === 'incomplete') {
      out.push(
        `# at ${at}`,
        `# ERROR: the file ends inside an event (${r.have} of ${r.need} bytes): truncated`,
      );
      errors++;
      break;
    }
    const raw = r.event;
    const h = raw.header;
    const show = o.startPosition === undefined || at >= o.startPosition;
    if (show) {
      const crc = raw.bytes
        .readUInt32LE(raw.bytes.length - 4)
        .toString(16)
        .padStart(8, '0');
      const head = `#${stamp(h.timestamp)} server id ${h.serverId}  end_log_pos ${h.nextPos} CRC32 0x${crc}`;
      out.push(`# at ${at}`);
      try {
        const ev = decodeBody(raw, `${name} at ${at}`);
        switch (ev.type) {
          case EventType.FORMAT_DESCRIPTION:
            out.push(
              `${head} \tStart: binlog v ${ev.binlogVersion}, server v ${ev.serverVersion} created ${stamp(ev.createdAt)}, server uuid ${ev.serverUuid}`,
            );
            break;
          case EventType.PREVIOUS_GTIDS:
            out.push(`${head} \tPrevious-GTIDs`, `# ${ev.gtids === '' ? '[empty]' : ev.gtids}`);
            break;
          case EventType.GTID: {
            const us = ev.originalCommitUs;
            const iso = new Date(Math.floor(us / 1000)).toISOString().replace('T', ' ').replace('Z', '');
            out.push(
              `${head} \tGTID\toriginal_commit_timestamp=${us} (${iso}${String(us % 1000).padStart(3, '0')} UTC)`,
              `SET @@SESSION.GTID_NEXT= '${ev.uuid}:${ev.seq}'/*!*/;`,
              'BEGIN',
              '/*!*/;',
            );
            break;
          }
          case EventType.QUERY: {
            out.push(`${head} \tQuery${ev.flags & 1 ? '\t(DDL)' : ''}`, ev.sql, '/*!*/;');
            if (ev.params !== undefined) {
              const list = Array.isArray(ev.params)
                ? ev.params.map(sqlLiteral).join(', ')
                : Object.entries(ev.params)
                    .map(([k, v]) => `${k}=${sqlLiteral(v)}`)
                    .join(', ');
              out.push(`# parameters: ${list}`);
            }
            break;
          }
          case EventType.ROWS: {
            const tables = decodeChangeset(ev.changeset);
            const changes = tables.reduce((n, t) => n + t.changes.length, 0);
            out.push(
              `${head} \tRows: ${changes} row change(s) in ${tables.map((t) => t.table).join(', ')} (${ev.changeset.length}-byte changeset)`,
            );
            if (o.verbose) {
              for (const t of tables)
                for (const c of t.changes) {
                  if (c.op === 'INSERT')
                    out.push(`### INSERT INTO \`${t.table}\``, '### SET', ...rowLines(c.after));
                  else if (c.op === 'DELETE')
                    out.push(`### DELETE FROM \`${t.table}\``, '### WHERE', ...rowLines(c.before));
                  else
                    out.push(
                      `### UPDATE \`${t.table}\``,
                      '### WHERE',
                      ...rowLines(c.before),
                      '### SET',
                      ...rowLines(c.after),
                    );
                }
            }
            break;
          }
          case EventType.XID:
            out.push(`${head} \tXid = ${ev.xid}`, 'COMMIT/*!*/;');
            break;
          case EventType.ROTATE:
            out.push(`${head} \tRotate to ${ev.file}  pos: ${ev.pos}`);
            break;
          case EventType.STOP:
            out.push(`${head} \tStop`);
            break;
        }
      } catch (err) {
        out.push(`${head}`, `# ERROR: ${(err as Error).message}`);
        errors++;
        break;
      }
    }
    at = r.end;
  }
  if (errors === 0) out.push('# End of log file');
  return `${out.join('\n')}\n`;
}
