// `--load <rate>`: a steady stream of requests over keep-alive connections, across the signal,
// as a load balancer keeps sending while the endpoint removal propagates: until readiness has
// failed for LB_LAG_MS (with an HTTP --ready URL), else until the exit. Afterwards: what was
// sent after the signal, what completed, what failed and how (refused, reset, 5xx), when the
// last one was served, and — with an HTTP readiness URL — when readiness stopped answering 2xx.
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { LoadReport } from '../core/types.js';

const REQUEST_TIMEOUT_MS = 5000;
/**
 * A load balancer stops sending this long after readiness fails (the endpoint removal
 * propagating); with no HTTP readiness URL it keeps sending until the exit.
 */
export const LB_LAG_MS = 300;
const READINESS_EVERY_MS = 50;
/** Connections the stream may use (an agent reuses them: keep-alive, as a proxy would). */
const MAX_SOCKETS = 8;

export interface Load {
  /** Call when the signal went out (performance.now()). */
  signalled(at: number): void;
  /**
   * Stops sending, waits (a little) for what is in flight, reports. `exitedAt`: when the
   * service exited (performance.now()); requests sent after that are not the shutdown's.
   */
  finish(graceMs: number, exitedAt?: number): Promise<LoadReport>;
}

interface Sent { at: number; done?: number; status?: number; error?: string }

export function startLoad(url: URL, ratePerSecond: number, readiness?: URL): Load {
  const client = url.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const sent: Sent[] = [];
  const pending = new Set<Promise<void>>();
  let signalledAt: number | undefined;
  let readinessLostAt: number | undefined;
  let readinessTimer: NodeJS.Timeout | undefined;

  const fire = () => {
    const entry: Sent = { at: performance.now() };
    sent.push(entry);
    const done = new Promise<void>((resolve) => {
      const req = client.get(url, { agent, timeout: REQUEST_TIMEOUT_MS }, (response) => {
        response.resume();
        response.once('end', () => { entry.done = performance.now(); entry.status = response.statusCode; resolve(); });
        response.once('error', (error) => { entry.done = performance.now(); entry.error = codeOf(error); resolve(); });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('no answer'), { code: 'TIMEOUT' })));
      req.on('error', (error) => { entry.done = performance.now(); entry.error = codeOf(error); resolve(); });
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  // A steady rate, whatever the answers do: one request every 1000/rate ms.
  const stream = setInterval(fire, 1000 / ratePerSecond);

  const watchReadiness = () => {
    if (!readiness || readinessLostAt !== undefined) return;
    const readinessClient = readiness.protocol === 'https:' ? https : http;
    const at = performance.now();
    const req = readinessClient.get(readiness, { agent: false, timeout: 1000 }, (response) => {
      response.resume();
      if ((response.statusCode ?? 0) < 200 || (response.statusCode ?? 0) >= 300) readinessLostAt ??= at;
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => { readinessLostAt ??= at; });
    readinessTimer = setTimeout(watchReadiness, READINESS_EVERY_MS);
  };
  // Readiness lost: the balancer takes the instance out after its lag, and stops sending.
  const lagWatch = setInterval(() => {
    if (readinessLostAt !== undefined && performance.now() >= readinessLostAt + LB_LAG_MS) {
      clearInterval(stream);
      clearInterval(lagWatch);
    }
  }, 10);

  return {
    signalled(at) {
      signalledAt = at;
      watchReadiness();
    },
    async finish(graceMs, exitedAt) {
      clearInterval(stream);
      clearInterval(lagWatch);
      clearTimeout(readinessTimer);
      await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, graceMs))]);
      agent.destroy();
      const since = signalledAt ?? Infinity;
      const after = sent.filter((entry) => entry.at >= since && (exitedAt === undefined || entry.at < exitedAt));
      const failedOf = (entry: Sent) => entry.error !== undefined || (entry.status !== undefined && entry.status >= 500);
      const failures: Record<string, number> = {};
      for (const entry of after.filter(failedOf)) {
        const reason = entry.error ?? `HTTP ${entry.status}`;
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
      const served = sent.filter((entry) => entry.status !== undefined && entry.status < 500);
      const lastServed = served.filter((entry) => entry.at >= since).map((entry) => entry.done!).sort((a, b) => b - a)[0];
      const relative = (at: number | undefined) => (at === undefined || signalledAt === undefined ? null : Math.round(at - signalledAt));
      return {
        url: url.href,
        ratePerSecond,
        sent: sent.length,
        answered: sent.filter((entry) => entry.status !== undefined).length,
        afterSignal: {
          sent: after.length,
          completed: after.filter((entry) => entry.status !== undefined && entry.status < 500).length,
          failed: after.filter(failedOf).length,
          unanswered: after.filter((entry) => entry.done === undefined).length,
          failures,
        },
        lastServedMs: relative(lastServed),
        readiness: readiness ? { url: readiness.href, lostMs: relative(readinessLostAt) } : null,
      };
    },
  };
}

function codeOf(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}
