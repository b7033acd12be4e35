// Errors a user can act on. Each carries the exit code the CLI documents; the CLI prints
// only the message (one line), never a stack trace.

export const EXIT = {
  /** Exited within the mercy. */
  ok: 0,
  /** Still alive past the mercy, exited only after it, or not graceful. */
  notInTime: 1,
  /** Bad usage or input. */
  usage: 2,
  /** Could not reach or inspect the target. */
  unreachable: 3,
  /** run: the service exited, crashed or never became ready before the signal. */
  notReady: 4,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;

export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

export class ReachError extends Error {
  readonly exitCode = EXIT.unreachable;
}

export class ServiceNotReadyError extends Error {
  readonly exitCode = EXIT.notReady;
}
