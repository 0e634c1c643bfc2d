/**
 * Unchecked integer reads for the record loops. Callers have already proven the bytes are
 * in range, so these skip Buffer's bounds checks and take the byte order as a flag.
 */
export function u32(buf: Buffer, at: number, littleEndian: boolean): number {
  return littleEndian
    ? (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0
    : ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}

export function u16(buf: Buffer, at: number, littleEndian: boolean): number {
  return littleEndian ? buf[at] | (buf[at + 1] << 8) : (buf[at] << 8) | buf[at + 1];
}

/** "1f 8b 00 00" style rendering of the first bytes, for error messages. */
export function hexPrefix(buf: Buffer, max: number): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(max, buf.length); i++) parts.push(buf[i].toString(16).padStart(2, '0'));
  return parts.join(' ');
}
