// What /proc alone shows of a process: for non-Node targets, and for Node targets whose
// inspector cannot be reached or does not answer. No cooperation from the target needed.
import { readChildren, readCmdline, processSockets, readThreads, isAlive } from '../reach/proc.js';
import type { Handle, Snapshot } from '../core/types.js';

/** Well-known peers, so "→ 127.0.0.1:27017" reads as MongoDB. */
export const WELL_KNOWN_PORTS: Record<number, string> = {
  27017: 'MongoDB', 6379: 'Redis', 5432: 'PostgreSQL', 3306: 'MySQL', 5672: 'AMQP',
  9092: 'Kafka', 11211: 'memcached', 4222: 'NATS', 1883: 'MQTT',
};

export function takeProcSnapshot(pid: number, takenAtMs: number, notes: string[] = []): Snapshot {
  const handles: Handle[] = [];
  for (const socket of processSockets(pid)) {
    const local = `${socket.localAddress}:${socket.localPort}`;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const peer = WELL_KNOWN_PORTS[socket.remotePort];
    const udp = socket.protocol.startsWith('udp');
    const listening = socket.state === 'LISTEN';
    handles.push({
      kind: udp ? 'udp-socket' : listening ? 'tcp-server' : 'tcp-socket',
      blocking: true,
      label: udp ? `UDP ${local}` : listening ? `TCP listening on ${local}` : `TCP ${local} → ${remote} ${socket.state}${peer ? ` (${peer})` : ''}`,
      details: { protocol: socket.protocol, local, remote: listening || udp ? null : remote, state: socket.state, peer: peer ?? null },
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
