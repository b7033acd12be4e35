// Looking at what keeps a reached process alive: the inspector's snapshot when it answers,
// else what /proc tells; then the rules' findings. The same look for every way in.
import { performance } from 'node:perf_hooks';
import { messageOf } from '../core/errors.js';
import type { Finding, Snapshot, SnapshotContext } from '../core/types.js';
import { explain } from '../explain/engine.js';
import { takeNodeSnapshot } from '../inspect/node-snapshot.js';
import { takeProcSnapshot } from '../inspect/proc-snapshot.js';
import type { ScriptCatalog } from '../inspect/script-catalog.js';
import type { Reached } from '../reach/reached.js';

export interface LookOptions {
  /** performance.now() that takenAtMs counts from (the signal, or now for `handles`). */
  since: number;
  /** The main thread is spinning: also take its JS stack. */
  busy?: boolean;
  /** Started before the deadline, to keep Debugger.enable out of the time to the report. */
  catalog?: ScriptCatalog;
  /** run mode keeps the NodeWorker domain on (it releases new workers). */
  keepWorkerDomain?: boolean;
  /** What the process is part of (a uWSGI worker's master options, its wake-ups). */
  context?: SnapshotContext;
}

export interface Look {
  snapshot: Snapshot;
  findings: Finding[];
}

export async function lookAt(reached: Reached, options: LookOptions): Promise<Look> {
  const snapshot = await snapshotOf(reached, options);
  const withContext = options.context ? { ...snapshot, context: { ...snapshot.context, ...options.context } } : snapshot;
  return { snapshot: withContext, findings: explain(withContext) };
}

async function snapshotOf(reached: Reached, options: LookOptions): Promise<Snapshot> {
  const { pid } = reached.target;
  const takenAt = () => Math.round(performance.now() - options.since);
  const client = reached.client;
  if (!client || client.isClosed) return takeProcSnapshot(pid, takenAt());
  try {
    return await takeNodeSnapshot(client, { pid, busy: options.busy === true, startedAt: options.since, catalog: options.catalog, keepWorkerDomain: options.keepWorkerDomain });
  } catch (error) {
    // Blocked in a long synchronous call (execSync, Atomics.wait, a native addon): no answers.
    return takeProcSnapshot(pid, takenAt(), [`the inspector did not answer (${messageOf(error)}): the main thread is blocked in a synchronous call; showing what /proc tells`]);
  }
}
