// Counts and groups handles into one readable phrase: "2 sockets to 127.0.0.1:5432, 1 timer every 10 s".
import { formatDuration } from '../probe/duration.js';
import type { Handle, PackageRef, SourceLocation } from '../types.js';

export function summariseHandles(handles: Handle[]): string {
  const counts = new Map<string, { n: number; many: string }>();
  for (const handle of handles) {
    const [one, many] = phrase(handle);
    const entry = counts.get(one) ?? { n: 0, many };
    entry.n += 1;
    counts.set(one, entry);
  }
  return [...counts].map(([one, { n, many }]) => `${n} ${n === 1 ? one : many}`).join(', ');
}

/** Singular and plural of how one handle reads in a summary. */
function phrase(handle: Handle): [string, string] {
  const d = handle.details;
  switch (handle.kind) {
    case 'tcp-socket':
      if (d.accepted) {
        const flight = d.inFlight ? ' with a response in flight' : '';
        return [`connection${flight}`, `connections${flight}`];
      }
      return [`socket to ${d.remote ?? '?'}`, `sockets to ${d.remote ?? '?'}`];
    case 'timer': {
      const what = d.repeat ? `every ${formatDuration(Number(d.repeat))}` : `(${formatDuration(Number(d.delay))})`;
      return [`timer ${what}`, `timers ${what}`];
    }
    case 'tcp-server':
      return [`server on ${d.local ?? '?'}`, `servers on ${d.local ?? '?'}`];
    case 'child-process':
      return [`child process (${d.command ?? d.pid})`, `child processes (${d.command ?? d.pid})`];
    case 'fs-watcher':
      return ['file watcher', 'file watchers'];
    case 'udp-socket':
      return ['UDP socket', 'UDP sockets'];
    case 'worker-thread':
      return ['worker thread', 'worker threads'];
    case 'message-port':
      return ['MessagePort', 'MessagePorts'];
    default:
      return [`${handle.kind} handle`, `${handle.kind} handles`];
  }
}

/**
 * The npm package a handle belongs to: its owner's, else (a callback with no source, such as a
 * promise's resolve) the package whose code created it — only if that is the innermost frame
 * outside Node: deeper frames may be a framework that merely called the app.
 */
export function packageOfHandle(handle: Handle): PackageRef | undefined {
  return handle.owner?.package ?? handle.createdAt?.[0]?.location?.package;
}

/** The package that owns most of the handles, for the finding's "name@version". */
export function mainPackage(handles: Handle[], preferred: string[]): PackageRef | undefined {
  const owned = handles.map(packageOfHandle).filter((p): p is PackageRef => p !== undefined);
  return preferred.map((name) => owned.find((p) => p.name === name)).find((p) => p !== undefined) ?? owned[0];
}

export function packageLabel(ref: PackageRef | undefined): string {
  return ref ? `${ref.name}@${ref.version ?? '?'}` : '';
}

/**
 * The line to show for a group of handles: the app line that created one (run mode), else
 * the first owner in the app's own code, else the app line that created its creator, else
 * the first owner outside Node itself.
 */
export function bestLocation(handles: Handle[]): SourceLocation | undefined {
  return handles.find((h) => h.createdIn && !h.createdInherited)?.createdIn
    ?? handles.find((h) => h.owner && !h.owner.internal && !h.owner.package)?.owner
    ?? handles.find((h) => h.createdIn)?.createdIn
    ?? handles.find((h) => h.owner && !h.owner.internal)?.owner
    ?? handles.find((h) => h.owner)?.owner;
}
