// Duration strings for the command line and scenarios: "50ms", "2s", "1.5s", "5m", "1h", "1m30s".
// A bare number is milliseconds. Pure.
import { UsageError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration to milliseconds; throws UsageError naming the bad text. */
export function parseDuration(text: string, what = 'duration'): number {
  const s = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  if (s === '' || pos !== s.length) {
    throw new UsageError(`invalid ${what} "${text}"`, { hint: 'use a number with a unit: 50ms, 2s, 1.5s, 5m, 1h, 1m30s' });
  }
  return total;
}

/** Milliseconds as a short human string with the given precision: 0.050 s, 12.3 s, 2 min 24 s. */
export function formatDuration(ms: number, decimals = 3): string {
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a < 120_000) return `${sign}${(a / 1000).toFixed(decimals)} s`;
  const min = Math.floor(a / 60_000);
  const sec = (a - min * 60_000) / 1000;
  return `${sign}${min} min ${sec.toFixed(Math.min(decimals, 1))} s`;
}
