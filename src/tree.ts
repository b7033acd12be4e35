// `reload-doctor <pid>` on a process with children (a uWSGI master, a Node cluster primary, a
// process manager): the signal goes to the parent, and the verdict is about its workers too.
// Which ones exited, which were replaced (a reload), which are stuck — each stuck one
// diagnosed: Node workers through their inspector, any other through /proc.
import { explain } from './explain/engine.js';
import { takeProcSnapshot } from './inspect/proc-snapshot.js';
import { formatDuration } from './probe/duration.js';
import { watchTree, type TreeWatch } from './probe/tree-watch.js';
import { isAlive, readLink } from './reach/proc.js';
import { isNodeExecutable } from './reach/target.js';
import { descendantsOf } from './reach/tree.js';
import { isUwsgi, readUwsgiInfo, type UwsgiInfo } from './reach/uwsgi.js';
import type { SnapshotContext, TreeMember, TreeReport } from './types.js';

/** Look this long before the master's own mercy kill, so the stuck workers are still there. */
const BEFORE_MASTER_KILL_MS = 800;

export interface TreeProbe {
  kind: TreeReport['kind'];
  /** When to take the verdict: the mercy, or earlier if the master kills stuck workers first. */
  lookAtMs: number;
  warnings: string[];
  uwsgi?: UwsgiInfo;
  watch: TreeWatch;
}

/** Starts following the tree if the process has children; call right before the signal. */
export function startTreeProbe(pid: number, mercyMs: number, isNode: boolean): TreeProbe | undefined {
  if (descendantsOf(pid).length === 0) return undefined;
  const warnings: string[] = [];
  const uwsgi = isUwsgi(pid) ? readUwsgiInfo(pid) : undefined;
  let lookAtMs = mercyMs;
  if (uwsgi) {
    const masterMercy = uwsgi.workerReloadMercyMs;
    if (masterMercy <= mercyMs) {
      lookAtMs = Math.max(200, masterMercy - BEFORE_MASTER_KILL_MS);
      warnings.push(`uWSGI kills a worker that outlives a reload after worker-reload-mercy (${formatDuration(masterMercy)}): reload-doctor looks at the workers at ${formatDuration(lookAtMs)}, before that kill`);
    }
    if (uwsgi.options['reload-mercy'] !== undefined && uwsgi.options['worker-reload-mercy'] === undefined) {
      warnings.push(`reload-mercy is set but worker-reload-mercy is not: on uWSGI 2.x reload-mercy does not bound the workers of a graceful reload; worker-reload-mercy (default 60 s) does`);
    }
  }
  return { kind: uwsgi ? 'uwsgi' : isNode ? 'node' : 'other', lookAtMs, warnings, uwsgi, watch: watchTree(pid) };
}

export interface TreeOutcome {
  report: TreeReport;
  /** Originals still alive at the mercy. */
  stuck: TreeMember[];
  /** Every original exited and replacements appeared: a reload. */
  reloaded: boolean;
  /** When the last original exited (ms after the signal). */
  lastExitMs?: number;
}

/** The tree at the deadline; stuck non-Node workers are snapshotted at once (/proc, instant). */
export function finishTreeProbe(tree: TreeProbe): TreeOutcome {
  const members: TreeMember[] = tree.watch.members().map((m) => ({ ...m, stuck: m.original && m.exitedAfterMs === undefined && isAlive(m.pid) }));
  tree.watch.stop();
  const stuck = members.filter((m) => m.stuck);
  for (const member of stuck) {
    member.runtime = isNodeExecutable(readLink(`/proc/${member.pid}/exe`)) ? 'node' : 'other';
    if (member.runtime === 'other') {
      const context: SnapshotContext = { wakeupsPerSecond: member.wakeupsPerSecond, uwsgi: tree.uwsgi && workerContext(tree.uwsgi) };
      member.snapshot = { ...takeProcSnapshot(member.pid, tree.lookAtMs), context };
      member.findings = explain(member.snapshot);
    }
  }
  const originals = members.filter((m) => m.original);
  const exits = originals.map((m) => m.exitedAfterMs).filter((ms): ms is number => ms !== undefined);
  return {
    report: { kind: tree.kind, members, masterMercyMs: tree.uwsgi?.workerReloadMercyMs },
    stuck,
    reloaded: stuck.length === 0 && members.some((m) => !m.original),
    lastExitMs: exits.length > 0 ? Math.max(...exits) : undefined,
  };
}

function workerContext(uwsgi: UwsgiInfo): NonNullable<SnapshotContext['uwsgi']> {
  return { gevent: uwsgi.gevent, waitForHub: uwsgi.waitForHub, workerReloadMercyMs: uwsgi.workerReloadMercyMs, options: uwsgi.options };
}
