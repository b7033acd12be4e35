// Counts and groups handles into one readable phrase: "2 sockets to 127.0.0.1:5432, 1 timer every 10 s".
import { formatDuration } from '../probe/duration.js';
import type { Handle, PackageRef, SourceLocation } from '../types.js';

export function summariseHandles(handles: Handle[]): string {
  const counts = new Map<string, number>();
  for (const handle of handles) {
    const key = phrase(handle);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n} ${n === 1 ? key : pluralise(key)}`).join(', ');
}

function phrase(handle: Handle): string {
  const d = handle.details;
  switch (handle.kind) {
    case 'tcp-socket':
      return d.accepted ? `connection${d.inFlight ? ' with a response in flight' : ''}` : `socket to ${d.remote ?? '?'}`;
    case 'timer':
      return d.repeat ? `timer every ${formatDuration(Number(d.repeat))}` : `timer (${formatDuration(Number(d.delay))})`;
    case 'tcp-server':
      return `server on ${d.local ?? '?'}`;
    case 'child-process':
      return `child process (${d.command ?? d.pid})`;
    default:
      return handle.kind.replace('-', ' ');
  }
}

function pluralise(key: string): string {
  const [head, ...rest] = key.split(' ');
  return [`${head}s`, ...rest].join(' ');
}

/** The package that owns most of the handles, for the finding's "name@version". */
export function mainPackage(handles: Handle[], preferred: string[]): PackageRef | undefined {
  const owned = handles.map((h) => h.owner?.package).filter((p): p is PackageRef => p !== undefined);
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
