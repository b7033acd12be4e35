// A master and its workers (`reload-doctor <pid>` on a uWSGI master, a Node cluster primary,
// a process manager): the signal goes to the master, and the verdict is about its workers
// too. Which ones exited, which were replaced (a reload), which are stuck; each stuck one is
// looked at like any other target: Node workers through their own inspector, others through
// /proc.
import { performance } from 'node:perf_hooks';
import { formatDuration } from '../core/duration.js';
import { messageOf } from '../core/errors.js';
import type { SnapshotContext, Target, TreeMember, TreeReport } from '../core/types.js';
import { takeProcSnapshot } from '../inspect/proc-snapshot.js';
import { PYTHON_READ_BUDGET_MS, readPythonStacks, withPythonStacks, type PythonRead } from '../inspect/python-stacks.js';
import { explain } from '../explain/engine.js';
import { watchWorkers, type WorkerWatch } from '../probe/worker-watch.js';
import { descendantsOf } from '../reach/descendants.js';
import { isAlive, readCmdline, readLink } from '../reach/proc.js';
import { reachPid, reachedThroughProc, withSession } from '../reach/reached.js';
import { isNodeExecutable } from '../reach/target.js';
import { isUwsgi, readUwsgiInfo, type UwsgiInfo } from '../reach/uwsgi.js';
import { lookAt } from './look.js';

/** Look this long before the master's own mercy kill, so the stuck workers are still there. */
const BEFORE_MASTER_KILL_MS = 800;
/** Reading stuck Python workers from inside (--py-stacks) needs this much more before that kill. */
const PYTHON_READ_MS = 2500;
/** gdb sessions at once (each is CPU-heavy for a moment; workers are read side by side). */
const PYTHON_READS_AT_ONCE = 2;

export interface WorkerPlan {
  kind: TreeReport['kind'];
  /** When to take the verdict: the mercy, or earlier if the master kills stuck workers first. */
  lookAtMs: number;
  warnings: string[];
  uwsgi?: UwsgiInfo;
  watch: WorkerWatch;
}

/** Starts following the workers if the process has any; call right before the signal. */
export function planWorkers(pid: number, mercyMs: number, masterIsNode: boolean, pyStacks = false): WorkerPlan | undefined {
  if (descendantsOf(pid).length === 0) return undefined;
  const warnings: string[] = [];
  const uwsgi = isUwsgi(pid) ? readUwsgiInfo(pid) : undefined;
  let lookAtMs = mercyMs;
  if (uwsgi) {
    const masterMercy = uwsgi.workerReloadMercyMs;
    const before = BEFORE_MASTER_KILL_MS + (pyStacks ? PYTHON_READ_MS : 0);
    if (masterMercy <= mercyMs || (pyStacks && masterMercy - before < mercyMs)) {
      lookAtMs = Math.max(200, Math.min(mercyMs, masterMercy - before));
      warnings.push(`uWSGI kills a worker that outlives a reload after worker-reload-mercy (${formatDuration(masterMercy)}): reload-doctor looks at the workers at ${formatDuration(lookAtMs)}, before that kill`);
    }
    if (uwsgi.options['reload-mercy'] !== undefined && uwsgi.options['worker-reload-mercy'] === undefined) {
      warnings.push(`reload-mercy is set but worker-reload-mercy is not: on uWSGI 2.x reload-mercy does not bound the workers of a graceful reload; worker-reload-mercy (default 60 s) does`);
    }
  }
  return { kind: uwsgi ? 'uwsgi' : masterIsNode ? 'node' : 'other', lookAtMs, warnings, uwsgi, watch: watchWorkers(pid) };
}

export interface WorkersAtDeadline {
  report: TreeReport;
  /** Originals still alive at the deadline. */
  stuck: number;
  /** Every original exited and replacements appeared: a reload. */
  reloaded: boolean;
  /** When the last original exited (ms after the signal). */
  lastExitMs?: number;
}

/**
 * The workers at the deadline. Stuck workers that are not Node are looked at at once (/proc
 * is instant, and a master such as uWSGI is about to kill them); stuck Node workers need
 * their own inspector, one at a time, after the master's is closed: lookAtStuckNodeWorkers.
 */
