// The one shutdown check, whatever the way in: gather the facts the verdict needs, send the
// signal and wait the mercy (probe), decide the verdict (a pure function), and if the process
// is still alive, look at what holds it (inspect + explain). A mode only says how it reached
// the process and what it does afterwards.
import { bestEffort } from '../core/debug.js';
import { formatDuration } from '../core/duration.js';
import type { Finding, Snapshot, TreeReport, UsageSample, Verdict } from '../core/types.js';
import { startScriptCatalog } from '../inspect/script-catalog.js';
import { runProbe } from '../probe/probe.js';
import { dispositionOf, listensFor } from '../probe/signal-facts.js';
import type { SignalChoice } from '../probe/signals.js';
import { decideVerdict, wantsSnapshot, type ShutdownFacts } from '../probe/verdict.js';
import { isAlive } from '../reach/proc.js';
import type { Reached } from '../reach/reached.js';
import { lookAt } from './look.js';
import { planWorkers, workersAtDeadline } from './workers.js';

export interface ShutdownPlan {
  signal: SignalChoice;
  mercyMs: number;
  /** Where the signal goes, when not to the target itself (a wrapper such as npm that should pass it on). */
  signalPid?: number;
  /** Follow the target's workers and judge them too (a master). */
  followWorkers: boolean;
  /** The signal that ended the target, when it is our own child (its exit status is ours to read). */
  exitSignal?: () => Promise<string | null | undefined>;
  /** run mode keeps the NodeWorker domain on (it releases new workers). */
  keepWorkerDomain?: boolean;
  /** Called about every 100 ms while waiting (a live countdown). */
  onTick?: (elapsedMs: number, latest: UsageSample | undefined) => void;
}

export interface ShutdownCheck {
  verdict: Verdict;
  snapshot?: Snapshot;
  findings: Finding[];
  tree?: TreeReport;
  /** The check's own warnings (no listener, ignored signal, a master's mercy, orphans). */
  warnings: string[];
  /** performance.now() when the signal went out. */
  signalledAt: number;
}

const CALL_TIMEOUT_MS = 3000;

export async function checkShutdown(reached: Reached, plan: ShutdownPlan): Promise<ShutdownCheck> {
  const { target, client } = reached;
  const { pid } = target;
  const { signal, mercyMs } = plan;
  const who = target.reachedBy === 'spawn' ? 'the service' : `pid ${pid}`;
  const warnings: string[] = [];
  // Started now, so that Debugger.enable is not part of the time from the mercy to the report.
  const catalog = client ? await startScriptCatalog(client).catch(bestEffort('starting the script catalog')) : undefined;
  let exited = false;
  try {
    const hadListener = await listensFor(client, signal);
    const disposition = dispositionOf(target, signal);
    if (hadListener === false) warnings.push(`${who} has no ${signal.name} listener: Node's default action kills it at once, dropping in-flight work`);
    if (disposition === 'ignored') warnings.push(`${who} ignores ${signal.name}: it will not exit on it`);
    await client?.send('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true }, CALL_TIMEOUT_MS).catch(bestEffort('asking to be told when the loop drains'));

    const workers = plan.followWorkers ? planWorkers(pid, mercyMs, target.runtime.kind === 'node') : undefined;
    warnings.push(...workers?.warnings ?? []);
    const deadlineMs = workers?.lookAtMs ?? mercyMs;
    const probe = await runProbe({
      pid, signalPid: plan.signalPid, signal, mercyMs: deadlineMs, client, onTick: plan.onTick, settledEarly: workers && (() => workers.watch.reloaded()),
    });
    exited = probe.exited;
    try {
      // The master exited: its old workers still have until the mercy (they may be orphans now).
      if (workers && probe.exited) await workers.watch.originalsGone(probe.signalledAt + mercyMs);
      const atDeadline = workers && workersAtDeadline(workers, probe.signalledAt);
      const facts: ShutdownFacts = {
        signal: signal.name, mercyMs, deadlineMs, hadListener, disposition, samples: probe.samples,
        exit: probe.exited ? { afterMs: probe.exitedAfterMs!, bySignal: await plan.exitSignal?.() } : undefined,
        workers: atDeadline && { stuck: atDeadline.stuck, reloaded: atDeadline.reloaded, lastExitMs: atDeadline.lastExitMs, masterIsNode: target.runtime.kind === 'node' },
      };
      let verdict = decideVerdict(facts);
      let look;
      if (wantsSnapshot(verdict)) {
        look = await lookAt(reached, { since: probe.signalledAt, busy: verdict.busy, catalog, keepWorkerDomain: plan.keepWorkerDomain });
        if (!isAlive(pid)) verdict = decideVerdict({ ...facts, exit: { afterMs: await probe.lateExit } });
      }
      if (verdict.stuckWorkers && verdict.exitedAfterMs !== undefined) {
        const n = verdict.stuckWorkers;
        warnings.push(`pid ${pid} exited ${formatDuration(verdict.exitedAfterMs)} after ${signal.name} but left ${n} worker${n === 1 ? '' : 's'} running on ${n === 1 ? 'its' : 'their'} own (orphaned)`);
      }
      return { verdict, snapshot: look?.snapshot, findings: look?.findings ?? [], tree: atDeadline?.report, warnings, signalledAt: probe.signalledAt };
    } finally {
      probe.stopWatching();
      workers?.watch.stop();
    }
  } finally {
    // A target that exited (or is exiting: it drained and we let go) has nothing to undo.
    await catalog?.stop(!exited && isAlive(pid));
  }
}
