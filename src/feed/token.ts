/**
 * Feed authentication: a shared token, sent as `Authorization: Bearer TOKEN` or, for
 * browsers (which cannot set headers on a WebSocket), as `?token=TOKEN`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Compares in constant time; hashing first makes the lengths equal without leaking them. */
export function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The token a client presented, or null. */
export function presentedToken(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1]!;
  }
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q >= 0) {
    const token = new URLSearchParams(url.slice(q + 1)).get('token');
    if (token !== null && token !== '') return token;
  }
  return null;
}
