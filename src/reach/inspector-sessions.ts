// Who is connected to a target's inspector port: each session is an ESTABLISHED socket of the
// target whose local port is the inspector's; its peer, in the same network namespace, is
// the client's socket, and the client is whoever holds that socket's inode. Anyone but us is
// a foreign session: reported, and cut (`ss -K`, needs CAP_NET_ADMIN) so that closing the
// inspector never waits on it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findSocketOwner, heldInodes, readCmdline, readSocketTable, readStatusFields } from './proc.js';
import { inOtherNetworkNamespace } from './inspector-channel.js';

const run = promisify(execFile);

export interface InspectorSession {
  /** The client's end, as the target sees it: "127.0.0.1:40312". */
  peer: string;
  peerAddress: string;
  peerPort: number;
  /** The inspector's own address on this connection. */
  localAddress: string;
  /** The process holding the client's socket, when it could be found. */
  ownerPid?: number;
}

/**
 * The sessions on the target's inspector port. `ours` (reload-doctor and its relay) are looked
 * at first as the clients: a session of ours needs no more proof, and only the others are
 * checked against the target's fds (a network namespace is shared; the scan of 20,000 fds is
 * skipped when we are alone, as we nearly always are).
 */
export function inspectorSessions(pid: number, port: number, ours: Array<number | undefined> = []): InspectorSession[] {
  // Only the rows of connections to or from the port are decoded (a busy target has thousands).
  const rows = readSocketTable(pid, (state, localPort, remotePort) => state === 'ESTABLISHED' && (localPort === port || remotePort === port));
  const sessions = rows
    .filter((row) => row.localPort === port)
    .map((row) => {
      const client = rows.find((other) => other.localPort === row.remotePort && other.remotePort === port && other.localAddress === row.remoteAddress);
      const session: InspectorSession = {
        peer: `${row.remoteAddress}:${row.remotePort}`, peerAddress: row.remoteAddress, peerPort: row.remotePort, localAddress: row.localAddress,
        ownerPid: client ? findSocketOwner(client.inode, ours) : undefined,
      };
      return { row, session };
    });
  const isOurs = ({ session }: { session: InspectorSession }) => session.ownerPid !== undefined && ours.includes(session.ownerPid);
  const owned = heldInodes(pid, sessions.filter((entry) => !isOurs(entry)).map(({ row }) => row.inode));
  return sessions.filter((entry) => isOurs(entry) || owned.has(entry.row.inode)).map(({ session }) => session);
}

/** Sessions of anyone but `ours` (reload-doctor and its relay). */
export function foreignSessions(pid: number, port: number, ours: Array<number | undefined>): InspectorSession[] {
  return inspectorSessions(pid, port, ours).filter((session) => session.ownerPid === undefined || !ours.includes(session.ownerPid));
}

export function describeSession(session: InspectorSession): string {
  if (session.ownerPid === undefined) return `a client at ${session.peer} (its process could not be found)`;
  const uid = readStatusFields(session.ownerPid).get('Uid')?.split(/\s+/)[0];
  return `pid ${session.ownerPid} (uid ${uid ?? '?'}: ${readCmdline(session.ownerPid).join(' ').slice(0, 60)}) from ${session.peer}`;
}

/** Destroys the target's end of each session (SOCK_DESTROY through `ss -K`); returns those that are gone. */
export async function cutSessions(pid: number, port: number, sessions: InspectorSession[]): Promise<InspectorSession[]> {
  const cut: InspectorSession[] = [];
  for (const session of sessions) {
    const filter = ['-K', 'src', session.localAddress, 'sport', '=', `:${port}`, 'dst', session.peerAddress, 'dport', '=', `:${session.peerPort}`];
    const [command, args] = inOtherNetworkNamespace(pid) ? ['nsenter', ['-t', String(pid), '-n', '--', 'ss', ...filter]] : ['ss', filter];
    try {
      await run(command, args, { timeout: 3000 });
    } catch {
      continue; // not permitted (needs CAP_NET_ADMIN) or no ss: the caller reports it still open
    }
    if (!inspectorSessions(pid, port).some((left) => left.peer === session.peer)) cut.push(session);
  }
  return cut;
}
