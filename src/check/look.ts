// Looking at what keeps a reached process alive: the inspector's snapshot when a window onto
// it opens and it answers, else what /proc tells; then the rules' findings. The same look for
// every way in. The window is left open: the caller closes it (its last one, or not).
import { performance } from 'node:perf_hooks';
import { messageOf } from '../core/errors.js';
import { isAlive } from '../reach/proc.js';
import type { Finding, HeapSnapshotRequest, Snapshot, SnapshotContext } from '../core/types.js';
import { explain } from '../explain/engine.js';
import { takeNodeSnapshot, type HeldBefore } from '../inspect/node-snapshot.js';
import { takeProcSnapshot } from '../inspect/proc-snapshot.js';
import { PYTHON_READ_BUDGET_MS, readPythonStacks, withPythonStacks } from '../inspect/python-stacks.js';
import type { ScriptCatalog } from '../inspect/script-catalog.js';
import type { CdpClient } from '../reach/cdp-client.js';
import type { Reached } from '../reach/reached.js';

export interface LookOptions {
  /** performance.now() that takenAtMs counts from (the signal, or now for `handles`). */
  since: number;
  /** The main thread is spinning: also take its JS stack. */
  busy?: boolean;
  /** Script URLs learnt before the deadline, to keep Debugger.enable out of the time to the report. */
  catalog?: ScriptCatalog;
  /** What the process is part of (a uWSGI worker's master options, its wake-ups). */
  context?: SnapshotContext;
  /** More to ask in the same window, after the snapshot (the timeline's record). */
  inWindow?: (client: CdpClient) => Promise<void>;
  /** A process that is not Node: read its Python threads and greenlets from inside (--py-stacks). */
  pyStacks?: boolean;
  /** Holders found before the signal, by async id: kept for the resources still open. */
  holdersBefore?: Map<number, HeldBefore>;
  /** --heap-snapshot: the fallback for holders the walk cannot see. */
  heapSnapshot?: HeapSnapshotRequest;
}

export interface Look {
  snapshot: Snapshot;
  findings: Finding[];
  /** It began to exit while we looked (its JS context went away): Node holds the exit until our session leaves. */
  exiting: boolean;
}

export async function lookAt(reached: Reached, options: LookOptions): Promise<Look> {
  const taken = await snapshotOf(reached, options);
  const { exiting } = taken;
  const pid = reached.target.pid;
  const snapshot = options.pyStacks && taken.snapshot.source === 'proc' && reached.target.runtime.kind !== 'node' && isAlive(pid)
    ? withPythonStacks(taken.snapshot, await readPythonStacks(pid, PYTHON_READ_BUDGET_MS))
    : taken.snapshot;
  const withContext = options.context ? { ...snapshot, context: { ...snapshot.context, ...options.context } } : snapshot;
  return { snapshot: withContext, findings: explain(withContext), exiting: exiting === true };
}

async function snapshotOf(reached: Reached, options: LookOptions): Promise<{ snapshot: Snapshot; exiting?: boolean }> {
  const { pid } = reached.target;
  const takenAt = () => Math.round(performance.now() - options.since);
  if (!reached.inspector) return { snapshot: takeProcSnapshot(pid, takenAt()) };
  const inspector = reached.inspector;
  // Our own inspector sockets are never the target's culprits.
  const fromProc = (note: string) => ({ snapshot: takeProcSnapshot(pid, takenAt(), [isAlive(pid) ? note : 'it exited while reload-doctor was looking at it'], [...inspector.ports]) });
  let client;
  try {
    client = await inspector.open();
  } catch (error) {
    return fromProc(`the inspector did not answer: ${messageOf(error)}; showing what /proc tells`);
  }
  try {
    const snapshot = await takeNodeSnapshot(client, { pid, busy: options.busy === true, startedAt: options.since, catalog: options.catalog, holders: true, holdersBefore: options.holdersBefore, heapSnapshot: options.heapSnapshot });
    await options.inWindow?.(client);
    return { snapshot };
  } catch (error) {
    // Its JS context went away: it is exiting (Node holds the exit until our session leaves).
    if (/Cannot find context with specified id|Execution context was destroyed/.test(messageOf(error))) {
      return { ...fromProc('it began to exit while reload-doctor was looking at it; showing what /proc tells'), exiting: true };
    }
    // Blocked in a long synchronous call (execSync, Atomics.wait, a native addon): no answers.
    return fromProc(`the inspector did not answer (${messageOf(error)}): the main thread is blocked in a synchronous call; showing what /proc tells`);
  }
}
