// Wires the stages for one pid: reach → probe → inspect → explain. Returns plain data;
// the CLI renders it. Whatever we open in the target is closed here, on every path.
import { performance } from 'node:perf_hooks';
import { addCleanup } from './cleanup.js';
import { EXIT, ReachError } from './errors.js';
import { explain } from './explain/engine.js';
import { takeNodeSnapshot } from './inspect/node-snapshot.js';
import { takeProcSnapshot } from './inspect/proc-snapshot.js';
import { startScriptCatalog, type ScriptCatalog } from './inspect/script-catalog.js';
import { looksBusy } from './probe/sampler.js';
import { runProbe } from './probe/probe.js';
import type { SignalChoice } from './probe/signals.js';
import { attachInspector, TargetGoneError, type InspectorSession } from './reach/attach.js';
import { isAlive, signalDisposition } from './reach/proc.js';
import { checkTarget } from './reach/target.js';
import type { CdpClient } from './reach/cdp-client.js';
import { formatDuration } from './probe/duration.js';
import { finishTreeProbe, startTreeProbe } from './tree.js';
import type { Finding, Outcome, RunInfo, Snapshot, Target, TreeMember, TreeReport, UsageSample, Verdict } from './types.js';

export interface Diagnosis {
  mode: 'probe' | 'handles' | 'run';
  target: Target;
  /** `run` mode only: how the service started, was exercised and ended. */
  run?: RunInfo;
  /** The target's workers, when it has any (a uWSGI master, a cluster primary). */
  tree?: TreeReport;
  verdict?: Verdict;
  snapshot?: Snapshot;
  findings: Finding[];
  warnings: string[];
  exitCode: number;
}

export interface ProbeRequest {
  pid: number;
  signal: SignalChoice;
  mercyMs: number;
  kill: boolean;
  useInspector: boolean;
  onTick?: (elapsedMs: number, latest: UsageSample | undefined) => void;
}

interface Reached {
  target: Target;
  session?: InspectorSession;
  catalog?: ScriptCatalog;
  warnings: string[];
}

async function reach(pid: number, useInspector: boolean): Promise<Reached> {
  const target = checkTarget(pid);
  const warnings: string[] = [];
  if (target.runtime.kind !== 'node') {
    warnings.push(`pid ${pid} is not a Node.js process (${target.runtime.executable ?? 'unknown executable'}): showing what /proc tells`);
    return { target, warnings };
  }
  if (!useInspector) return { target, warnings };
  try {
    const session = await attachInspector(pid);
    // Nothing may throw between attach and return: withSession must get the session to close it.
    const info = await evaluateJson(session.client, 'JSON.stringify({ version: process.version })').catch(() => undefined);
    target.runtime = { kind: 'node', version: info?.version };
    const catalog = await startScriptCatalog(session.client).catch(() => undefined);
    return { target, session, catalog, warnings };
  } catch (error) {
    if (error instanceof TargetGoneError) throw new ReachError(`pid ${pid} exited on its own while reload-doctor attached (before any signal)`);
    if (error instanceof ReachError) {
      warnings.push(`${error.message}; falling back to /proc`);
      return { target, warnings };
    }
    throw error;
  }
}

export async function evaluateJson(client: CdpClient, expression: string): Promise<any> {
  const reply = await client.send('Runtime.evaluate', { expression, returnByValue: true }, 3000);
  return typeof reply.result?.value === 'string' ? JSON.parse(reply.result.value) : undefined;
}

/** Ties the inspector session's cleanup to every exit path, Ctrl-C included. */
async function withSession<T>(reached: Reached, work: () => Promise<T>): Promise<T> {
  const release = async () => {
    await reached.catalog?.stop();
    const result = await reached.session?.release();
    if (result?.warning) reached.warnings.push(result.warning);
  };
  const unregister = addCleanup(release);
  try {
    return await work();
  } finally {
    unregister();
    await release();
  }
}

