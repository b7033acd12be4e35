// `reload-doctor run -- <command>`, the CI step: start the service with creation stacks on,
// wait until it is ready, optionally exercise it, run the shutdown check, and afterwards
// report the exercise and end the whole process tree. Whatever happens, the tree is gone
// when this returns.
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { addCleanup } from '../core/cleanups.js';
import { makeDiagnosis, type Diagnosis } from '../core/diagnosis.js';
import { formatDuration } from '../core/duration.js';
import { ServiceNotReadyError } from '../core/errors.js';
import { shutdownExitCode } from '../core/exit-codes.js';
import type { RunInfo, UsageSample } from '../core/types.js';
import { runShutdownCheck } from '../check/shutdown.js';
import { withTraffic } from '../check/timeline.js';
import { lookAtStuckNodeWorkers } from '../check/workers.js';
import { settleCreationStacks } from '../inspect/creation-stacks.js';
import { startExercise } from '../probe/exercise.js';
import { startLoad } from '../probe/load.js';
import { describeReadySpec, waitUntilReady, type ReadySpec } from '../probe/ready.js';
import type { SignalChoice } from '../probe/signals.js';
import { aliveAtDeadline } from '../probe/verdict.js';
import { isAlive, readCmdline } from '../reach/proc.js';
import { reachService } from '../reach/reached.js';
import { Service, type ServiceExit } from '../reach/spawn.js';

export interface RunRequest {
  command: string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  signal: SignalChoice;
  mercyMs: number;
  ready: ReadySpec;
  readyTimeoutMs: number;
  exercise?: URL;
  /** Requests per second across the signal, against the exercise URL (--load). */
  loadRate?: number;
  /** Record the shutdown's timeline (default true). */
  timeline?: boolean;
  /** Read stuck Python processes from inside (--py-stacks). */
  pyStacks?: boolean;
  /** Record creation stacks (default true). */
  creationStacks?: boolean;
  /** Keep it running this long after it is ready, before the signal (for your own traffic). */
  holdMs?: number;
  /** The service's output, line by line. */
  onServiceLine(stream: 'stdout' | 'stderr', line: string): void;
  onTick?: (elapsedMs: number, latest: UsageSample | undefined) => void;
}

/** The deadline's window comes at the mercy; past it by this much the app stops waiting for it. */
const IDLE_MARGIN_MS = 5000;

/** The load runs this long before the signal, so requests are flowing when it goes out. */
const LOAD_WARMUP_MS = 500;

/** After a clean exit the in-flight answer has arrived or never will: how long to give it. */
const IN_FLIGHT_GRACE_MS = 1000;

