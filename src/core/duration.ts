import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** "500ms", "10s", "2m", "1.5s"; a bare number means seconds, as `docker stop -t` reads it. */
export function parseDuration(text: string, what = 'mercy'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNITS[match[2] ?? 's']! : NaN;
  if (!match || !(ms > 0) || !Number.isFinite(ms)) {
    throw new UsageError(`invalid ${what} "${text}": use a positive duration such as 500ms, 10s or 2m`);
  }
  return Math.round(ms);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
