// Upgraded connections (WebSocket): once upgraded, a socket is no longer the HTTP server's.
// server.close() neither waits for it nor closes it, yet it keeps the loop alive; the
// WebSocket library (ws, socket.io's engine) must close its clients itself.
import { packageLabel } from '../../core/format.js';
import { bestLocation, mainPackage } from '../ownership.js';
import type { Rule, RuleFinding } from '../rule.js';

export const websocketRule: Rule = {
  id: 'websocket-connections',
  runsBefore: ['http-server-connections'],
  explain(handles): RuleFinding[] {
    const upgraded = handles.filter((h) => h.kind === 'tcp-socket' && h.details.upgraded);
    if (upgraded.length === 0) return [];
    const owner = mainPackage(upgraded, ['ws', 'socket.io', 'engine.io']);
    const n = upgraded.length;
    return [{
      title: `${n} upgraded (WebSocket) connection${n === 1 ? '' : 's'} still open${owner ? ` (${packageLabel(owner)})` : ''}${upgraded[0]!.details.server ? ` on server ${upgraded[0]!.details.server}` : ''}`,
      severity: 'blocks',
      owner,
      location: bestLocation(upgraded),
      why: 'an upgraded connection has left HTTP: server.close() and closeAllConnections() no longer see it, and the WebSocket stays open as long as the client keeps it',
      fix: owner?.name === 'socket.io'
        ? 'await io.close() in your shutdown handler (it disconnects every client and closes the HTTP server)'
        : 'on shutdown, close every client: for (const ws of wss.clients) ws.close(1001, "shutting down"); then ws.terminate() for any still open after a grace period; and wss.close()',
      handles: upgraded,
    }];
  },
};
