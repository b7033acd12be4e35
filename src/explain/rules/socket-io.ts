// socket.io: its clients' upgraded WebSocket connections and engine.io's heartbeat timers.
// server.close() on the HTTP server leaves both; io.close() closes everything.
import { packageLabel } from '../../core/format.js';
import { summariseHandles } from '../handle-summary.js';
import { bestLocation, mainPackage, ownedBy } from '../ownership.js';
import type { Rule, RuleFinding } from '../rule.js';

const PACKAGES = ['socket.io', 'engine.io', 'socket.io-adapter'];

export const socketIoRule: Rule = {
  id: 'socket.io',
  packages: PACKAGES,
  runsBefore: ['websocket-connections'],
  explain(handles): RuleFinding[] {
    const own = ownedBy(handles, PACKAGES);
    if (own.length === 0) return [];
    const connections = handles.filter((h) => h.kind === 'tcp-socket' && h.details.upgraded);
    const mine = [...connections, ...own];
    const owner = mainPackage(own, ['socket.io', 'engine.io']);
    const n = connections.length;
    return [{
      title: `socket.io (${packageLabel(owner)}): server never closed — ${n > 0 ? `${n} client connection${n === 1 ? '' : 's'}, ` : ''}${summariseHandles(own)}`,
      severity: 'blocks',
      owner,
      location: bestLocation(mine),
      why: 'server.close() stops the HTTP server accepting, but socket.io keeps its clients\' upgraded connections open and their heartbeat (ping) timers running',
      fix: 'await io.close() in your shutdown handler: it disconnects every client and closes the HTTP server too',
      handles: mine,
    }];
  },
};
