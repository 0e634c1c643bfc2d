/** Parses an HTTP/1.x request or response head (already delimited) into an HttpHead. */
import type { HttpHead } from './dialect.js';

const MAX_HEADERS = 100;

export function parseHttpHead(buf: Buffer, start: number, end: number): HttpHead | null {
  const text = buf.toString('latin1', start, end);
  const lines = text.split(/\r?\n/);
  const first = lines[0] ?? '';
  let isRequest: boolean;
  let method = '';
  let path = '';
  let status = 0;
  if (first.startsWith('HTTP/1.')) {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(first);
    if (!m) return null;
    isRequest = false;
    status = Number(m[1]);
  } else {
    const m = /^([A-Z]{3,10}) (\S+) HTTP\/1\.[01]$/.exec(first);
    if (!m) return null;
    isRequest = true;
    method = m[1]!;
    path = m[2]!;
  }
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length && headers.size < MAX_HEADERS; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { isRequest, method, path, status, headers };
}
