// Counts and groups handles into one readable phrase: "2 sockets to 127.0.0.1:5432, 1 timer every 10 s".
import { formatDuration } from '../core/duration.js';
import type { Handle } from '../core/types.js';

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
      if (d.accepted || d.incoming) {
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
