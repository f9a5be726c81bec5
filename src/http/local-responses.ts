import { STATUS_CODES } from 'node:http';

/*
 * Answers hastack writes itself: errors (400, 404, 502...), redirects and fixed
 * responses. Small HTML-free bodies, like HAProxy's error files.
 */

export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

const bodies = new Map<number, Buffer>();

/** "502 Bad Gateway\n" as a cached buffer. */
export function errorBody(status: number): Buffer {
  let b = bodies.get(status);
  if (b === undefined) {
    b = Buffer.from(`${status} ${reasonPhrase(status)}\n`, 'latin1');
    bodies.set(status, b);
  }
  return b;
}

/** A minimal complete HTTP/1.1 error response for the parser's failures (before any exchange exists). */
export function rawErrorResponse(status: number, close: boolean): Buffer {
  const body = errorBody(status);
  return Buffer.from(
    `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n${close ? 'connection: close\r\n' : ''}\r\n${body.toString('latin1')}`,
    'latin1',
  );
}
