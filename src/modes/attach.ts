// `reload-doctor <pid>`: reach a running process by its pid (the Node inspector opened with
// SIGUSR1, or /proc), run the shutdown check, and afterwards look at its stuck Node workers
// and, with --kill, end what is still alive.
import { makeDiagnosis, type Diagnosis } from '../core/diagnosis.js';
import { shutdownExitCode } from '../core/exit-codes.js';
import type { HeapSnapshotRequest, UsageSample } from '../core/types.js';
import { runShutdownCheck } from '../check/shutdown.js';
import { killStuckWorkers, lookAtStuckNodeWorkers } from '../check/workers.js';
import type { SignalChoice } from '../probe/signals.js';
import { wantsSnapshot } from '../probe/verdict.js';
import { isAlive } from '../reach/proc.js';
import { reachPid, withSession, type Reached } from '../reach/reached.js';
import { refuseIfStopped } from '../reach/target.js';

/** The deadline's window comes at the mercy; past it by this much the target stops waiting for it. */
const IDLE_MARGIN_MS = 5000;

export interface AttachRequest {
  pid: number;
  signal: SignalChoice;
  mercyMs: number;
  /** SIGKILL what is still alive after the report ("no mercy"). */
  kill: boolean;
  useInspector: boolean;
  /** Record the shutdown's timeline (default true). */
  timeline?: boolean;
  /** Read stuck Python processes from inside (--py-stacks). */
  pyStacks?: boolean;
  /** --heap-snapshot: the fallback for holders the walk cannot see. */
  heapSnapshot?: HeapSnapshotRequest;
  onTick?: (elapsedMs: number, latest: UsageSample | undefined) => void;
}

export async function probeByPid(request: AttachRequest): Promise<Diagnosis> {
  refuseIfStopped(request.pid);
  // The target puts its inspector settings back by itself if we do not come back within the mercy.
  const reached = await reachPid(request.pid, { useInspector: request.useInspector, idleMs: request.mercyMs + IDLE_MARGIN_MS });
  const { value: { check, killedTarget }, releaseWarnings } = await withSession(reached, async () => {
    const check = await runShutdownCheck(reached, { signal: request.signal, mercyMs: request.mercyMs, followWorkers: true, timeline: request.timeline, pyStacks: request.pyStacks, heapSnapshot: request.heapSnapshot, onTick: request.onTick });
    const killedTarget = request.kill && wantsSnapshot(check.verdict) && await killNow(reached);
    return { check, killedTarget };
  });
  // After the master's inspector is closed: SIGUSR1 opens every inspector on the same port.
  const tree = check.tree && await lookAtStuckNodeWorkers(check.tree, request.useInspector, check.signalledAt);
  const killedWorkers = request.kill && tree ? killStuckWorkers(tree) > 0 : false;
  return makeDiagnosis({
    mode: 'probe',
    target: reached.target,
    verdict: { ...check.verdict, killed: killedTarget || killedWorkers },
    snapshot: check.snapshot,
    timeline: check.timeline,
    findings: check.findings,
    tree,
    warnings: [...reached.warnings, ...check.warnings, ...releaseWarnings],
    exitCode: shutdownExitCode(check.verdict),
  });
}

/** SIGKILL, as the process manager would (our last window is closed by now). */
async function killNow(reached: Reached): Promise<boolean> {
  const { pid } = reached.target;
  if (!isAlive(pid)) return false;
  process.kill(pid, 'SIGKILL');
  return true;
}
