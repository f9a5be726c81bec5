import { HastackError } from '../core/errors.ts';

/*
 * Reads SQLite session changesets (the ROW events' payload) for `binlog dump -v`:
 * a table header ('T', column count, primary-key flags, name) followed by changes
 * (operation, indirect flag, old and/or new record). Records hold one value per
 * column: a type byte (0 absent, 1 integer, 2 real, 3 text, 4 blob, 5 null) and
 * the value (8 big-endian bytes, or a varint length and the bytes).
 */

export type ChangeValue = null | bigint | number | string | Uint8Array | undefined;

export interface RowChange {
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  indirect: boolean;
  /** Before image (DELETE, UPDATE: key and changed columns only); undefined = not recorded. */
  before?: ChangeValue[];
  /** After image (INSERT; UPDATE: changed columns only). */
  after?: ChangeValue[];
}

export interface TableChanges {
  table: string;
  primaryKey: boolean[];
  changes: RowChange[];
}

const OP_INSERT = 18;
const OP_DELETE = 9;
const OP_UPDATE = 23;

function malformed(why: string): HastackError {
  return new HastackError('HASTACK_DB_EVENT_INVALID', `malformed changeset: ${why}`);
}

export function decodeChangeset(data: Uint8Array): TableChanges[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > buf.length) throw malformed(`truncated at byte ${at}`);
  };
  const varint = (): number => {
    let v = 0;
    for (let i = 0; i < 9; i++) {
      need(1);
      const b = buf[at++]!;
      if (i === 8) return v * 256 + b;
      v = v * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) return v;
    }
    return v;
  };
  const value = (): ChangeValue => {
    need(1);
    const type = buf[at++]!;
    switch (type) {
      case 0:
        return undefined;
      case 1:
        need(8);
        at += 8;
        return buf.readBigInt64BE(at - 8);
      case 2:
        need(8);
        at += 8;
        return buf.readDoubleBE(at - 8);
      case 3:
      case 4: {
        const n = varint();
        need(n);
        const bytes = buf.subarray(at, at + n);
        at += n;
        return type === 3 ? bytes.toString('utf8') : new Uint8Array(bytes);
      }
      case 5:
        return null;
      default:
        throw malformed(`unknown value type ${type} at byte ${at - 1}`);
    }
  };
  const record = (n: number): ChangeValue[] => {
    const out: ChangeValue[] = [];
    for (let i = 0; i < n; i++) out.push(value());
    return out;
  };

  const tables: TableChanges[] = [];
  let current: TableChanges | undefined;
  while (at < buf.length) {
    const tag = buf[at++]!;
    if (tag === 0x54 /* T */ || tag === 0x50 /* P (patchset) */) {
      const nCol = varint();
      if (nCol < 1 || nCol > 32767) throw malformed(`column count ${nCol}`);
      need(nCol);
      const primaryKey = [...buf.subarray(at, at + nCol)].map((b) => b !== 0);
      at += nCol;
      const nul = buf.indexOf(0, at);
      if (nul === -1) throw malformed('table name is not terminated');
      current = { table: buf.subarray(at, nul).toString('utf8'), primaryKey, changes: [] };
      at = nul + 1;
      tables.push(current);
      continue;
    }
    if (current === undefined) throw malformed(`change before any table header (byte ${tag})`);
    need(1);
    const indirect = buf[at++] !== 0;
    const n = current.primaryKey.length;
    if (tag === OP_INSERT) current.changes.push({ op: 'INSERT', indirect, after: record(n) });
    else if (tag === OP_DELETE) current.changes.push({ op: 'DELETE', indirect, before: record(n) });
    else if (tag === OP_UPDATE) {
      const before = record(n);
      current.changes.push({ op: 'UPDATE', indirect, before, after: record(n) });
    } else throw malformed(`unknown operation ${tag}`);
  }
  return tables;
}
