/**
 * A minimal MySQL/MariaDB client for the database benchmark: TCP, protocol 41,
 * mysql_native_password, COM_QUERY with text result sets. Enough to write rows
 * and poll a replica without an npm dependency; not a general driver.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { HastackError } from '../../src/core/errors.ts';

const CLIENT_LONG_PASSWORD = 0x1;
const CLIENT_CONNECT_WITH_DB = 0x8;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_TRANSACTIONS = 0x2000;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_MULTI_RESULTS = 0x20000;
const CLIENT_PLUGIN_AUTH = 0x80000;

export interface MysqlOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database?: string;
}

export type MysqlRow = (string | null)[];

function nativePassword(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest();
  const stage1 = sha1(password);
  const stage2 = sha1(stage1);
  const mix = sha1(Buffer.concat([scramble, stage2]));
  for (let i = 0; i < mix.length; i++) mix[i] = mix[i]! ^ stage1[i]!;
  return mix;
}

/** One connection; queries run one at a time (callers keep a pool for concurrency). */
export class MysqlConnection {
  #socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #waiters: { resolve: (p: Buffer) => void; reject: (e: Error) => void }[] = [];
  #packets: Buffer[] = [];
  #error: Error | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      while (this.#buf.length >= 4) {
        const len = this.#buf.readUIntLE(0, 3);
        if (this.#buf.length < 4 + len) break;
        const payload = this.#buf.subarray(4, 4 + len);
        this.#buf = this.#buf.subarray(4 + len);
        const w = this.#waiters.shift();
        if (w !== undefined) w.resolve(payload);
        else this.#packets.push(payload);
      }
    });
    socket.on('error', (err) => {
      this.#error = err;
    });
    socket.on('close', () => {
      this.#error ??= new Error('mysql connection closed');
      for (const w of this.#waiters.splice(0)) w.reject(this.#error);
    });
  }

  static async open(o: MysqlOptions): Promise<MysqlConnection> {
    const socket = connect({ host: o.host, port: o.port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new MysqlConnection(socket);
    await c.#handshake(o);
    return c;
  }

  #next(): Promise<Buffer> {
    const p = this.#packets.shift();
    if (p !== undefined) return Promise.resolve(p);
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #send(seq: number, payload: Buffer): void {
    const head = Buffer.alloc(4);
    head.writeUIntLE(payload.length, 0, 3);
    head[3] = seq;
    this.#socket.write(Buffer.concat([head, payload]));
  }

  async #handshake(o: MysqlOptions): Promise<void> {
    const hs = await this.#next();
    if (hs[0] === 0xff) throw serverError(hs);
    let at = 1;
    at = hs.indexOf(0, at) + 1; // server version
    at += 4; // connection id
    const part1 = hs.subarray(at, at + 8);
    at += 9; // 8 bytes + filler
    at += 2 + 1 + 2 + 2; // capability low, charset, status, capability high
    const authLen = hs[at]!;
    at += 1 + 10;
    const part2Len = Math.max(13, authLen - 8);
    const part2 = hs.subarray(at, at + part2Len - 1); // drop the trailing NUL
    const scramble = Buffer.concat([part1, part2]);
    const flags =
      CLIENT_LONG_PASSWORD |
      CLIENT_PROTOCOL_41 |
      CLIENT_TRANSACTIONS |
      CLIENT_SECURE_CONNECTION |
      CLIENT_MULTI_RESULTS |
      CLIENT_PLUGIN_AUTH |
      (o.database !== undefined ? CLIENT_CONNECT_WITH_DB : 0);
    const auth = nativePassword(o.password, scramble);
    const head = Buffer.alloc(32);
    head.writeUInt32LE(flags, 0);
    head.writeUInt32LE(16 * 1024 * 1024, 4);
    head[8] = 45; // utf8mb4_general_ci
    const parts = [head, Buffer.from(`${o.user}\0`), Buffer.from([auth.length]), auth];
    if (o.database !== undefined) parts.push(Buffer.from(`${o.database}\0`));
    parts.push(Buffer.from('mysql_native_password\0'));
    this.#send(1, Buffer.concat(parts));
    let reply = await this.#next();
    if (reply[0] === 0xfe) {
      // Auth switch: answer with the scramble of the requested plugin (native password).
      const nul = reply.indexOf(0, 1);
      const salt = reply.subarray(nul + 1, reply.length - 1);
      this.#send(3, nativePassword(o.password, salt));
      reply = await this.#next();
    }
    if (reply[0] === 0xff) throw serverError(reply);
  }

  /** Runs one statement; resolves with its rows (empty for statements without a result set). */
  query(sql: string): Promise<MysqlRow[]> {
    const run = this.#queue.then(() => this.#query(sql));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #query(sql: string): Promise<MysqlRow[]> {
    this.#send(0, Buffer.concat([Buffer.from([0x03]), Buffer.from(sql, 'utf8')]));
    const first = await this.#next();
    if (first[0] === 0x00) return [];
    if (first[0] === 0xff) throw serverError(first, sql);
    const [columns] = lenenc(first, 0);
    for (let i = 0; i < columns; i++) await this.#next();
    let p = await this.#next();
    if (p[0] === 0xfe && p.length < 9) p = await this.#next(); // EOF after column definitions
    const rows: MysqlRow[] = [];
    while (!(p[0] === 0xfe && p.length < 9)) {
      if (p[0] === 0xff) throw serverError(p, sql);
      const row: MysqlRow = [];
      let at = 0;
      for (let i = 0; i < columns; i++) {
        if (p[at] === 0xfb) {
          row.push(null);
          at++;
          continue;
        }
        const [len, next] = lenenc(p, at);
        row.push(p.subarray(next, next + len).toString('utf8'));
        at = next + len;
      }
      rows.push(row);
      p = await this.#next();
    }
    return rows;
  }

  close(): void {
    this.#socket.destroy();
  }
}

function lenenc(b: Buffer, at: number): [number, number] {
  const first = b[at]!;
  if (first < 0xfb) return [first, at + 1];
  if (first === 0xfc) return [b.readUInt16LE(at + 1), at + 3];
  if (first === 0xfd) return [b.readUIntLE(at + 1, 3), at + 4];
  return [Number(b.readBigUInt64LE(at + 1)), at + 9];
}

function serverError(p: Buffer, sql?: string): HastackError {
  const code = p.readUInt16LE(1);
  const message = p.subarray(p[3] === 0x23 ? 9 : 3).toString('utf8');
  return new HastackError(
    'HASTACK_BENCH_MYSQL',
    `MySQL error ${code}: ${message}${sql === undefined ? '' : ` (${sql.slice(0, 80)})`}`,
  );
}
