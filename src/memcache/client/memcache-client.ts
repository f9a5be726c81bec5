import net from 'node:net';
import { type Clock, systemClock } from '../../core/clock.ts';
import { HastackError } from '../../core/errors.ts';
import type { RingServer } from './ketama.ts';
import { ReplyReader, type RetrievedValue } from './reply-reader.ts';
import { ServerPool } from './server-pool.ts';

/**
 * A small memcached client (text protocol): keys spread over servers by ketama
 * consistent hashing (same mapping as libmemcached and the `memcached` npm
 * client), weights, pipelined requests per connection, and ejection of a server
 * that keeps failing, retried after a delay.
 */
export interface MemcacheClientOptions {
  /** "host:port" or { address, weight }. */
  servers: readonly (string | { address: string; weight?: number })[];
  /** Per-request timeout (default 1000 ms). */
  timeoutMs?: number;
  /** Consecutive failures that eject a server (default 2). */
  failureLimit?: number;
  /** How long an ejected server stays out (default 30 s). */
  retryDelayMs?: number;
  /** Move a dead server's keys to the next server (default true); false fails fast instead. */
  remapOnFailure?: boolean;
  clock?: Clock;
}

export interface StoreOptions {
  exptime?: number;
  flags?: number;
}

type Reader = (r: ReplyReader) => unknown;

interface Pending {
  read: Reader;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** One TCP connection to one server, with requests answered in order. */
class ServerConnection {
  readonly address: string;
  readonly #host: string;
  readonly #port: number;
  readonly #onFailure: (address: string) => void;
  readonly #onSuccess: (address: string) => void;
  #socket: net.Socket | undefined;
  readonly #reader = new ReplyReader();
  readonly #queue: Pending[] = [];

  constructor(address: string, onFailure: (a: string) => void, onSuccess: (a: string) => void) {
    this.address = address;
    const colon = address.lastIndexOf(':');
    this.#host = address.slice(0, colon).replace(/^\[|\]$/g, '');
    this.#port = Number(address.slice(colon + 1));
    this.#onFailure = onFailure;
    this.#onSuccess = onSuccess;
  }

