import { HastackError } from '../../core/errors.ts';

/**
 * Incremental reader of text-protocol replies for the client: bytes in, whole
 * replies out. Pure; it never guesses: a reply is returned only once all of it
 * arrived (`undefined` means "need more bytes"). A malformed VALUE line throws
 * HASTACK_MEMCACHED_CLIENT_BAD_REPLY: the stream cannot be followed after it.
 */
export interface RetrievedValue {
  key: string;
  flags: number;
  cas: bigint | undefined;
  value: Buffer;
}

export type ValuesReply = { kind: 'values'; values: RetrievedValue[] } | { kind: 'error'; line: string };

export class ReplyReader {
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;

  push(chunk: Buffer): void {
    const rest = this.#buf.subarray(this.#pos);
    this.#buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    this.#pos = 0;
  }

  /** One line (without CRLF). */
  line(): string | undefined {
    const nl = this.#buf.indexOf('\r\n', this.#pos);
    if (nl < 0) return undefined;
    const text = this.#buf.toString('latin1', this.#pos, nl);
    this.#pos = nl + 2;
    return text;
  }

  /** VALUE blocks up to END (get/gets/gat), or an error line. */
  values(): ValuesReply | undefined {
    const start = this.#pos;
    const values: RetrievedValue[] = [];
    for (;;) {
      const line = this.line();
      if (line === undefined) return this.#rewind(start);
      if (line === 'END') return { kind: 'values', values };
      if (!line.startsWith('VALUE ')) return { kind: 'error', line };
      const [, key, flags, bytes, cas] = line.split(' ');
      if (!key || !isDigits(flags) || !isDigits(bytes) || (cas !== undefined && !isDigits(cas)))
        throw new HastackError(
          'HASTACK_MEMCACHED_CLIENT_BAD_REPLY',
          `malformed reply line "${line.slice(0, 80)}"`,
        );
      const n = Number(bytes);
      if (this.#buf.length - this.#pos < n + 2) return this.#rewind(start);
      const value = Buffer.from(this.#buf.subarray(this.#pos, this.#pos + n));
      this.#pos += n + 2;
      values.push({
        key: key!,
        flags: Number(flags),
        cas: cas === undefined ? undefined : BigInt(cas),
        value,
      });
    }
  }

  /** STAT lines up to END. */
  stats(): Record<string, string> | { error: string } | undefined {
    const start = this.#pos;
    const out: Record<string, string> = {};
    for (;;) {
      const line = this.line();
      if (line === undefined) return this.#rewind(start);
      if (line === 'END') return out;
      if (!line.startsWith('STAT ')) return { error: line };
      const sp = line.indexOf(' ', 5);
      out[line.slice(5, sp)] = line.slice(sp + 1);
    }
  }

  /** Drops everything buffered (the connection it came from is gone). */
  clear(): void {
    this.#buf = Buffer.alloc(0);
    this.#pos = 0;
  }

  #rewind(start: number): undefined {
    this.#pos = start;
    return undefined;
  }
}

function isDigits(text: string | undefined): text is string {
  return text !== undefined && /^\d{1,20}$/.test(text);
}
