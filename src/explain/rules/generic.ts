// The fallback: one finding per (owner, kind) with Node-level advice for that kind of handle.
import { packageLabel } from '../../core/format.js';
import type { Handle, HandleKind, Snapshot, SourceLocation } from '../../core/types.js';
import { closeCallText } from '../close-call.js';
import { bestLocation, packageOf } from '../ownership.js';
import type { Rule, RuleFinding } from '../rule.js';

interface Advice { why: string; fix: string }

const isIncoming = (handle: Handle) => handle.details.accepted === true || handle.details.incoming === true;

function adviceFor(handle: Handle, snapshot: Snapshot): Advice {
  const d = handle.details;
  switch (handle.kind) {
    case 'timer':
      return d.repeat
        ? { why: 'a repeating timer (setInterval) re-arms itself forever and keeps the event loop alive', fix: 'clearInterval(timer) in your shutdown handler, or timer.unref() if it must not hold the process' }
        : { why: `a pending setTimeout keeps the event loop alive until it fires${d.dueIn !== undefined ? ` (in ${d.dueIn} ms)` : ''}`, fix: 'clearTimeout(timer) in your shutdown handler, or timer.unref()' };
    case 'tcp-server':
    case 'pipe-server':
      return d.closing
        ? { why: 'server.close() was already called: the server is gone once its connections end and the event loop gets a turn', fix: 'end the connections it still waits for (server.closeAllConnections() after a grace period), and keep the main thread free to run their close callbacks' }
        : { why: 'a listening server keeps the event loop alive until it is closed', fix: 'server.close() in your shutdown handler' };
    case 'tcp-socket':
      // An HTTP server's connections are explained by the http-server rule; a plain net.Server's
      // (or what /proc shows as accepted) come here as incoming.
      return isIncoming(handle)
        ? { why: 'an open incoming connection keeps the event loop alive, and server.close() waits for it to end', fix: "keep the sockets from the server's 'connection' event and end() or destroy() them on shutdown, after server.close()" }
        : { why: 'an open outgoing connection keeps the event loop alive', fix: 'close the client that owns it (client.close(), quit(), end() or socket.destroy()) in your shutdown handler' };
    case 'child-process':
      if (snapshot.context?.stuckChildren?.includes(Number(d.pid))) {
        return {
          why: `the child process (pid ${d.pid}) is itself still alive after the signal, and the parent waits for it: what keeps the child alive is reported under it`,
          fix: "make the child exit when your shutdown asks it to (its own report shows what holds it); if nothing asks it, child.kill() in your shutdown handler",
        };
      }
      return { why: 'a running child process keeps the parent alive until it exits', fix: "child.kill() in your shutdown handler (or child.unref() if it may outlive you)" };
    case 'worker-thread':
      return { why: 'a running worker thread keeps the process alive', fix: 'await worker.terminate() (or post it a stop message) in your shutdown handler; worker.unref() if it must not hold the process' };
    case 'message-port':
      return { why: "a MessagePort with a 'message' listener keeps the loop alive", fix: 'port.close() or port.unref()' };
    case 'fs-watcher':
      if (d.watcher === 'StatWatcher') return { why: 'fs.watchFile() polls the file with a StatWatcher, which keeps the event loop alive', fix: 'fs.unwatchFile(path) in your shutdown handler (a StatWatcher has no close()), or watcher.unref() on the one fs.watchFile() returned' };
      return { why: 'a file watcher keeps the event loop alive', fix: 'watcher.close() in your shutdown handler' };
    case 'udp-socket':
      return { why: 'a bound UDP socket keeps the event loop alive', fix: 'socket.close() in your shutdown handler' };
    case 'stdio':
    case 'tty':
      return { why: 'standard input is being read: it waits for more input forever', fix: 'process.stdin.pause() / readline interface.close() on shutdown' };
    case 'pipe':
      return { why: 'an open pipe stream keeps the event loop alive', fix: 'end() or destroy() the stream on shutdown' };
    case 'request':
      return { why: 'a pending operation (file system, DNS) keeps the loop alive until it completes', fix: 'it ends by itself when the operation completes; if it never does, look at what issued it' };
    default:
      return { why: 'a referenced handle keeps the event loop alive', fix: 'close it, or unref() it if it must not hold the process' };
  }
}

