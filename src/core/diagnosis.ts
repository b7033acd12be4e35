// The one result every mode returns and every report renders. Built once, at the end of a
// mode, and frozen: no stage changes a diagnosis after it is made.
import type { Finding, RunInfo, Snapshot, Target, Timeline, TreeReport, Verdict } from './types.js';

export interface Diagnosis {
  readonly mode: 'probe' | 'handles' | 'run';
  readonly target: Target;
  /** `run` mode only: how the service started, was exercised and ended. */
  readonly run?: RunInfo;
  /** The target's workers, when it has any (a uWSGI master, a cluster primary). */
  readonly tree?: TreeReport;
  readonly verdict?: Verdict;
  readonly snapshot?: Snapshot;
  /** What ended when, from the signal on (Node targets reached through the inspector). */
  readonly timeline?: Timeline;
  readonly findings: readonly Finding[];
  readonly warnings: readonly string[];
  readonly exitCode: number;
  /** Why the check did not finish (interrupted, the service never became ready): there is no verdict. */
  readonly unfinished?: string;
}

export function makeDiagnosis(parts: Diagnosis): Diagnosis {
  for (const part of [parts.target, parts.run, parts.tree, parts.verdict, parts.snapshot, parts.timeline, parts.findings, parts.warnings]) {
    if (part) Object.freeze(part);
  }
  return Object.freeze({ ...parts });
}
