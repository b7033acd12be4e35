// What /proc alone shows of a process: for non-Node targets, and for Node targets whose
// inspector cannot be reached or does not answer. No cooperation from the target needed.
import { readChildren, readCmdline, processSockets, readThreads, isAlive } from '../reach/proc.js';
import type { Handle, Snapshot } from '../core/types.js';

/** Well-known peers, so "→ 127.0.0.1:27017" reads as MongoDB. */
export const WELL_KNOWN_PORTS: Record<number, string> = {
  27017: 'MongoDB', 6379: 'Redis', 5432: 'PostgreSQL', 3306: 'MySQL', 5672: 'AMQP',
  9092: 'Kafka', 11211: 'memcached', 4222: 'NATS', 1883: 'MQTT',
};

/**
 * @param ourPorts reload-doctor's own inspector port(s) in the target: its listening socket
 *   and our session are ours, never the target's culprits.
 */
export function takeProcSnapshot(pid: number, takenAtMs: number, notes: string[] = [], ourPorts: number[] = []): Snapshot {
  const handles: Handle[] = [];
  const sockets = processSockets(pid).filter((socket) => !ourPorts.includes(socket.localPort));
  const listeningOn = new Set(sockets.filter((socket) => socket.state === 'LISTEN').map((socket) => socket.localPort));
  for (const socket of sockets) {
    const local = `${socket.localAddress}:${socket.localPort}`;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const udp = socket.protocol.startsWith('udp');
    const listening = socket.state === 'LISTEN';
    // A connection on a port the process listens on was accepted: it comes in, not goes out.
    const incoming = !udp && !listening && listeningOn.has(socket.localPort);
    const peer = incoming ? undefined : WELL_KNOWN_PORTS[socket.remotePort];
    handles.push({
      kind: udp ? 'udp-socket' : listening ? 'tcp-server' : 'tcp-socket',
      blocking: true,
      label: udp ? `UDP ${local}` : listening ? `TCP listening on ${local}`
        : incoming ? `TCP ${local} ← ${remote} ${socket.state} (incoming)` : `TCP ${local} → ${remote} ${socket.state}${peer ? ` (${peer})` : ''}`,
      details: { protocol: socket.protocol, local, remote: listening || udp ? null : remote, state: socket.state, peer: peer ?? null, incoming: incoming || null },
    });
  }
  for (const child of readChildren(pid)) {
    if (!isAlive(child)) continue;
    const command = readCmdline(child).join(' ');
    handles.push({ kind: 'child-process', blocking: true, label: `child process pid ${child}: ${command}`, details: { pid: child, command } });
  }
  const threads = readThreads(pid).map(({ tid, name, state, wchan, syscall }) => ({ tid, name, state, wchan, syscall }));
  return { source: 'proc', takenAtMs, handles, threads, notes };
}