/**
 * A Node object the app holds (its Worker, ClientHttp2Session, dgram Socket, ChildProcess),
 * read from the live objects: the advice names it, and its close call is the one its class has.
 */
function withNodeOwner(advice: Advice, group: Handle[], snapshot: Snapshot): Advice {
  const owner = group.find((h) => h.inferredOwner?.core)?.inferredOwner;
  if (!owner || !closingIsTheFix(group[0]!, snapshot)) return advice;
  const what = `${owner.className ? `a ${owner.className}` : 'an object'} of node:${owner.core}`;
  return {
    why: `${advice.why} (it is the app's \`${owner.expression ?? owner.variable}\`, ${what})`,
    fix: `${closeCallText(owner)} in your shutdown handler`,
  };
}

/** The advice is "close it" (not: a server already closing, a connection a server accepted, a child that is itself stuck). */
function closingIsTheFix(handle: Handle, snapshot: Snapshot): boolean {
  if (handle.details.closing || isIncoming(handle)) return false;
  if (handle.kind === 'child-process') return !snapshot.context?.stuckChildren?.includes(Number(handle.details.pid));
  return ['tcp-server', 'pipe-server', 'tcp-socket', 'udp-socket', 'worker-thread', 'message-port', 'fs-watcher'].includes(handle.kind);
}

/** Where the app declares the Node object it holds (a dgram Socket's variable, not its 'message' listener), unless a creation line says more. */
function nodeOwnerPlace(group: Handle[]): SourceLocation | undefined {
  if (group.some((h) => h.createdIn && !h.createdInherited)) return undefined;
  return group.find((h) => h.inferredOwner?.core && h.heldBy)?.heldBy!.location;
}

const KIND_ORDER: HandleKind[] = ['tcp-server', 'pipe-server', 'tcp-socket', 'child-process', 'worker-thread', 'timer', 'udp-socket', 'fs-watcher', 'message-port', 'pipe', 'stdio', 'tty', 'request', 'other'];

/** Handles of one owner are one finding: a package, Node itself, or a file of the app. */
function ownerKey(handle: Handle): string {
  const owner = packageOf(handle);
  if (owner) return packageLabel(owner);
  if (!handle.owner) return '?';
  return handle.owner.internal ? 'node' : handle.owner.file;
}

export const genericHandles: Rule = {
  id: 'generic',
  explain(handles, snapshot) {
    const groups = new Map<string, { variant: string; handles: Handle[] }>();
    for (const handle of handles) {
      // Timers split by repeat vs one-shot (different advice); everything else by kind.
      const variant = handle.kind === 'timer' ? (handle.details.repeat ? 'interval' : 'timeout')
        : handle.kind === 'tcp-socket' ? (isIncoming(handle) ? 'incoming' : 'client') : handle.kind;
      const key = `${ownerKey(handle)}|${variant}`;
      const group = groups.get(key) ?? { variant, handles: [] };
      group.handles.push(handle);
      groups.set(key, group);
    }
    const findings: RuleFinding[] = [];
    for (const { variant, handles: group } of groups.values()) {
      const first = group[0]!;
      const advice = withNodeOwner(adviceFor(first, snapshot), group, snapshot);
      findings.push({
        variant,
        title: group.length === 1 ? first.label : `${group.length} × ${first.label}`,
        severity: 'blocks',
        owner: packageOf(first),
        location: nodeOwnerPlace(group) ?? bestLocation(group),
        why: advice.why,
        fix: advice.fix,
        handles: group,
      });
    }
    return findings.sort((a, b) => KIND_ORDER.indexOf(a.handles[0]!.kind) - KIND_ORDER.indexOf(b.handles[0]!.kind));
  },
};