/** The inspector's snapshot when it answers, else what /proc tells. */
export async function snapshotOf(pid: number, client: CdpClient | undefined, catalog: ScriptCatalog | undefined, busy: boolean, startedAt: number, runMode = false): Promise<Snapshot> {
  const takenAt = () => Math.round(performance.now() - startedAt);
  if (!client || client.isClosed) {
    return takeProcSnapshot(pid, takenAt());
  }
  try {
    return await takeNodeSnapshot(client, { pid, busy, startedAt, catalog, keepWorkerDomain: runMode });
  } catch (error) {
    // Blocked in a long synchronous call (execSync, Atomics.wait, a native addon): no answers.
    return takeProcSnapshot(pid, takenAt(), [`the inspector did not answer (${(error as Error).message}): the main thread is blocked in a synchronous call; showing what /proc tells`]);
  }
}

export async function probePid(request: ProbeRequest): Promise<Diagnosis> {
  const { pid, signal, mercyMs } = request;
  const reached = await reach(pid, request.useInspector);
  const { target, warnings } = reached;
  let signalledAt = performance.now();
  const diagnosis = await withSession(reached, async () => {
    const hadListener = await listensFor(reached.session?.client, signal);
    const disposition = target.runtime.kind === 'other' ? signalDisposition(pid, signal.number) : undefined;
    if (hadListener === false) warnings.push(`pid ${pid} has no ${signal.name} listener: Node's default action kills it at once, dropping in-flight work`);
    if (disposition === 'ignored') warnings.push(`pid ${pid} ignores ${signal.name}: it will not exit on it`);
    await reached.session?.client.send('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true }, 3000).catch(() => {});

    // A parent of workers: follow the whole tree (and look before a uWSGI master's own kill).
    const tree = startTreeProbe(pid, mercyMs, target.runtime.kind === 'node');
    if (tree) warnings.push(...tree.warnings);
    const probe = await runProbe({ pid, signal, mercyMs: tree?.lookAtMs ?? mercyMs, client: reached.session?.client, onTick: request.onTick, settledEarly: tree && (() => tree.watch.reloaded()) });
    signalledAt = probe.signalledAt;
    const verdict: Verdict = { outcome: 'exited', signal: signal.name, mercyMs, busy: false, hadListener, samples: probe.samples, killed: false };
    try {
      // The parent exited: its old workers still have until the mercy (they may be orphans now).
      if (tree && probe.exited) await tree.watch.originalsGone(probe.signalledAt + mercyMs);
      const treeOutcome = tree && finishTreeProbe(tree);
      if (probe.exited) {
        verdict.exitedAfterMs = Math.round(probe.exitedAfterMs!);
        verdict.outcome = hadListener === false || disposition === 'default' ? 'not-graceful' : 'exited';
        if (treeOutcome && treeOutcome.stuck.length > 0 && verdict.outcome === 'exited') {
          verdict.outcome = 'still-alive';
          verdict.stuckWorkers = treeOutcome.stuck.length;
          warnings.push(`pid ${pid} exited ${formatDuration(verdict.exitedAfterMs)} after ${signal.name} but left ${treeOutcome.stuck.length} worker${treeOutcome.stuck.length === 1 ? '' : 's'} running on ${treeOutcome.stuck.length === 1 ? 'its' : 'their'} own (orphaned)`);
        }
        return finish(target, verdict, undefined, [], warnings, treeOutcome?.report);
      }
      if (treeOutcome?.reloaded) {
        // The master lives on, as it should on a reload; every old worker made way in time.
        verdict.outcome = 'reloaded';
        verdict.exitedAfterMs = treeOutcome.lastExitMs;
        return finish(target, verdict, undefined, [], warnings, treeOutcome.report);
      }
      if (treeOutcome && treeOutcome.stuck.length > 0 && target.runtime.kind !== 'node') {
        // A master (uWSGI) that lives on by design: its stuck workers are the diagnosis.
        // A Node parent is diagnosed itself too (below): its children are its handles.
        verdict.outcome = 'still-alive';
        verdict.stuckWorkers = treeOutcome.stuck.length;
        return finish(target, verdict, undefined, [], warnings, treeOutcome.report);
      }
      verdict.outcome = disposition === 'ignored' ? 'ignored' : 'still-alive';
      verdict.busy = looksBusy(probe.samples);
      const snapshot = await snapshotOf(pid, reached.session?.client, reached.catalog, verdict.busy, probe.signalledAt);
      const findings = explain(snapshot);
      if (!isAlive(pid)) {
        // It made it out while we were looking: later than the mercy, but not stuck.
        verdict.outcome = 'exited-late';
        verdict.exitedAfterMs = Math.round(await probe.lateExit);
      } else if (request.kill) {
        await reached.session?.client.close();
        process.kill(pid, 'SIGKILL');
        verdict.killed = true;
      }
      return finish(target, verdict, snapshot, findings, warnings, treeOutcome?.report);
    } finally {
      probe.stopWatching();
      tree?.watch.stop();
    }
  });
  // Stuck Node workers, one at a time: each needs its own inspector, and the master's is
  // closed by now (SIGUSR1 always binds the same port).
  for (const member of diagnosis.tree?.members ?? []) {
    if (member.stuck && member.runtime === 'node' && isAlive(member.pid)) await diagnoseNodeWorker(member, request.useInspector, signalledAt);
  }
  if (request.kill && diagnosis.tree) killStuckWorkers(diagnosis);
  return diagnosis;
}

async function diagnoseNodeWorker(member: TreeMember, useInspector: boolean, signalledAt: number): Promise<void> {
  try {
    const reached = await reach(member.pid, useInspector);
    member.snapshot = await withSession(reached, () => snapshotOf(member.pid, reached.session?.client, reached.catalog, false, signalledAt));
    member.findings = explain(member.snapshot);
  } catch (error) {
    member.snapshot = takeProcSnapshot(member.pid, Math.round(performance.now() - signalledAt), [`could not inspect this worker: ${(error as Error).message}`]);
    member.findings = explain(member.snapshot);
  }
}

function killStuckWorkers(diagnosis: Diagnosis): void {
  for (const member of diagnosis.tree!.members) {
    if (!member.stuck || !isAlive(member.pid)) continue;
    try { process.kill(member.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (diagnosis.verdict) diagnosis.verdict.killed = true;
}

/** Does the Node target listen for the signal? (No listener: Node's default action kills it.) */
export async function listensFor(client: CdpClient | undefined, signal: SignalChoice): Promise<boolean | undefined> {
  if (!client) return undefined;
  const count = await evaluateJson(client, `JSON.stringify(process.listenerCount(${JSON.stringify(signal.name)}))`).catch(() => undefined);
  return typeof count === 'number' ? count > 0 : undefined;
}

export const EXIT_BY_OUTCOME: Record<Outcome, number> = {
  exited: EXIT.ok,
  'still-alive': EXIT.notInTime,
  'exited-late': EXIT.notInTime,
  'not-graceful': EXIT.notInTime,
  ignored: EXIT.notInTime,
  reloaded: EXIT.ok,
};

function finish(target: Target, verdict: Verdict, snapshot: Snapshot | undefined, findings: Finding[], warnings: string[], tree?: TreeReport): Diagnosis {
  return { mode: 'probe', target, verdict, snapshot, findings, warnings, tree, exitCode: EXIT_BY_OUTCOME[verdict.outcome] };
}

/** `reload-doctor handles <pid>`: what keeps it alive right now; sends no graceful signal. */
export async function listHandles(pid: number, useInspector: boolean): Promise<Diagnosis> {
  const reached = await reach(pid, useInspector);
  return withSession(reached, async () => {
    const startedAt = performance.now();
    const snapshot = await snapshotOf(pid, reached.session?.client, reached.catalog, false, startedAt);
    // The user asked for the inspector on a Node target and we could not use it: exit 3.
    const missedInspector = useInspector && reached.target.runtime.kind === 'node' && snapshot.source !== 'inspector';
    return {
      mode: 'handles',
      target: reached.target,
      snapshot,
      findings: explain(snapshot),
      warnings: reached.warnings,
      exitCode: missedInspector ? EXIT.unreachable : EXIT.ok,
    };
  });
}
