/**
 * Microsecond ISO-8601 times. Date only has millisecond precision and a lenient parser
 * (it turns 2024-02-30 into March 1st), so both directions are done here.
 */

/** 1700000000123456 -> '2023-11-14T22:13:20.123456Z'. */
export function microsToIso(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const subMillis = micros - millis * 1000;
  const iso = new Date(millis).toISOString(); // ...ss.mmmZ
  return `${iso.slice(0, -1)}${String(subMillis).padStart(3, '0')}Z`;
}

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parses an ISO-8601 date or date-time into microseconds since the epoch, or returns null.
 * A time without a zone is taken as UTC (the store keeps UTC); a bare date means its
 * midnight UTC. Fractions beyond microseconds are truncated.
 */
export function parseIsoMicros(text: string): number | null {
  const m = ISO_PATTERN.exec(text.trim());
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const hour = Number(m[4] ?? 0);
  const minute = Number(m[5] ?? 0);
  const second = Number(m[6] ?? 0);
  const fraction = (m[7] ?? '').slice(0, 6).padEnd(6, '0');
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;

  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = Number(digits.slice(2));
    if (offH > 23 || offM > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (offH * 60 + offM);
  }

  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year); // Date.UTC maps years 0..99 to 19xx
  const millis = date.getTime() - offsetMinutes * 60_000;
  return millis * 1000 + Number(fraction);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
