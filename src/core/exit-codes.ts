// The CI contract: one exit code per meaning, documented in the README and in --help.
import type { Outcome, Verdict } from './types.js';

export const EXIT = {
  /** Exited within the mercy (a master: every worker replaced in time). */
  ok: 0,
  /** Still alive past the mercy, exited only after it, not graceful, ignores the signal. */
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

const EXIT_BY_OUTCOME: Record<Outcome, number> = {
  exited: EXIT.ok,
  reloaded: EXIT.ok,
  'still-alive': EXIT.notInTime,
  'exited-late': EXIT.notInTime,
  'not-graceful': EXIT.notInTime,
  ignored: EXIT.notInTime,
};

/** A shutdown's exit code: its outcome's, and a failure when a request in flight was dropped. */
export function shutdownExitCode(verdict: Pick<Verdict, 'outcome'>, droppedRequest = false): number {
  const code = EXIT_BY_OUTCOME[verdict.outcome];
  return code === EXIT.ok && droppedRequest ? EXIT.notInTime : code;
}
