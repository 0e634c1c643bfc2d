/**
 * Field reads for the per-packet path. Buffer#readUInt16BE validates its offset
 * argument on every call, which costs about as much as the rest of decoding a TCP packet;
 * these skip that, so callers must have checked the bounds first (they all do).
 */
/** Network (big-endian) order, like every protocol header except the two below. */
export function readU16(buf: Buffer, at: number): number {
  return (buf[at] << 8) | buf[at + 1];
}

export function readU32(buf: Buffer, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}

/** Little-endian reads for the few headers written in host order (PPI, BSD NULL). */
export function readU16LE(buf: Buffer, at: number): number {
  return buf[at] | (buf[at + 1] << 8);
}

export function readU32LE(buf: Buffer, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}
