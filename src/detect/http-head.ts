/** Parses an HTTP/1.x request or response head (already delimited) into an HttpHead. */
import type { HttpHead } from './dialect.js';

const MAX_HEADERS = 100;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;
const REQUEST_LINE = /^([A-Z]{3,10}) (\S+) HTTP\/1\.[01]$/;

/**
 * Lines end in LF or CRLF. Header names are lower-cased and trimmed, values trimmed; the
 * first of repeated headers wins; lines without a colon are ignored. One string is made of
 * the head and lines are walked with indexOf: no split, no per-line regular expression.
 */
export function parseHttpHead(buf: Buffer, start: number, end: number): HttpHead | null {
  const text = buf.toString('latin1', start, end);
  let lineEnd = text.indexOf('\n');
  if (lineEnd < 0) lineEnd = text.length;
  const first = text.slice(0, lineEnd > 0 && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd);
  let isRequest: boolean;
  let method = '';
  let path = '';
  let status = 0;
  if (first.startsWith('HTTP/1.')) {
    const m = STATUS_LINE.exec(first);
    if (!m) return null;
    isRequest = false;
    status = Number(m[1]);
  } else {
    const m = REQUEST_LINE.exec(first);
    if (!m) return null;
    isRequest = true;
    method = m[1]!;
    path = m[2]!;
  }
  const headers = new Map<string, string>();
  for (let at = lineEnd + 1; at < text.length && headers.size < MAX_HEADERS; ) {
    let next = text.indexOf('\n', at);
    if (next < 0) next = text.length;
    const colon = text.indexOf(':', at);
    if (colon > at && colon < next) {
      const name = text.slice(at, colon).trim().toLowerCase();
      if (!headers.has(name)) headers.set(name, text.slice(colon + 1, next).trim());
    }
    at = next + 1;
  }
  return { isRequest, method, path, status, headers };
}
