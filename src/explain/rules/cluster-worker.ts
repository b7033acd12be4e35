// Inside a Node cluster worker, a server listening in round-robin mode holds no socket: the
// primary accepts and hands connections over. What keeps the worker alive instead is a
// placeholder setInterval(noop, TIMEOUT_MAX) from node:internal/cluster/child — not a timer of
// the app's — plus the IPC channel to the primary. Both belong to the cluster server.
import type { Rule, RuleFinding } from '../rule.js';

/** The largest timer delay Node accepts: the placeholder's period. */
const TIMEOUT_MAX = 2 ** 31 - 1;

export const clusterWorkerRule: Rule = {
  id: 'cluster-worker',
  explain(handles, snapshot): RuleFinding[] {
    if (!snapshot.context?.clusterWorker) return [];
    const placeholders = handles.filter((h) => h.kind === 'timer' && Number(h.details.repeat) === TIMEOUT_MAX);
    const channel = handles.filter((h) => h.details.ipc === true);
    if (placeholders.length === 0 && channel.length === 0) return [];
    const servers = placeholders.length;
    return [{
      title: `Node cluster worker: ${servers > 0 ? `${servers} server${servers === 1 ? '' : 's'} listening through the primary (round-robin)` : 'still connected to the primary'}${servers > 0 && channel.length > 0 ? ', and its IPC channel' : ''}`,
      severity: 'blocks',
      why: `${servers > 0 ? 'in a cluster worker a round-robin server keeps a placeholder timer (node:internal/cluster/child) instead of a socket until server.close(); ' : ''}the IPC channel to the primary keeps the worker alive until it disconnects`,
      fix: 'in the worker, server.close() on shutdown (or let the primary call worker.disconnect(), which closes the servers and the channel); the worker then exits once nothing else holds it',
      handles: [...placeholders, ...channel],
    }];
  },
};
