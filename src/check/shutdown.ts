// The one shutdown check, whatever the way in: gather the facts the verdict needs, send the
// signal and wait the mercy (probe), decide the verdict (a pure function), and if the process
// is still alive, look at what holds it (inspect + explain). A mode only says how it reached
// the process and what it does afterwards. A Node target's inspector is open only in two
// short windows: before the signal, and at the deadline for the snapshot.
import { bestEffort } from '../core/debug.js';
import { formatDuration } from '../core/duration.js';
import { settleWithin } from '../core/time.js';
import { messageOf } from '../core/errors.js';
import { performance } from 'node:perf_hooks';
import type { Finding, Handle, HeapSnapshotRequest, Snapshot, Timeline, TreeReport, UsageSample, Verdict } from '../core/types.js';
import { explain } from '../explain/engine.js';
import { takeNodeSnapshot, type HeldBefore } from '../inspect/node-snapshot.js';
import { ScriptCatalog } from '../inspect/script-catalog.js';
import { armTimeline, collectTimeline, parseRecord, type RawTimelineEvent } from '../inspect/timeline-record.js';
import { runProbe } from '../probe/probe.js';
import { dispositionOf, listensFor } from '../probe/signal-facts.js';
import type { SignalChoice } from '../probe/signals.js';
import { decideVerdict, wantsSnapshot, type ShutdownFacts } from '../probe/verdict.js';
import type { CdpClient } from '../reach/cdp-client.js';
import { createDropBox, type DropBox } from '../reach/drop-box.js';
import { isAlive, isStopped } from '../reach/proc.js';
import type { Reached } from '../reach/reached.js';
import { lookAt } from './look.js';
import { buildTimeline, laneSources, type LaneSource } from './timeline.js';
import { planWorkers, readStuckPythonWorkers, workersAtDeadline } from './workers.js';

export interface ShutdownPlan {
  signal: SignalChoice;
  mercyMs: number;
  /** Where the signal goes, when not to the target itself (a wrapper such as npm that should pass it on). */
  signalPid?: number;
  /** Follow the target's workers and judge them too (a master). */
  followWorkers: boolean;
  /** The target is our own child: its exit (performance.now()), and the signal that ended it. */
  child?: { exitedAt: Promise<number>; exitSignal: () => Promise<string | null | undefined> };
  /** Called about every 100 ms while waiting (a live countdown). */
  onTick?: (elapsedMs: number, latest: UsageSample | undefined) => void;
  /** The ends of reload-doctor's own --exercise connections (address:port), read at the deadline. */
  exerciseClients?: () => string[];
  /** Record what ends when during the shutdown (default true; Node targets reached through the inspector). */
  timeline?: boolean;
  /** Called as soon as the signal went out (performance.now()). */
  onSignal?: (at: number) => void;
  /** Read stuck Python processes from inside with gdb (--py-stacks). */
  pyStacks?: boolean;
  /** --heap-snapshot at the deadline, for holders the walk cannot see. */
  heapSnapshot?: HeapSnapshotRequest;
}

export interface ShutdownCheck {
  verdict: Verdict;
  snapshot?: Snapshot;
  findings: Finding[];
  tree?: TreeReport;
  /** The check's own warnings (no listener, ignored signal, a master's mercy, orphans, the inspector). */
  warnings: string[];
  /** performance.now() when the signal went out. */
  signalledAt: number;
  timeline?: Timeline;
}

