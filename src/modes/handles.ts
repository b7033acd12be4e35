// `reload-doctor handles <pid>`: what keeps the process alive right now. The check without
// the signal: reach, then look.
import { performance } from 'node:perf_hooks';
import { makeDiagnosis, type Diagnosis } from '../core/diagnosis.js';
import { EXIT } from '../core/exit-codes.js';
import type { HeapSnapshotRequest } from '../core/types.js';
import { lookAt } from '../check/look.js';
import { reachPid, withSession } from '../reach/reached.js';

export async function listHandles(pid: number, useInspector: boolean, heapSnapshot?: HeapSnapshotRequest): Promise<Diagnosis> {
  const reached = await reachPid(pid, { useInspector, idleMs: 5000 });
  const { value: look, releaseWarnings } = await withSession(reached, () => lookAt(reached, { since: performance.now(), heapSnapshot }));
  // The user asked for the inspector on a Node target and we could not use it: exit 3.
  const missedInspector = useInspector && reached.target.runtime.kind === 'node' && look.snapshot.source !== 'inspector';
  return makeDiagnosis({
    mode: 'handles',
    target: reached.target,
    snapshot: look.snapshot,
    findings: look.findings,
    warnings: [...reached.warnings, ...releaseWarnings],
    exitCode: missedInspector ? EXIT.unreachable : EXIT.ok,
  });
}