export async function runService(request: RunRequest): Promise<Diagnosis> {
  const lineListeners = new Set<(line: string) => void>();
  const service = new Service({
    command: request.command,
    cwd: request.cwd,
    env: request.env,
    creationStacks: request.creationStacks,
    onLine(stream, line) {
      request.onServiceLine(stream, line);
      for (const listener of lineListeners) listener(line);
    },
  });
  const unregister = addCleanup(() => service.kill());
  try {
    const startedAt = performance.now();
    const readyBy = await becomeReady(service, request, (listener) => {
      lineListeners.add(listener);
      return () => lineListeners.delete(listener);
    });
    const readyAfterMs = Math.round(performance.now() - startedAt);
    // A first window: who the app is, and its creation hook stops following ticks (it is ready).
    const reached = await reachService(service, request.command, request.mercyMs + IDLE_MARGIN_MS);
    const earlyWarnings: string[] = [];
    if (reached.inspector) {
      await settleCreationStacks([await reached.inspector.open()]);
      // No window stays open while the service runs on (--hold: your own traffic).
      if (request.holdMs) earlyWarnings.push(...await reached.inspector.close(false));
    }
    if (request.holdMs) await hold(service, request.holdMs);
    const exercise = request.exercise ? await startExercise(request.exercise) : undefined;
    // The stream is flowing when the signal goes out, as in production.
    const load = request.exercise && request.loadRate ? startLoad(request.exercise, request.loadRate, request.ready.kind === 'http' ? request.ready.url : undefined) : undefined;
    if (load) await new Promise((resolve) => setTimeout(resolve, LOAD_WARMUP_MS));

    // The signal goes to the process we started, as `docker stop` does; the shutdown is over
    // when the app is gone (a wrapper like npm may exit first and leave it running).
    const watched = reached.target.pid;
    const ownChild = watched === service.pid;
    const check = await runShutdownCheck(reached, {
      signal: request.signal, mercyMs: request.mercyMs, signalPid: service.pid, followWorkers: true, timeline: request.timeline, pyStacks: request.pyStacks, onTick: request.onTick, exerciseClients: exercise && (() => exercise.clientAddresses()),
      onSignal: (at) => { exercise?.signalled(at); load?.signalled(at); },
      child: ownChild ? { exitedAt: service.exited.then((exit) => exit.at), exitSignal: async () => (await service.exited).signal } : undefined,
    });
    const warnings = [...reached.warnings, ...earlyWarnings, ...check.warnings, ...await reached.release()];
    // The app's own children (cluster workers, a worker process it spawned): each stuck Node
    // one through its own inspector, after the app's is closed, as in attach mode.
    const tree = check.tree && await lookAtStuckNodeWorkers(check.tree, true, check.signalledAt, true);
    const wrapperExit = watched !== service.pid ? service.hasExited : undefined;
    if (wrapperExit && aliveAtDeadline(check.verdict)) {
      warnings.push(`${basename(request.command[0]!)} (pid ${service.pid}) exited ${formatDuration(wrapperExit.at - check.signalledAt)} after ${request.signal.name} and left the app (pid ${watched}) running; the app probably never got the signal (npm and shells do not pass it on). As a container's main process it would take the app down with SIGKILL: start the app directly (CMD ["node", "server.js"], sh -c "exec node server.js") or under an init that forwards signals (tini, dumb-init)`);
    }

    const exerciseReport = await exercise?.finish(check.verdict.outcome === 'exited' ? IN_FLIGHT_GRACE_MS : 0);
    const exitedAt = check.verdict.exitedAfterMs === undefined ? undefined : check.signalledAt + check.verdict.exitedAfterMs;
    const loadReport = await load?.finish(check.verdict.outcome === 'exited' ? IN_FLIGHT_GRACE_MS : 0, exitedAt);
    const failedUnderLoad = (loadReport?.afterSignal.failed ?? 0) > 0;
    if (loadReport && failedUnderLoad) {
      const reasons = Object.entries(loadReport.afterSignal.failures).map(([reason, n]) => `${n} × ${reason}`).join(', ');
      warnings.push(`${loadReport.afterSignal.failed} of the ${loadReport.afterSignal.sent} requests sent after ${request.signal.name} failed (${reasons}): keep serving while the load balancer removes the instance (fail readiness first, wait, then close), and let requests in flight finish`);
    }
    const inFlightDropped = exerciseReport?.inFlight.outcome === 'dropped';
    if (inFlightDropped && shutdownExitCode(check.verdict) === 0) {
      // It exited in time, but not gracefully: a request it had accepted was lost.
      warnings.push(`the request in flight at ${request.signal.name} was dropped (${exerciseReport!.inFlight.error}): let in-flight requests finish (server.close() and wait for its callback) before exiting`);
    }
    const dropped = inFlightDropped || failedUnderLoad;
    const exit = service.hasExited;
    const ended = await endTree(service, watched);
    const run: RunInfo = {
      command: request.command.join(' '), servicePid: service.pid, appPid: reached.target.runtime.kind === 'node' ? watched : undefined, readyAfterMs, readyBy,
      creationStacks: reached.target.runtime.kind === 'node' && request.creationStacks !== false,
      exit: exit && { code: exit.code, signal: exit.signal }, exercise: exerciseReport, load: loadReport, leftBehind: ended.leftBehind, killedPids: ended.killedPids,
    };
    return makeDiagnosis({
      mode: 'run',
      target: reached.target,
      run,
      verdict: { ...check.verdict, killed: ended.killedService },
      snapshot: check.snapshot,
      timeline: check.timeline && withTraffic(check.timeline, exerciseReport, loadReport),
      findings: check.findings,
      tree,
      warnings,
      exitCode: shutdownExitCode(check.verdict, dropped),
    });
  } finally {
    unregister();
    await service.kill();
  }
}

async function becomeReady(service: Service, request: RunRequest, onLine: (l: (line: string) => void) => () => void): Promise<string> {
  const abort = new AbortController();
  const timeout = setTimeout(() => abort.abort(new ServiceNotReadyError(
    `the service was not ready within ${formatDuration(request.readyTimeoutMs)} (waiting until ${describeReadySpec(request.ready)}); use --ready or --ready-timeout`,
  )), request.readyTimeoutMs);
  const exited = service.exited.then((exit) => {
    throw new ServiceNotReadyError(`the service ${describeExit(exit)} before it was ready (its output is above)`);
  }, (error: Error) => {
    throw new ServiceNotReadyError(error.message, { cause: error });
  });
  const aborted = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true }));
  try {
    const context = { rootPid: service.pid, onLine };
    return await Promise.race([waitUntilReady(request.ready, context, abort.signal), exited, aborted]);
  } finally {
    clearTimeout(timeout);
    abort.abort(new Error('done'));
  }
}

function describeExit(exit: ServiceExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

async function hold(service: Service, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const exited = service.exited.then((exit) => {
    throw new ServiceNotReadyError(`the service ${describeExit(exit)} during --hold, before the signal (its output is above)`);
  });
  try {
    await Promise.race([new Promise((resolve) => { timer = setTimeout(resolve, ms); }), exited]);
  } finally {
    clearTimeout(timer);
  }
}

/** Notes who outlived the service, then kills the whole tree (no orphans, ever). */
async function endTree(service: Service, watched: number): Promise<{ leftBehind: RunInfo['leftBehind']; killedPids: number[]; killedService: boolean }> {
  const alive = service.allProcesses();
  const leftBehind = isAlive(watched) ? [] : alive.map((pid) => ({ pid, command: readCmdline(pid).join(' ') }));
  if (alive.length === 0) return { leftBehind, killedPids: [], killedService: false };
  const survivors = await service.kill();
  // The service itself was still running: no mercy, as the process manager would have done.
  return { leftBehind, killedPids: alive.filter((pid) => !survivors.includes(pid)), killedService: alive.includes(watched) };
}
