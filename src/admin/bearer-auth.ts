import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time check of `Authorization: Bearer <token>`. Both sides are hashed
 * first so the comparison does not leak the token's length either.
 */
export function checkBearer(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (m === null) return false;
  const given = createHash('sha256').update(m[1]!).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}
