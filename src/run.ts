// `reload-doctor run -- <command>`, the CI step: start the service with creation stacks on,
// wait until it is ready, optionally exercise it, send the graceful signal, and give the
// verdict. Whatever happens, the whole process tree is gone when this returns.
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { addCleanup } from './cleanup.js';
import { EXIT_BY_OUTCOME, evaluateJson, listensFor, snapshotOf, type Diagnosis } from './diagnose.js';
import { EXIT, ServiceNotReadyError } from './errors.js';
import { explain } from './explain/engine.js';
import { startScriptCatalog, type ScriptCatalog } from './inspect/script-catalog.js';
import { formatDuration } from './probe/duration.js';
import { startExercise } from './probe/exercise.js';
import { runProbe } from './probe/probe.js';
import { describeReadySpec, waitUntilReady, type ReadySpec } from './probe/ready.js';
import { looksBusy } from './probe/sampler.js';
import type { SignalChoice } from './probe/signals.js';
import { isAlive, readCmdline, readLink } from './reach/proc.js';
import { Service, type NodeSession, type ServiceExit } from './reach/spawn.js';
import { descendantsOf, groupMembers } from './reach/tree.js';
import type { RunInfo, Target, UsageSample, Verdict } from './types.js';

export interface RunRequest {
  command: string[];
  signal: SignalChoice;
  mercyMs: number;
  ready: ReadySpec;
  readyTimeoutMs: number;
  exercise?: URL;
  /** Record creation stacks (default true). */
  creationStacks?: boolean;
  /** Keep it running this long after it is ready, before the signal (for your own traffic). */
  holdMs?: number;
  /** The service's output, line by line. */
  onServiceLine(stream: 'stdout' | 'stderr', line: string): void;
  onTick?: (elapsedMs: number, latest: UsageSample | undefined) => void;
}

/** After a clean exit the in-flight answer has arrived or never will: how long to give it. */
const IN_FLIGHT_GRACE_MS = 1000;