export async function runShutdownCheck(reached: Reached, plan: ShutdownPlan): Promise<ShutdownCheck> {
  const { target, inspector } = reached;
  const { pid } = target;
  const { signal, mercyMs } = plan;
  const who = target.reachedBy === 'spawn' ? 'the service' : `pid ${pid}`;
  const warnings: string[] = [];
  const catalog = new ScriptCatalog();

  // The window reach opened: what the verdict needs to know, and the scripts' URLs (so that the
  // deadline's window need not learn them again); closed before the signal. The inspector is
  // not open during the mercy.
  let hadListener: boolean | undefined;
  let armed: ArmedTimeline | undefined;
  if (inspector) {
    try {
      const client = await inspector.open();
      hadListener = await listensFor(client, signal);
      await catalog.learn(client).catch(bestEffort('learning the scripts'));
      if (plan.timeline !== false) armed = await armShutdownTimeline(client, pid, signal.name, catalog, true);
    } catch (error) {
      warnings.push(`${messageOf(error)}: the signal's listener is unknown`);
    } finally {
      warnings.push(...await inspector.close(false));
    }
  }
  const disposition = dispositionOf(target, signal);
  const namespaceInit = (target.nsPid ?? pid) === 1;
  if (hadListener === false && namespaceInit && signal.name !== 'SIGKILL') {
    warnings.push(`${who} is pid 1 of its namespace (a container's main process) and has no ${signal.name} listener: the kernel does not apply ${signal.name}'s default action to it, so it ignores ${signal.name} until the manager kills it; add a handler, or run it under an init (docker run --init, tini)`);
  } else if (hadListener === false) {
    warnings.push(`${who} has no ${signal.name} listener: Node's default action kills it at once, dropping in-flight work`);
  }
  if (disposition === 'ignored') warnings.push(`${who} ignores ${signal.name}: it will not exit on it`);

  const workers = plan.followWorkers ? planWorkers(pid, mercyMs, target.runtime.kind === 'node', plan.pyStacks === true) : undefined;
  warnings.push(...workers?.warnings ?? []);
  const deadlineMs = workers?.lookAtMs ?? mercyMs;
  const probe = await runProbe({
    pid, signalPid: plan.signalPid, signal, mercyMs: deadlineMs, childExitedAt: plan.child?.exitedAt, onTick: plan.onTick, onSignal: plan.onSignal, settledEarly: workers && (() => workers.watch.reloaded()),
  });
  try {
    // The master exited: its old workers still have until the mercy (they may be orphans now).
    if (workers && probe.exited) await workers.watch.originalsGone(probe.signalledAt + mercyMs);
    const atDeadline = workers && workersAtDeadline(workers, probe.signalledAt);
    // Before the master's own kill (uWSGI's worker-reload-mercy), which would end them mid-read.
    if (atDeadline && plan.pyStacks) {
      const masterKillsAt = workers.uwsgi ? probe.signalledAt + workers.uwsgi.workerReloadMercyMs : Infinity;
      atDeadline.report = await readStuckPythonWorkers(atDeadline.report, masterKillsAt);
    }
    const facts: ShutdownFacts = {
      signal: signal.name, mercyMs, deadlineMs, hadListener, disposition, namespaceInit, samples: probe.samples,
      exit: probe.exited ? { afterMs: probe.exitedAfterMs!, bySignal: await plan.child?.exitSignal() } : undefined,
      workers: atDeadline && { stuck: atDeadline.stuck, reloaded: atDeadline.reloaded, lastExitMs: atDeadline.lastExitMs, masterIsNode: target.runtime.kind === 'node' },
    };
    let verdict = decideVerdict(facts);
    let raw: RawTimelineEvent[] | undefined;
    if (isStopped(pid)) warnings.push(`pid ${pid} is stopped (SIGSTOP, or a debugger holds it): it could not shut down, and it cannot be inspected until it is continued`);
    let look;
    if (wantsSnapshot(verdict)) {
      // The deadline's window: the snapshot, then closed for good.
      // Stuck Node children get a report of their own (a cluster worker): the parent's handle on them says so.
      const stuckChildren = atDeadline?.report.members.filter((member) => member.stuck && member.runtime === 'node').map((member) => member.pid) ?? [];
      const exerciseClients = plan.exerciseClients?.() ?? [];
      const context = { ...(stuckChildren.length > 0 ? { stuckChildren } : {}), ...(exerciseClients.length > 0 ? { exerciseClients } : {}) };
      const inWindow = armed && (async (client: CdpClient) => { raw = await collectTimeline(client); });
      look = await lookAt(reached, { since: probe.signalledAt, busy: verdict.busy, catalog, context, inWindow, pyStacks: plan.pyStacks && !workers?.uwsgi, holdersBefore: armed && holdersByAsyncId(armed.before), heapSnapshot: plan.heapSnapshot });
      if (inspector) warnings.push(...await inspector.close(true));
      // It began to exit while we looked: Node held its exit until our session left; give it a moment.
      if (look.exiting) await settleWithin(probe.lateExit, EXIT_AFTER_WINDOW_MS);
      if (!isAlive(pid)) verdict = decideVerdict({ ...facts, exit: { afterMs: await probe.lateExit } });
    }
    if (verdict.stuckWorkers && verdict.exitedAfterMs !== undefined) {
      const n = verdict.stuckWorkers;
      warnings.push(`pid ${pid} exited ${formatDuration(verdict.exitedAfterMs)} after ${signal.name} but left ${n} worker${n === 1 ? '' : 's'} running on ${n === 1 ? 'its' : 'their'} own (orphaned)`);
    }
    // Gone: the target wrote its record as it exited.
    const fromExit = raw === undefined && armed?.dropBox && !isAlive(pid) ? armed.dropBox.read() : undefined;
    if (fromExit) raw = parseRecord(fromExit);
    const timeline = armed && buildTimeline({
      raw, source: fromExit ? 'exit' : 'deadline', signalWallMs: performance.timeOrigin + probe.signalledAt, signal: signal.name,
      deadlineMs, before: armed.before, lanes: armed.lanes,
      notes: [...(armed.note ? [armed.note] : []), ...(armed.dropBox ? [] : ['no file could be made for the target to write its record into at exit'])],
    });
    return { verdict, snapshot: look?.snapshot, findings: look?.findings ?? [], tree: atDeadline?.report, warnings, signalledAt: probe.signalledAt, timeline };
  } finally {
    probe.stopWatching();
    workers?.watch.stop();
    armed?.dropBox?.remove();
  }
}

