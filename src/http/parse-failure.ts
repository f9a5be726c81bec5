/**
 * Why a message was rejected: the status to answer (400, 413, 414, 431, 501,
 * 505 for requests; 502 for upstream responses), a stable HASTACK_HTTP_* code
 * and a short reason for the log. Returned, not thrown: a malformed message is
 * ordinary input on the wire. Every failure closes the connection, as RFC 9112
 * requires after a framing error.
 */
export class ParseFailure {
  readonly status: number;
  readonly code: string;
  readonly message: string;

  constructor(status: number, code: string, message: string) {
    this.status = status;
    this.code = code;
    this.message = message;
  }
}

export function isParseFailure(value: unknown): value is ParseFailure {
  return value instanceof ParseFailure;
}
