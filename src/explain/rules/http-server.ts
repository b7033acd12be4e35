// http.Server connections holding server.close(): long responses in flight (SSE, long-poll,
// streaming) and idle keep-alive sockets. The fix depends on the target's Node version:
// closeIdleConnections()/closeAllConnections() since 18.2, and close() itself drops idle
// keep-alive sockets since 19.
import { formatDuration } from '../../core/duration.js';
import { summariseHandles } from '../handle-summary.js';
import { bestLocation } from '../ownership.js';
import type { Rule, RuleFinding } from '../rule.js';

function nodeMajorMinor(version: string | undefined): [number, number] {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

export function fixFor(version: string | undefined, inFlight: boolean): string {
  const [major, minor] = nodeMajorMinor(version);
  if (major >= 19) {
    return inFlight
      ? 'end or abort long responses (SSE, long-poll, streams) on shutdown; after a grace period call server.closeAllConnections()'
      : 'call server.close() in your shutdown handler (it closes idle keep-alive sockets itself since Node 19); server.closeAllConnections() after a grace period for busy ones';
  }
  if (major > 18 || (major === 18 && minor >= 2)) {
    return 'after server.close(), call server.closeIdleConnections(); after a grace period, server.closeAllConnections()';
  }
  return 'keep a Set of sockets from the "connection" event and destroy() them after server.close() (closeIdleConnections needs Node ≥ 18.2)';
}

/** "reload-doctor's own --exercise connection", "2 idle keep-alive connections (1 of them reload-doctor's…)". */
function describeIdle(total: number, ours: number): string {
  if (ours === total) return total === 1 ? "reload-doctor's own --exercise connection (idle keep-alive)" : `reload-doctor's own ${total} --exercise connections (idle keep-alive)`;
  const idle = total === 1 ? 'an idle keep-alive connection' : `${total} idle keep-alive connections`;
  return ours === 0 ? idle : `${idle} (${ours} of them reload-doctor's own --exercise connections)`;
}

export const httpServerRule: Rule = {
  id: 'http-server-connections',
  explain(handles, snapshot): RuleFinding[] {
    const connections = handles.filter((h) => h.kind === 'tcp-socket' && h.details.accepted && h.details.http !== false);
    if (connections.length === 0) return [];
    const inFlight = connections.filter((h) => h.details.inFlight);
    const server = connections.find((h) => h.details.server)?.details.server;
    const requests = [...new Set(inFlight.map((h) => String(h.details.inFlight)))].slice(0, 3).join(', ');
    const [major] = nodeMajorMinor(snapshot.nodeVersion);
    // Idle keep-alive sockets of a server that is still listening go away with close() on Node ≥ 19.
    const closesThemItself = inFlight.length === 0 && server !== undefined && major >= 19;
    // A closed server's idle connections, each with its keepAliveTimeout running: they go by themselves.
    const timingOut = inFlight.length === 0 && !closesThemItself && connections.every((h) => typeof h.details.closesIn === 'number');
    if (timingOut) {
      const last = Math.max(...connections.map((h) => Number(h.details.closesIn)));
      const ours = connections.filter((h) => snapshot.context?.exerciseClients?.includes(String(h.details.remote))).length;
      return [{
        title: `server.close() is still waiting for ${summariseHandles(connections)}, idle until keepAliveTimeout`,
        severity: 'warning',
        location: bestLocation(connections),
        why: `${describeIdle(connections.length, ours)} went idle after server.close() was called (close() only closes the connections idle at that moment); the server closes ${connections.length === 1 ? 'it' : 'them'} itself when keepAliveTimeout runs out, in about ${formatDuration(last)}: the process exits then, after the mercy`,
        fix: 'call server.closeIdleConnections() again once the last response has gone out (Node ≥ 18.2), or answer with Connection: close once shutting down',
        handles: connections,
      }];
    }
    return [{
      title: server
        ? `server ${server} has ${summariseHandles(connections)}`
        : `server.close() is still waiting for ${summariseHandles(connections)}`,
      severity: closesThemItself ? 'warning' : 'blocks',
      location: bestLocation(connections),
      why: inFlight.length > 0
        ? `server.close() stops accepting but waits for every open connection to end, and ${requests} never finishes`
        : closesThemItself
          ? 'idle keep-alive connections: server.close() closes them itself on this Node version, so they hold the process only if close() is never called'
          : 'server.close() stops accepting but waits for every open connection to end; these keep-alive connections stay open',
      fix: fixFor(snapshot.nodeVersion, inFlight.length > 0),
      handles: connections,
    }];
  },
};
