import { ManualClock } from '../../../src/core/clock.ts';
import { ItemStore, type ItemStoreOptions } from '../../../src/memcache/item-store.ts';
import { ProtocolSession } from '../../../src/memcache/protocol-session.ts';
import { type MemcacheSettings, ServerState } from '../../../src/memcache/server-state.ts';

export const MIB = 1024 * 1024;

export function makeStore(options: Partial<ItemStoreOptions> = {}): { store: ItemStore; clock: ManualClock } {
  const clock = new ManualClock(0, 1_700_000_000_000);
  const store = new ItemStore({ memoryLimit: 8 * MIB, itemSizeMax: MIB, clock, hashSeed: 1, ...options });
  return { store, clock };
}

export function makeSettings(overrides: Partial<MemcacheSettings> = {}): MemcacheSettings {
  return {
    version: '1.6.18-hastack',
    host: '127.0.0.1',
    port: 11211,
    maxConnections: 1024,
    reqsPerEvent: 1_000_000,
    bindingProtocol: 'auto',
    flushEnabled: true,
    outputLimit: 4 * MIB,
    maxLine: 2048,
    maxGetLine: 2 * MIB,
    idleTimeoutSec: 0,
    tcpBacklog: 1024,
    ...overrides,
  };
}

/** A session over a fresh store; `send` feeds text (latin1) and returns the replies. */
export function makeSession(
  options: Partial<ItemStoreOptions> = {},
  settings: Partial<MemcacheSettings> = {},
): {
  session: ProtocolSession;
  store: ItemStore;
  clock: ManualClock;
  send: (input: string | Buffer) => string;
  sendBytes: (input: Buffer) => Buffer;
} {
  const { store, clock } = makeStore(options);
  const server = new ServerState(makeSettings(settings));
  const session = new ProtocolSession(store, server, 1);
  const sendBytes = (input: Buffer) => {
    session.feed(input, 0, input.length);
    while (session.runnable && session.closing === 0) {
      session.out.takeAll();
      session.resume();
    }
    return session.out.takeAll();
  };
  const send = (input: string | Buffer) =>
    sendBytes(typeof input === 'string' ? Buffer.from(input, 'latin1') : input).toString('latin1');
  return { session, store, clock, send, sendBytes };
}

/** Feeds `input` split at `cuts` and returns all replies (drained after every piece). */
export function feedInPieces(session: ProtocolSession, input: Buffer, cuts: number[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, input.length]) {
    // Copy each piece into a reused scratch buffer: the session must not keep references into it.
    const scratch = Buffer.alloc(cut - at + 16, 0x7e);
    input.copy(scratch, 8, at, cut);
    session.feed(scratch, 8, 8 + cut - at);
    scratch.fill(0x21);
    while (session.runnable && session.closing === 0) {
      parts.push(session.out.takeAll());
      session.resume();
    }
    parts.push(session.out.takeAll());
    at = cut;
  }
  return Buffer.concat(parts);
}

/** A binary-protocol request frame. */
export function request(
  opcode: number,
  opts: { key?: string; extras?: Buffer; value?: string | Buffer; opaque?: number; cas?: bigint } = {},
): Buffer {
  const key = Buffer.from(opts.key ?? '', 'latin1');
  const extras = opts.extras ?? Buffer.alloc(0);
  const value =
    typeof opts.value === 'string' ? Buffer.from(opts.value, 'latin1') : (opts.value ?? Buffer.alloc(0));
  const h = Buffer.alloc(24);
  h[0] = 0x80;
  h[1] = opcode;
  h.writeUInt16BE(key.length, 2);
  h[4] = extras.length;
  h.writeUInt32BE(extras.length + key.length + value.length, 8);
  h.writeUInt32BE(opts.opaque ?? 0, 12);
  h.writeBigUInt64BE(opts.cas ?? 0n, 16);
  return Buffer.concat([h, extras, key, value]);
}

export function setExtras(flags: number, exptime: number): Buffer {
  const e = Buffer.alloc(8);
  e.writeUInt32BE(flags, 0);
  e.writeUInt32BE(exptime, 4);
  return e;
}
