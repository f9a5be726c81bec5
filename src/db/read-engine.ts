import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { errorMessage, HastackError } from '../core/errors.ts';
import { openDatabase } from './open-database.ts';
import type { StatementRequest, StatementResult } from './sql-engine.ts';
import { singleStatement } from './sql-lexer.ts';
import type { SqlValue } from './sql-value.ts';
import { Auth } from './statement-analysis.ts';

/*
 * Client reads on a read-only connection (replicas are read-only to clients):
 * the statements of one request see one snapshot (a read transaction).
 */

const DENIED = new Set<number>([Auth.ATTACH, Auth.DETACH, Auth.TRANSACTION, Auth.SAVEPOINT]);

export class ReadEngine {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, { stmt: StatementSync; columns: string[] }>();
  /** Only client statements are checked (the read transaction itself is ours). */
  #checking = false;

  constructor(file: string) {
    this.#db = openDatabase(file, true);
    this.#db.setAuthorizer((code, _a1, a2) => {
      if (!this.#checking) return 0;
      if (DENIED.has(code)) return 1;
      if (code === Auth.PRAGMA && a2 !== null) return 1;
      return 0;
    });
  }

  query(requests: readonly StatementRequest[]): StatementResult[] {
    if (requests.length === 0) throw new HastackError('HASTACK_DB_BAD_REQUEST', 'no statements to run');
    const db = this.#db;
    const results: StatementResult[] = [];
    db.exec('BEGIN');
    try {
      requests.forEach((req, i) => {
        const p = this.#prepare(req.sql, i, requests.length);
        if (p.columns.length === 0)
          throw new HastackError(
            'HASTACK_DB_NOT_A_QUERY',
            `${requests.length > 1 ? `statement ${i + 1}: ` : ''}not a query: send writes to /db/execute on the source`,
          );
        const params = req.params;
        const rows = (params === undefined
          ? p.stmt.all()
          : Array.isArray(params)
            ? p.stmt.all(...(params as SqlValue[]))
            : p.stmt.all(params as Record<string, SqlValue>)) as unknown as unknown[][];
        results.push({ columns: p.columns, rows });
      });
    } catch (err) {
      if (err instanceof HastackError) throw err;
      throw new HastackError('HASTACK_DB_SQL', errorMessage(err), { cause: err });
    } finally {
      if (db.isTransaction) db.exec('COMMIT');
    }
    return results;
  }

  #prepare(sql: string, index: number, count: number): { stmt: StatementSync; columns: string[] } {
    const cached = this.#cache.get(sql);
    if (cached !== undefined) return cached;
    if (singleStatement(sql).length === 0)
      throw new HastackError('HASTACK_DB_BAD_REQUEST', 'empty SQL statement');
    let stmt: StatementSync;
    this.#checking = true;
    try {
      stmt = this.#db.prepare(sql);
    } catch (err) {
      const where = count > 1 ? `statement ${index + 1}: ` : '';
      const message = errorMessage(err);
      throw new HastackError(
        /not authorized/.test(message) ? 'HASTACK_DB_FORBIDDEN_STATEMENT' : 'HASTACK_DB_SQL',
        `${where}${message}`,
        { cause: err },
      );
    } finally {
      this.#checking = false;
    }
    stmt.setReturnArrays(true);
    // Integers beyond 2^53 come back exact (as {"$int"} in JSON).
    stmt.setReadBigInts(true);
    const entry = { stmt, columns: stmt.columns().map((c) => c.name) };
    if (this.#cache.size > 500) this.#cache.clear();
    this.#cache.set(sql, entry);
    return entry;
  }

  close(): void {
    this.#db.close();
  }
}
