// Errors a user can act on. Each carries the exit code the CLI documents; the CLI prints
// only the message (one line), never a stack trace. A wrapping error keeps what it wraps as
// `cause`, so RELOAD_DOCTOR_DEBUG=1 can show the whole chain. The API rejects with the same
// classes, so `error.exitCode` means what the CLI's exit code means.
import { EXIT } from './exit-codes.js';

/** Every error reload-doctor means to report (anything else is a bug). */
export class ReloadDoctorError extends Error {
  readonly exitCode: number = EXIT.unreachable;
}

/** Bad usage or input (exit 2). */
export class UsageError extends ReloadDoctorError {
  override readonly name = 'UsageError';
  override readonly exitCode = EXIT.usage;
}

/** Could not reach or inspect the target (exit 3). */
export class ReachError extends ReloadDoctorError {
  override readonly name = 'ReachError';
  override readonly exitCode = EXIT.unreachable;
}

/** run: the service exited, crashed or was not ready before the signal (exit 4). */
export class ServiceNotReadyError extends ReloadDoctorError {
  override readonly name = 'ServiceNotReadyError';
  override readonly exitCode = EXIT.notReady;
}

/** The check was stopped (Ctrl-C, or the API's AbortSignal) after cleaning up; `cause` is the reason. */
export class AbortError extends ReloadDoctorError {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  override readonly exitCode = EXIT.interrupted;
  constructor(reason?: unknown) {
    super(`stopped before the verdict${typeof reason === 'string' ? ` (${reason})` : ''}; what reload-doctor had opened is closed`, { cause: reason });
  }
}

/** The message of anything thrown, for a one-line report. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