export async function runService(request: RunRequest): Promise<Diagnosis> {
  const lineListeners = new Set<(line: string) => void>();
  const service = new Service({
    command: request.command,
    creationStacks: request.creationStacks,
    onLine(stream, line) {
      request.onServiceLine(stream, line);
      for (const listener of lineListeners) listener(line);
    },
  });
  const unregister = addCleanup(() => service.kill());
  let catalog: ScriptCatalog | undefined;
  try {
    const startedAt = performance.now();
    const readyBy = await becomeReady(service, request, (listener) => {
      lineListeners.add(listener);
      return () => lineListeners.delete(listener);
    });
    const readyAfterMs = Math.round(performance.now() - startedAt);
    await service.endStartup();
    if (request.holdMs) await hold(service, request.holdMs);
    const app = service.app();
    const target = await describeTarget(service, app, request.command);
    const warnings = [...service.warnings];

    const exercise = request.exercise ? await startExercise(request.exercise) : undefined;
    catalog = app ? await startScriptCatalog(app.client).catch(() => undefined) : undefined;
    const hadListener = await listensFor(app?.client, request.signal);
    if (hadListener === false) warnings.push(`the service has no ${request.signal.name} listener: Node's default action kills it at once, dropping in-flight work`);

    // The signal goes to the process we started, as `docker stop` does; the shutdown is over
    // when the app is gone (a wrapper like npm may exit first and leave it running).
    const watched = app?.pid ?? service.pid;
    const probe = await runProbe({ pid: watched, signalPid: service.pid, signal: request.signal, mercyMs: request.mercyMs, client: app?.client, onTick: request.onTick });
    const wrapperExit = watched !== service.pid ? service.hasExited : undefined;
    if (wrapperExit && isAlive(watched)) {
      warnings.push(`${basename(request.command[0]!)} (pid ${service.pid}) exited ${formatDuration(wrapperExit.at - probe.signalledAt)} after ${request.signal.name} and left the app (pid ${watched}) running; the app probably never got the signal (npm and shells do not pass it on). As a container's main process it would take the app down with SIGKILL: start the app directly (CMD ["node", "server.js"], sh -c "exec node server.js") or under an init that forwards signals (tini, dumb-init)`);
    }
    exercise?.signalled(probe.signalledAt);
    const verdict: Verdict = {
      outcome: 'exited', signal: request.signal.name, mercyMs: request.mercyMs, busy: false, hadListener, samples: probe.samples, killed: false,
    };
    const run: RunInfo = {
      command: request.command.join(' '), servicePid: service.pid, appPid: app?.pid, readyAfterMs, readyBy, creationStacks: app !== undefined && request.creationStacks !== false, leftBehind: [], killedPids: [],
    };
    let diagnosis: Diagnosis;
    try {
      if (probe.exited) {
        const exit = watched === service.pid ? await service.exited : undefined;
        verdict.exitedAfterMs = Math.round(probe.exitedAfterMs!);
        const killedBySignal = exit?.signal === request.signal.name;
        verdict.outcome = hadListener === false || (hadListener === undefined && killedBySignal) ? 'not-graceful' : 'exited';
        diagnosis = { mode: 'run', target, run, verdict, findings: [], warnings, exitCode: EXIT_BY_OUTCOME[verdict.outcome] };
      } else {
        verdict.outcome = 'still-alive';
        verdict.busy = looksBusy(probe.samples);
        const snapshot = await snapshotOf(watched, app?.client, catalog, verdict.busy, probe.signalledAt, true);
        if (!isAlive(watched)) {
          verdict.outcome = 'exited-late';
          verdict.exitedAfterMs = Math.round(await probe.lateExit);
        }
        diagnosis = { mode: 'run', target, run, verdict, snapshot, findings: explain(snapshot), warnings, exitCode: EXIT_BY_OUTCOME[verdict.outcome] };
      }
    } finally {
      probe.stopWatching();
    }
    if (exercise) {
      const report = await exercise.finish(verdict.outcome === 'exited' ? IN_FLIGHT_GRACE_MS : 0);
      run.exercise = report;
      if (report.inFlight.outcome === 'dropped' && diagnosis.exitCode === EXIT.ok) {
        // It exited in time, but not gracefully: a request it had accepted was lost.
        diagnosis.exitCode = EXIT.notInTime;
        warnings.push(`the request in flight at ${request.signal.name} was dropped (${report.inFlight.error}): let in-flight requests finish (server.close() and wait for its callback) before exiting`);
      }
    }
    const exit = service.hasExited;
    if (exit) run.exit = { code: exit.code, signal: exit.signal };
    await endTree(service, watched, run, verdict);
    return diagnosis;
  } finally {
    unregister();
    await catalog?.stop();
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
    throw new ServiceNotReadyError(error.message);
  });
  const aborted = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true }));
  try {
    const context = {
      rootPid: service.pid,
      ignoredPorts: () => service.inspectorPorts,
      ignoredPid: (pid: number) => service.isPausedByUs(pid),
      onLine,
    };
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

async function describeTarget(service: Service, app: NodeSession | undefined, command: string[]): Promise<Target> {
  if (!app) {
    return { pid: service.pid, runtime: { kind: 'other', executable: readLink(`/proc/${service.pid}/exe`) }, command: command.join(' '), reachedBy: 'spawn' };
  }
  const info = await evaluateJson(app.client, 'JSON.stringify({ version: process.version })').catch(() => undefined);
  const own = readCmdline(app.pid).filter((word) => !word.startsWith('--inspect-brk='));
  return { pid: app.pid, runtime: { kind: 'node', version: info?.version }, command: own.join(' ') || command.join(' '), reachedBy: 'spawn' };
}

/** Notes who outlived the service, then kills the whole tree (no orphans, ever). */
async function endTree(service: Service, watched: number, run: RunInfo, verdict: Verdict): Promise<void> {
  const alive = [...new Set([service.pid, ...descendantsOf(service.pid), ...groupMembers(service.pid)])].filter(isAlive);
  if (!isAlive(watched)) {
    run.leftBehind = alive.map((pid) => ({ pid, command: readCmdline(pid).join(' ') }));
  }
  if (alive.length === 0) return;
  const survivors = await service.kill();
  run.killedPids = alive.filter((pid) => !survivors.includes(pid));
  // The service itself was still running: no mercy, as the process manager would have done.
  verdict.killed = alive.includes(watched);
}
