/**
 * Expected hashes behind one share, from the target forms pools send. A hash meets a
 * target T with probability (T+1)/2^256, so a share takes 2^256/(T+1) hashes on average;
 * CryptoNote's short targets are the top bytes of such a target, little-endian.
 * Every function returns null for text that is not such a target.
 */

const TWO_256 = 2 ** 256;

/** Big-endian hex of a 256-bit target (0x optional, leading zeros optional: ES2 strips them). */
export function hashesFromTargetBE(hex: unknown): number | null {
  const digits = hexDigits(hex, 1, 64);
  if (digits === null) return null;
  const target = Number(BigInt(`0x${digits}`));
  return target > 0 ? TWO_256 / (target + 1) : null;
}

/** Little-endian hex of a 256-bit target (getwork's `target`). */
export function hashesFromTargetLE(hex: unknown): number | null {
  const digits = hexDigits(hex, 64, 64);
  if (digits === null) return null;
  return hashesFromTargetBE(reverseBytes(digits));
}

/**
 * CryptoNote job target: 8 hex digits (a little-endian uint32 t, difficulty 2^32/t) or
 * 16 (a little-endian uint64, difficulty 2^64/t). Difficulty is in hashes already.
 */
export function hashesFromCryptonoteTarget(hex: unknown): number | null {
  const digits = hexDigits(hex, 8, 16);
  if (digits === null || (digits.length !== 8 && digits.length !== 16)) return null;
  const t = Number(BigInt(`0x${reverseBytes(digits)}`));
  if (t === 0) return null;
  return (digits.length === 8 ? 2 ** 32 : 2 ** 64) / t;
}

/** A difficulty sent as a JSON number or a numeric string; positive and finite, else null. */
export function numericDifficulty(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[0-9.eE+-]+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** A hex number (0x optional) such as a self-reported hashrate; null when not hex or not finite. */
export function hexNumber(value: unknown): number | null {
  const digits = hexDigits(value, 1, 64);
  if (digits === null) return null;
  const n = Number(BigInt(`0x${digits}`));
  return Number.isFinite(n) ? n : null;
}

function hexDigits(value: unknown, min: number, max: number): string | null {
  if (typeof value !== 'string') return null;
  const s = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
  if (s.length < min || s.length > max || !/^[0-9a-fA-F]+$/.test(s)) return null;
  return s;
}

function reverseBytes(hex: string): string {
  let out = '';
  for (let i = hex.length - 2; i >= 0; i -= 2) out += hex.slice(i, i + 2);
  return out;
}
