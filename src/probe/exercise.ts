// `--exercise <url>`: traffic like production's before the signal. A few requests over
// keep-alive connections (which stay open, idle, through the shutdown), then one more request
// that is still in flight when the signal goes out. Afterwards: did that request complete,
// or was it dropped?
import http from 'node:http';
import type { Socket } from 'node:net';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunInfo } from '../core/types.js';

/** Two at once, so the agent opens (and keeps) two keep-alive connections. */
const WARMUP_REQUESTS = 2;
const REQUEST_TIMEOUT_MS = 5000;

export type ExerciseReport = NonNullable<RunInfo['exercise']>;

export interface Exercise {
  /** Call when the signal went out (performance.now()). */
  signalled(at: number): void;
  /** Our connections' ends (address:port), as the service sees their peers: never its culprits. */
  clientAddresses(): string[];
  /** Waits (a little) for the in-flight request, closes our connections, reports. */
  finish(graceMs: number): Promise<ExerciseReport>;
}

interface Outcome { status?: number; error?: string; at: number }

export async function startExercise(url: URL): Promise<Exercise> {
  const client = url.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 2 });
  const sockets = new Set<Socket>();
  agent.on('free', (socket: Socket) => sockets.add(socket));
  const warmup = await Promise.all(Array.from({ length: WARMUP_REQUESTS }, () => request(client, url, agent, REQUEST_TIMEOUT_MS, sockets)));
  const answered = warmup.filter((outcome) => outcome.status !== undefined).length;
  const keepAliveConnections = Object.values(agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0);

  // The in-flight request: sent now, and the signal follows as soon as it is on the wire.
  let outcome: Outcome | undefined;
  let signalledAt: number | undefined;
  const inFlight = request(client, url, agent, 0, sockets).then((o) => { outcome = o; return o; });
  await Promise.race([inFlight, sleep(50)]);

  return {
    signalled(at) {
      signalledAt = at;
    },
    clientAddresses() {
      return [...sockets].filter((socket) => socket.localPort !== undefined).map((socket) => `${socket.localAddress}:${socket.localPort}`);
    },
    async finish(graceMs) {
      await Promise.race([inFlight, sleep(graceMs)]);
      agent.destroy();
      const settled = outcome;
      const after = settled && signalledAt !== undefined ? Math.max(0, Math.round(settled.at - signalledAt)) : undefined;
      return {
        url: url.href,
        warmup: { sent: WARMUP_REQUESTS, answered },
        keepAliveConnections,
        inFlight: !settled
          ? { outcome: 'unanswered' }
          : settled.error !== undefined
            ? { outcome: 'dropped', error: settled.error, afterSignalMs: after }
            : { outcome: signalledAt === undefined || settled.at < signalledAt ? 'completed-before-signal' : 'completed', status: settled.status, afterSignalMs: after },
      };
    },
  };
}

/** timeoutMs 0: no timeout (the in-flight request may legitimately take the whole mercy). */
function request(client: typeof http | typeof https, url: URL, agent: http.Agent, timeoutMs: number, sockets: Set<Socket>): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = client.get(url, { agent, timeout: timeoutMs || undefined }, (response) => {
      response.resume();
      response.once('end', () => resolve({ status: response.statusCode, at: performance.now() }));
      response.once('error', (error) => resolve({ error: describe(error), at: performance.now() }));
    });
    req.on('socket', (socket) => sockets.add(socket as Socket));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ error: describe(error), at: performance.now() }));
  });
}

function describe(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code} (${error.message})` : error.message;
}