  request<T>(data: Buffer | string, read: Reader, timeoutMs: number): Promise<T> {
    const socket = this.#connect();
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        read,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: setTimeout(
          () =>
            this.#fail(
              new HastackError('HASTACK_MEMCACHED_CLIENT_TIMEOUT', `${this.address}: request timed out`),
            ),
          timeoutMs,
        ),
      };
      this.#queue.push(pending);
      socket.write(data);
    });
  }

  #connect(): net.Socket {
    if (this.#socket !== undefined) {
      if (!this.#socket.destroyed) return this.#socket;
      // Destroyed, its 'close' not run yet: what was in flight on it is lost, fail it before replacing.
      this.#fail(new HastackError('HASTACK_MEMCACHED_CLIENT_CLOSED', `${this.address}: connection closed`));
    }
    const socket = net.connect({ host: this.#host, port: this.#port, noDelay: true });
    this.#socket = socket;
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', (err) => {
      if (!this.#isStale(socket)) this.#fail(err);
    });
    socket.on('close', () => {
      // A connection already dropped by #fail closes late: its requests were failed then.
      if (this.#isStale(socket)) return;
      this.#socket = undefined;
      this.#fail(new HastackError('HASTACK_MEMCACHED_CLIENT_CLOSED', `${this.address}: connection closed`));
    });
    return socket;
  }

  /** True for an old socket once a newer connection replaced it. */
  #isStale(socket: net.Socket): boolean {
    return this.#socket !== undefined && this.#socket !== socket;
  }

  #onData(chunk: Buffer): void {
    this.#reader.push(chunk);
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      let result: unknown;
      try {
        result = head.read(this.#reader);
      } catch (err) {
        // A reply that cannot be parsed: the rest of the stream is unreadable, drop the connection.
        this.#fail(err as Error);
        return;
      }
      if (result === undefined) return;
      this.#queue.shift();
      clearTimeout(head.timer);
      this.#onSuccess(this.address);
      head.resolve(result);
    }
  }

  /** Fails every request in flight (their order is lost) and drops the connection. */
  #fail(err: Error): void {
    if (this.#queue.length === 0) return;
    this.#onFailure(this.address);
    const failed = this.#queue.splice(0);
    for (const p of failed) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#reader.clear();
  }

  close(): void {
    this.#socket?.end();
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

const readLine: Reader = (r) => r.line();
const readValues: Reader = (r) => r.values();
const readStats: Reader = (r) => r.stats();

export class MemcacheClient {
  readonly #pool: ServerPool;
  readonly #connections = new Map<string, ServerConnection>();
  readonly #timeoutMs: number;

  constructor(options: MemcacheClientOptions) {
    const servers: RingServer[] = options.servers.map((s) =>
      typeof s === 'string' ? { address: s, weight: 1 } : { address: s.address, weight: s.weight ?? 1 },
    );
    if (servers.length === 0)
      throw new HastackError('HASTACK_MEMCACHED_CLIENT_CONFIG', 'at least one server is required');
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#pool = new ServerPool(servers, options.clock ?? systemClock, {
      failureLimit: options.failureLimit ?? 2,
      retryDelayMs: options.retryDelayMs ?? 30_000,
      remapOnFailure: options.remapOnFailure ?? true,
    });
    for (const s of servers) {
      this.#connections.set(
        s.address,
        new ServerConnection(
          s.address,
          (a) => this.#pool.failure(a),
          (a) => this.#pool.success(a),
        ),
      );
    }
  }

  /** The server a key maps to now (dead servers excluded). */
  serverFor(key: string): string | undefined {
    return this.#pool.pick(key)?.address;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const values = await this.#retrieve('get', key);
    return values[0]?.value;
  }

  async gets(key: string): Promise<RetrievedValue | undefined> {
    return (await this.#retrieve('gets', key))[0];
  }

  /** Several keys, one pipelined multi-get per server. */
  async getMulti(keys: readonly string[]): Promise<Map<string, Buffer>> {
    const byServer = new Map<string, string[]>();
    for (const key of keys) {
      checkKey(key);
      const server = this.#serverOrThrow(key);
      byServer.set(server, [...(byServer.get(server) ?? []), key]);
    }
    const out = new Map<string, Buffer>();
    await Promise.all(
      [...byServer].map(async ([server, serverKeys]) => {
        for (const v of await this.#values(server, `get ${serverKeys.join(' ')}\r\n`))
          out.set(v.key, v.value);
      }),
    );
    return out;
  }

  set(key: string, value: Buffer | string, options: StoreOptions = {}): Promise<boolean> {
    return this.#store('set', key, value, options).then((r) => r === 'STORED');
  }

  add(key: string, value: Buffer | string, options: StoreOptions = {}): Promise<boolean> {
    return this.#store('add', key, value, options).then((r) => r === 'STORED');
  }

  replace(key: string, value: Buffer | string, options: StoreOptions = {}): Promise<boolean> {
    return this.#store('replace', key, value, options).then((r) => r === 'STORED');
  }

  append(key: string, value: Buffer | string): Promise<boolean> {
    return this.#store('append', key, value, {}).then((r) => r === 'STORED');
  }

  prepend(key: string, value: Buffer | string): Promise<boolean> {
    return this.#store('prepend', key, value, {}).then((r) => r === 'STORED');
  }

  /** Compare-and-swap: 'STORED', 'EXISTS' (changed since gets) or 'NOT_FOUND'. */
  cas(key: string, value: Buffer | string, cas: bigint, options: StoreOptions = {}): Promise<string> {
    return this.#store('cas', key, value, options, cas);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#line(key, `delete ${key}\r\n`)) === 'DELETED';
  }

  async touch(key: string, exptime: number): Promise<boolean> {
    return (await this.#line(key, `touch ${key} ${exptime}\r\n`)) === 'TOUCHED';
  }

  incr(key: string, delta: bigint | number = 1): Promise<bigint | undefined> {
    return this.#arith('incr', key, delta);
  }

  decr(key: string, delta: bigint | number = 1): Promise<bigint | undefined> {
    return this.#arith('decr', key, delta);
  }

  /** flush_all on every live server. */
  async flushAll(): Promise<void> {
    await Promise.all(
      this.#liveServers().map((s) => this.#connection(s).request('flush_all\r\n', readLine, this.#timeoutMs)),
    );
  }

  /** `stats` of every live server. */
  async stats(): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    await Promise.all(
      this.#liveServers().map(async (s) => {
        const r = (await this.#connection(s).request('stats\r\n', readStats, this.#timeoutMs)) as Record<
          string,
          string
        >;
        out.set(s, r);
      }),
    );
    return out;
  }

  close(): void {
    for (const c of this.#connections.values()) c.close();
  }

  #liveServers(): string[] {
    return this.#pool.servers.map((s) => s.address).filter((a) => !this.#pool.isDead(a));
  }

  #serverOrThrow(key: string): string {
    const server = this.#pool.pick(key);
    if (server === undefined)
      throw new HastackError('HASTACK_MEMCACHED_CLIENT_NO_SERVER', 'no live memcached server');
    return server.address;
  }

  #connection(address: string): ServerConnection {
    return this.#connections.get(address)!;
  }

  async #retrieve(command: string, key: string): Promise<RetrievedValue[]> {
    checkKey(key);
    return this.#values(this.#serverOrThrow(key), `${command} ${key}\r\n`);
  }

  /** A retrieval request to one server: its VALUE blocks up to END; an error line throws. */
  async #values(server: string, request: string): Promise<RetrievedValue[]> {
    const reply = (await this.#connection(server).request(request, readValues, this.#timeoutMs)) as {
      kind: string;
      values?: RetrievedValue[];
      line?: string;
    };
    if (reply.kind === 'error') throw replyError(reply.line!);
    return reply.values!;
  }

  async #store(
    command: string,
    key: string,
    value: Buffer | string,
    options: StoreOptions,
    cas?: bigint,
  ): Promise<string> {
    const data = typeof value === 'string' ? Buffer.from(value) : value;
    const header = `${command} ${key} ${options.flags ?? 0} ${options.exptime ?? 0} ${data.length}${cas === undefined ? '' : ` ${cas}`}\r\n`;
    // #line checks the key before anything is sent.
    return this.#line(key, Buffer.concat([Buffer.from(header, 'latin1'), data, CRLF]));
  }

  /** A request for `key` answered by one line; a line with ERROR in it (ERROR, CLIENT_ERROR, SERVER_ERROR) throws. */
  async #line(key: string, request: Buffer | string): Promise<string> {
    checkKey(key);
    const line = (await this.#connection(this.#serverOrThrow(key)).request(
      request,
      readLine,
      this.#timeoutMs,
    )) as string;
    if (line.includes('ERROR')) throw replyError(line);
    return line;
  }

  async #arith(command: string, key: string, delta: bigint | number): Promise<bigint | undefined> {
    const line = await this.#line(key, `${command} ${key} ${delta}\r\n`);
    if (line === 'NOT_FOUND') return undefined;
    if (!/^\s*\d{1,20}\s*$/.test(line)) throw replyError(line);
    return BigInt(line.trim());
  }
}

const CRLF = Buffer.from('\r\n');

function checkKey(key: string): void {
  let control = false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c <= 32 || c === 127) control = true;
  }
  if (key.length === 0 || Buffer.byteLength(key) > 250 || control)
    throw new HastackError('HASTACK_MEMCACHED_CLIENT_BAD_KEY', `invalid memcached key "${key.slice(0, 40)}"`);
}

function replyError(line: string): HastackError {
  return new HastackError('HASTACK_MEMCACHED_CLIENT_REPLY', `server replied: ${line}`);
}