/** The holders found before the signal, by resource: the deadline's snapshot keeps them for what is still open. */
function holdersByAsyncId(before: Snapshot): Map<number, HeldBefore> {
  return new Map(before.handles.flatMap((h) => ((h.heldBy || h.inferredOwner) && h.asyncId !== undefined ? [[h.asyncId, { heldBy: h.heldBy, inferredOwner: h.inferredOwner }] as const] : [])));
}

/** How long a target that began to exit during the deadline's window is given to finish. */
const EXIT_AFTER_WINDOW_MS = 1000;

interface ArmedTimeline {
  /** What held the loop just before the signal (what the recorder follows of it), and its lanes: the timeline's names. */
  before: Snapshot;
  lanes: LaneSource[];
  /** Where the target writes its record if it exits during the mercy. */
  dropBox?: DropBox;
  /** Said when the recorder follows only some of what was open. */
  note?: string;
}

/** In the last window before the signal: what is open now, and the recorder armed. */
async function armShutdownTimeline(client: CdpClient, pid: number, signal: string, catalog: ScriptCatalog, holders: boolean): Promise<ArmedTimeline | undefined> {
  try {
    // The holders are looked for before the signal too, while the app's handlers still hold them.
    const snapshot = await takeNodeSnapshot(client, { pid, busy: false, startedAt: performance.now(), catalog, holders });
    const findings = explain(snapshot);
    const { followed, note } = resourcesToFollow(findings);
    const dropBox = createDropBox(pid, 'timeline.json');
    if (!(await armTimeline(client, signal, [...followed], dropBox?.path))) {
      dropBox?.remove();
      return undefined;
    }
    // The timeline knows only what the recorder follows: the rest is neither ended nor open, and
    // is not kept through the mercy (a big process: 100,000 handles).
    const before = note ? { ...snapshot, handles: snapshot.handles.filter((h) => h.asyncId === undefined || followed.has(h.asyncId)) } : snapshot;
    return { before, lanes: laneSources(findings, note ? followed : undefined), dropBox, note };
  } catch (error) {
    return bestEffort('arming the timeline', undefined)(error);
  }
}

/** The recorder polls what it follows every few ms: past this many resources it would cost the target. */
const MAX_FOLLOWED = 2000;
/** Each finding's first resources are followed before any finding gets more: every lane has some. */
const FOLLOWED_PER_FINDING = 50;

function resourcesToFollow(findings: readonly Finding[]): { followed: Set<number>; note?: string } {
  const ids = (handles: readonly Handle[]) => handles.filter((h) => h.blocking && h.asyncId !== undefined).map((h) => h.asyncId!);
  const all = findings.flatMap((finding) => ids(finding.handles));
  if (all.length <= MAX_FOLLOWED) return { followed: new Set(all) };
  const followed = new Set<number>();
  for (const finding of findings) for (const id of ids(finding.handles).slice(0, FOLLOWED_PER_FINDING)) if (followed.size < MAX_FOLLOWED) followed.add(id);
  for (const id of all) if (followed.size < MAX_FOLLOWED) followed.add(id);
  return { followed, note: `the timeline follows ${followed.size.toLocaleString('en-US')} of the ${all.length.toLocaleString('en-US')} resources open at the signal (the first ${FOLLOWED_PER_FINDING} of each finding first): a lane ends when the ones it follows do` };
}
