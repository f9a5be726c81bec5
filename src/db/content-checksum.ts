import { createHash } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { openDatabase } from './open-database.ts';

/*
 * A canonical, byte-exact rendering of a database's user content (schema SQL and
 * every row in primary key / rowid order, each value with its SQLite storage
 * class) and its SHA-256: two servers with the same checksum hold byte-identical
 * data, whatever their page layout (LiteFS and pt-table-checksum check the same
 * way).
 */
export function contentChecksum(
  file: string,
  exclude: readonly string[] = [],
): { checksum: string; tables: number; rows: number } {
  const db = openDatabase(file, true);
  try {
    return checksumOf(db, exclude);
  } finally {
    db.close();
  }
}

export function checksumOf(
  db: DatabaseSync,
  exclude: readonly string[],
): { checksum: string; tables: number; rows: number } {
  const hash = createHash('sha256');
  const skip = new Set(exclude.map((t) => t.toLowerCase()));
  db.exec('BEGIN');
  try {
    const objects = db
      .prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
      )
      .all() as { type: string; name: string; tbl_name: string; sql: string | null }[];
    let tables = 0;
    let rows = 0;
    for (const o of objects) {
      if (skip.has(o.tbl_name.toLowerCase())) continue;
      hash.update(`${o.type}\u0000${o.name}\u0000${o.sql ?? ''}\u0000`);
      if (o.type !== 'table' || /^\s*CREATE\s+VIRTUAL/i.test(o.sql ?? '')) continue;
      tables++;
      const cols = db.prepare('SELECT name, pk FROM pragma_table_info(?) ORDER BY cid').all(o.name) as {
        name: string;
        pk: number;
      }[];
      const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
      const withoutRowid = /WITHOUT\s+ROWID\s*$/i.test(o.sql ?? '');
      const order = pk.length > 0 ? pk.map((c) => quote(c.name)).join(', ') : withoutRowid ? '1' : 'rowid';
      const select = cols.map((c) => `typeof(${quote(c.name)}), ${quote(c.name)}`).join(', ');
      const stmt = db.prepare(`SELECT ${select} FROM ${quote(o.name)} ORDER BY ${order}`);
      stmt.setReturnArrays(true);
      stmt.setReadBigInts(true);
      for (const row of stmt.iterate() as Iterable<unknown[]>) {
        rows++;
        for (let i = 0; i < row.length; i += 2) {
          const v = row[i + 1];
          hash.update(`${String(row[i])}:`);
          if (v instanceof Uint8Array) hash.update(v);
          else if (typeof v === 'number') hash.update(Buffer.from(new Float64Array([v]).buffer));
          else hash.update(String(v));
          hash.update('\u0001');
        }
        hash.update('\u0002');
      }
    }
    return { checksum: hash.digest('hex'), tables, rows };
  } finally {
    db.exec('COMMIT');
  }
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
