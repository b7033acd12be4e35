// Best-effort steps (drop our object references, disable a domain, read a file that may be
// gone) may fail without changing the diagnosis. They never fail silently: with
// RELOAD_DOCTOR_DEBUG=1 each failure is one line on stderr, with its cause chain.
import { messageOf } from './errors.js';

const enabled = () => Boolean(process.env.RELOAD_DOCTOR_DEBUG);

/** Writes one debug line (RELOAD_DOCTOR_DEBUG=1 only). */
export function debug(message: string): void {
  if (enabled()) process.stderr.write(`reload-doctor[debug]: ${message}\n`);
}

/** Records that a best-effort step failed, and returns `fallback`: `.catch(bestEffort('…'))`. */
export function bestEffort<T = undefined>(step: string, fallback?: T): (error: unknown) => T {
  return (error) => {
    if (enabled()) debug(`${step} failed: ${describeChain(error)}`);
    return fallback as T;
  };
}

/** "message ← cause ← cause…" */
export function describeChain(error: unknown): string {
  const parts: string[] = [];
  for (let at: unknown = error, depth = 0; at !== undefined && depth < 5; depth += 1) {
    parts.push(messageOf(at));
    at = at instanceof Error ? at.cause : undefined;
  }
  return parts.join(' ← ');
}
