import { constants } from 'node:os';
import { UsageError } from '../core/errors.js';

export interface SignalChoice {
  name: NodeJS.Signals;
  number: number;
}

/** Accepts SIGTERM, TERM, sigterm or 15. */
export function parseSignal(text: string): SignalChoice {
  const signals = constants.signals as Record<string, number>;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const number = Number(trimmed);
    const name = Object.keys(signals).find((key) => signals[key] === number);
    if (name) return { name: name as NodeJS.Signals, number };
  } else {
    const upper = trimmed.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (signals[name] !== undefined) return { name: name as NodeJS.Signals, number: signals[name]! };
  }
  throw new UsageError(`unknown signal "${text}" (try SIGTERM, SIGINT, SIGHUP or SIGUSR2)`);
}
