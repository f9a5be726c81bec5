import { KEY_MAX_LENGTH } from './item-layout.ts';

/**
 * A text-protocol key: 1..250 bytes. protocol.txt says keys have no control
 * characters, but memcached does not enforce it and real tools depend on that
 * (memaslap prefixes its keys with 0x10 bytes), so hastack accepts them too;
 * spaces and line ends cannot occur inside a token anyway.
 */
export function isValidTextKey(_buf: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  return len > 0 && len <= KEY_MAX_LENGTH;
}
