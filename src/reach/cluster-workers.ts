// A cluster primary whose inspector opens makes Node open its workers' inspectors too: the
// primary emits NODE_DEBUG_ENABLED and its cluster module sends every online worker SIGUSR1.
// From the second window on, the primary is kept quiet (quietClusterDebugging); the first
// window's fallout is closed here: each worker's new inspector, found the same way as ours
// (a new loopback listener in its own fd table, answering with its own pid), is shut.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Target } from '../core/types.js';
import { listeningTcp, readChildren, readEnvironVariable, readNsPids } from './proc.js';

export interface ClusterWorker {
  pid: number;
  /** Its listening sockets before our SIGUSR1 went to the primary. */
  before: number[];
}

/** The primary's cluster workers (children Node marked with NODE_UNIQUE_ID). */
export function clusterWorkersOf(pid: number): ClusterWorker[] {
  return readChildren(pid)
    .filter((child) => readEnvironVariable(child, 'NODE_UNIQUE_ID') !== undefined)
    .map((child) => ({ pid: child, before: listeningTcp(child).map((row) => row.inode) }));
}

/** How long the workers get to open what the primary asked them to. */
const SETTLE_MS = 400;

/**
 * Shuts each inspector the primary's opening made a worker open. `close` is the inspector
 * access's own closer (identity checked). Returns what the user should know.
 */
export async function closeWorkerInspectors(
  primary: number, workers: ClusterWorker[], close: (target: Target, before: number[]) => Promise<boolean>,
): Promise<string[]> {
  if (workers.length === 0) return [];
  await sleep(SETTLE_MS);
  const opened = workers.filter((worker) => listeningTcp(worker.pid).some((row) => !worker.before.includes(row.inode)));
  const closed: number[] = [];
  for (const worker of opened) {
    const target: Target = { pid: worker.pid, nsPid: readNsPids(worker.pid).at(-1), runtime: { kind: 'node' }, command: '', reachedBy: 'attach' };
    if (await close(target, worker.before)) closed.push(worker.pid);
  }
  const warnings = [`pid ${primary} is a cluster primary: when its inspector opened, Node's cluster module asked its ${workers.length} worker${workers.length === 1 ? '' : 's'} to open theirs too (SIGUSR1); a worker whose port was taken says "Starting inspector … failed" on its stderr, harmlessly`];
  if (closed.length > 0) warnings.push(`reload-doctor closed the inspectors that this opened in worker${closed.length === 1 ? '' : 's'} ${closed.join(', ')}`);
  const left = opened.filter((worker) => !closed.includes(worker.pid)).map((worker) => worker.pid);
  if (left.length > 0) warnings.push(`could not close the inspector that this opened in worker${left.length === 1 ? '' : 's'} ${left.join(', ')}: restart ${left.length === 1 ? 'it' : 'them'} when convenient (ss -ltnp shows the port)`);
  return warnings;
}
