// pg / pg-pool: idle pooled clients keep their sockets. With idleTimeoutMillis > 0 (10 s by
// default) each idle client has a timer that closes it: the process exits on its own after
// that wait. With 0 (or min > 0) it never does.
import { formatDuration } from '../../core/duration.js';
import { libraryRule, sockets, timers } from './library.js';

const idleTimers = (handles: Parameters<typeof timers>[0]) => timers(handles).filter((t) => t.owner?.package?.name === 'pg-pool');

export const pgRule = libraryRule({
  id: 'pg',
  name: 'PostgreSQL client',
  packages: ['pg', 'pg-pool', 'pg-protocol'],
  problem: (handles) => (idleTimers(handles).length > 0 ? 'pool idle clients waiting for idleTimeoutMillis' : 'pool never ended'),
  why: (handles) => {
    const idle = idleTimers(handles);
    if (idle.length > 0) {
      const longest = Math.max(...idle.map((t) => Number(t.details.dueIn ?? t.details.delay ?? 0)));
      return `${sockets(handles).length} idle pooled connection(s) close when idleTimeoutMillis runs out: the process exits on its own in about ${formatDuration(longest)} — a wait, not a hang`;
    }
    return 'idle pooled connections stay open forever (idleTimeoutMillis is 0, or min > 0) and keep the event loop alive';
  },
  fix: () => 'await pool.end() in your SIGTERM handler (or new Pool({ allowExitOnIdle: true }) if the pool may linger)',
  severity: (handles) => (idleTimers(handles).length > 0 ? 'warning' : 'blocks'),
});