export function workersAtDeadline(plan: WorkerPlan, signalledAt: number): WorkersAtDeadline {
  const watched = plan.watch.members();
  plan.watch.stop();
  const members: TreeMember[] = watched.map((member) => {
    const stuck = member.original && member.exitedAfterMs === undefined && isAlive(member.pid);
    if (!stuck) return { ...member, stuck };
    const runtime = isNodeExecutable(readLink(`/proc/${member.pid}/exe`)) ? 'node' : 'other';
    if (runtime === 'node') return { ...member, stuck, runtime };
    const context: SnapshotContext = { wakeupsPerSecond: member.wakeupsPerSecond, uwsgi: plan.uwsgi && workerContext(plan.uwsgi) };
    const snapshot = { ...takeProcSnapshot(member.pid, Math.round(performance.now() - signalledAt)), context };
    return { ...member, stuck, runtime, snapshot, findings: explain(snapshot) };
  });
  const exits = members.filter((m) => m.original).map((m) => m.exitedAfterMs).filter((ms): ms is number => ms !== undefined);
  const stuck = members.filter((m) => m.stuck).length;
  return {
    report: { kind: plan.kind, members, masterMercyMs: plan.uwsgi?.workerReloadMercyMs },
    stuck,
    reloaded: stuck === 0 && members.some((m) => !m.original),
    lastExitMs: exits.length > 0 ? Math.max(...exits) : undefined,
  };
}

/**
 * Stuck Node workers, each through its own inspector (SIGUSR1 binds the same port in each,
 * or an ephemeral one in the processes `run` started: `ephemeral`).
 */
export async function lookAtStuckNodeWorkers(report: TreeReport, useInspector: boolean, signalledAt: number, ephemeral = false): Promise<TreeReport> {
  const members: TreeMember[] = [];
  for (const member of report.members) {
    const waiting = member.stuck && member.runtime === 'node' && member.snapshot === undefined && isAlive(member.pid);
    members.push(waiting ? { ...member, ...await lookAtNodeWorker(member.pid, useInspector, signalledAt, ephemeral) } : member);
  }
  return { ...report, members };
}

async function lookAtNodeWorker(pid: number, useInspector: boolean, signalledAt: number, ephemeral: boolean): Promise<Pick<TreeMember, 'snapshot' | 'findings'>> {
  try {
    const reached = await reachPid(pid, { useInspector, idleMs: 5000, ephemeral });
    const { value, releaseWarnings } = await withSession(reached, () => lookAt(reached, { since: signalledAt }));
    const notes = [...reached.warnings, ...releaseWarnings];
    return notes.length === 0 ? value : { ...value, snapshot: { ...value.snapshot, notes: [...value.snapshot.notes, ...notes] } };
  } catch (error) {
    const target: Target = { pid, runtime: { kind: 'node' }, command: readCmdline(pid).join(' '), reachedBy: 'attach' };
    const note = `could not inspect this worker: ${messageOf(error)}`;
    const look = await lookAt(reachedThroughProc(target), { since: signalledAt });
    return { snapshot: { ...look.snapshot, notes: [note, ...look.snapshot.notes] }, findings: look.findings };
  }
}

/**
 * --py-stacks: each stuck worker that is not Node read from inside (its threads, greenlets and
 * holders), side by side, all done before `masterKillsAt` (performance.now()); then explained again.
 */
export async function readStuckPythonWorkers(report: TreeReport, masterKillsAt: number): Promise<TreeReport> {
  const stuck = report.members.filter((m) => m.stuck && m.runtime === 'other' && m.snapshot && isAlive(m.pid));
  const budgetMs = Math.max(500, Math.min(PYTHON_READ_BUDGET_MS, masterKillsAt - BEFORE_MASTER_KILL_MS / 2 - performance.now()));
  const reads = new Map<number, PythonRead>();
  const queue = [...stuck];
  await Promise.all(Array.from({ length: PYTHON_READS_AT_ONCE }, async () => {
    for (let member = queue.shift(); member; member = queue.shift()) reads.set(member.pid, await readPythonStacks(member.pid, budgetMs));
  }));
  const members = report.members.map((member) => {
    const read = reads.get(member.pid);
    if (!read) return member;
    const snapshot = withPythonStacks(member.snapshot!, read);
    return { ...member, snapshot, findings: explain(snapshot) };
  });
  return { ...report, members };
}

/** SIGKILL the workers still stuck (--kill); returns how many were killed. */
export function killStuckWorkers(report: TreeReport): number {
  let killed = 0;
  for (const member of report.members) {
    if (!member.stuck || !isAlive(member.pid)) continue;
    try {
      process.kill(member.pid, 'SIGKILL');
      killed += 1;
    } catch {
      // exited between the check and the kill: nothing to do
    }
  }
  return killed;
}

function workerContext(uwsgi: UwsgiInfo): NonNullable<SnapshotContext['uwsgi']> {
  return { gevent: uwsgi.gevent, waitForHub: uwsgi.waitForHub, workerReloadMercyMs: uwsgi.workerReloadMercyMs, options: uwsgi.options };
}
