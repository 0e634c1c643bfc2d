/**
 * Microsecond ISO-8601 times. Date only has millisecond precision and a lenient parser
 * (it turns 2024-02-30 into March 1st), so both directions are done here.
 */

/**
 * 1700000000123456 -> '2023-11-14T22:13:20.123456Z'. Computed here rather than through
 * Date#toISOString, whose first call costs a process several milliseconds of set-up.
 */
export function microsToIso(micros: number): string {
  const totalSeconds = Math.floor(micros / 1e6);
  const fraction = micros - totalSeconds * 1e6;
  const days = Math.floor(totalSeconds / 86400);
  const secondOfDay = totalSeconds - days * 86400;
  const [year, month, day] = civilFromDays(days);
  const hh = Math.floor(secondOfDay / 3600);
  const mm = Math.floor((secondOfDay % 3600) / 60);
  const ss = secondOfDay % 60;
  const yyyy = year < 0 ? `-${pad(-year, 6)}` : year > 9999 ? `+${pad(year, 6)}` : pad(year, 4);
  return `${yyyy}-${pad(month, 2)}-${pad(day, 2)}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}.${pad(Math.floor(fraction), 6)}Z`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Days since 1970-01-01 to a proleptic Gregorian [year, month, day] (H. Hinnant's method). */
function civilFromDays(daysSinceEpoch: number): [number, number, number] {
  const z = daysSinceEpoch + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yearOfEra + (month <= 2 ? 1 : 0), month, day];
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
