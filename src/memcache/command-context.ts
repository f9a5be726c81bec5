import type { ItemStore } from './item-store.ts';
import type { LineTokens } from './line-tokens.ts';
import type { ReplyBuffer } from './reply-buffer.ts';
import type { ServerState } from './server-state.ts';

/** How a value being read is completed once all its bytes are in. */
export const VALUE_TEXT = 0;
export const VALUE_META = 1;
export const VALUE_BINARY = 2;

/**
 * What a command handler may use and do: the store, the reply buffer, server
 * state, and the connection's reading state. Implemented by the protocol session
 * (handlers depend on this interface, not on the session, so there is no cycle).
 */
export interface CommandContext {
  readonly store: ItemStore;
  readonly out: ReplyBuffer;
  readonly server: ServerState;
  readonly tokens: LineTokens;
  /** Connection id (for logs and `stats conns`). */
  readonly id: number;
  /** Reads `length` bytes into item `ref` (at its value), then completes as `kind`. */
  readValue(ref: number, length: number, kind: number, mode: number, noreply: boolean): void;
  /** Discards the next `bytes` bytes of input (the data of a refused store). */
  swallow(bytes: number): void;
  /** Sends what is queued, then closes (quit). */
  closeAfterWrite(): void;
  /** Closes without a reply (garbage, oversized line). */
  closeNow(): void;
  /** Keeps the request line of an `ms` for its reply, built after the data arrives. */
  stashLine(buf: Uint8Array, start: number, end: number): void;
  readonly stash: Buffer;
  readonly stashTokens: LineTokens;
  /** Binary request being handled. */
  binOpcode: number;
  binOpaque: number;
  binQuiet: boolean;
  /** Compare CAS of the store whose value is being read (0 = none). */
  pendingCasLo: number;
  pendingCasHi: number;
  /** ms only: I with C (a lower CAS lands as stale), E (explicit new CAS). */
  pendingStale: boolean;
  pendingExplicit: boolean;
  pendingExplicitLo: number;
  pendingExplicitHi: number;
}
