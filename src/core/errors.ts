/**
 * Every error hastack raises carries a stable `code` (HASTACK_*), so callers and
 * operators can match on it without parsing messages.
 */
export class HastackError extends Error {
  readonly code: string;
  /** Extra machine-readable facts (key path, line, peer...). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HastackError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isHastackError(err: unknown, code?: string): err is HastackError {
  return err instanceof HastackError && (code === undefined || err.code === code);
}

/** The code of any error-like value: ours, Node's (ECONNREFUSED...) or a generic fallback. */
export function errorCode(err: unknown): string {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string')
    return err.code;
  return 'HASTACK_UNKNOWN';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
