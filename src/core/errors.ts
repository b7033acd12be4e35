// Errors a user can act on. Each carries the exit code the CLI documents; the CLI prints
// only the message (one line), never a stack trace. A wrapping error keeps what it wraps as
// `cause`, so RELOAD_DOCTOR_DEBUG=1 can show the whole chain.
import { EXIT } from './exit-codes.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = EXIT.usage;
}

export class ReachError extends Error {
  override readonly name = 'ReachError';
  readonly exitCode = EXIT.unreachable;
}

export class ServiceNotReadyError extends Error {
  override readonly name = 'ServiceNotReadyError';
  readonly exitCode = EXIT.notReady;
}

/** The message of anything thrown, for a one-line report. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
