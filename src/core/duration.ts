import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The longest duration accepted anywhere (a mercy, a timeout, a hold): beyond, timers overflow. */
export const MAX_DURATION_MS = 24 * 3_600_000;

/** "500ms", "10s", "2m", "1.5s", "1h"; a bare number means seconds, as `docker stop -t` reads it. From 1 ms to 24 h. */
export function parseDuration(text: string, what = 'mercy'): number {
  const match = /^(\d{1,9}(?:\.\d{1,6})?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNITS[match[2] ?? 's']! : NaN;
  if (!match || !(ms >= 1) || ms > MAX_DURATION_MS) {
    throw new UsageError(`invalid ${what} "${text}": use a duration from 1ms to 24h, such as 500ms, 10s or 2m`);
  }
  return Math.round(ms);
}

/** "850 ms", "4.2 s", "2 min", "3 min 20 s", "9 h 16 min": in the units a person reads. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
  if (ms < 3_600_000) {
    const minutes = Math.floor(ms / 60_000);
    const seconds = Math.round((ms % 60_000) / 1000);
    return seconds > 0 && minutes < 10 ? `${minutes} min ${seconds} s` : `${Math.round(ms / 60_000)} min`;
  }
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.round((ms % 3_600_000) / 60_000);
  return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
}
