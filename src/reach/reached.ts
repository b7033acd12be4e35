// A target reached: what the check needs to know of it, and access to its inspector when it is
// a Node process we may open. Each way in (attach by pid, spawn, a worker of a master)
// produces one of these; everything after that is the same for all of them.
import { setTimeout as sleep } from 'node:timers/promises';
import { addCleanup } from '../core/cleanups.js';
import { ReachError } from '../core/errors.js';
import type { Target } from '../core/types.js';
import { describeProcess } from '../in-target/process-facts.js';
import { callInTarget } from './in-target-call.js';
import { TargetGoneError, inspectorAccess, type InspectorAccess } from './inspector-access.js';
import { readCmdline, readExecutable } from './proc.js';
import type { Service } from './spawn.js';
import { describeRuntime, withoutRunFlags } from '../core/format.js';
import { checkTarget, runtimeOf } from './target.js';

export interface Reached {
  readonly target: Target;
  /** Windows onto the Node inspector, when the target is a Node process we may open. */
  readonly inspector?: InspectorAccess;
  /** What the user should know about how it was reached (fell back to /proc, …). */
  readonly warnings: readonly string[];
  /** Closes what reaching it opened; returns what could not be put back. */
  release(): Promise<string[]>;
}

/** Reached through /proc alone: no inspector. */
export function reachedThroughProc(target: Target, warnings: string[] = []): Reached {
  return { target, warnings, release: async () => [] };
}

function withInspector(target: Target, inspector: InspectorAccess, warnings: string[]): Reached {
  return { target, inspector, warnings, release: () => inspector.close(true) };
}

export interface PidOptions {
  useInspector: boolean;
  /** Its SIGUSR1 opens the inspector on an ephemeral port (a process `run` started: its preload set debugPort 0). */
  ephemeral?: boolean;
  /** How long the first window may be followed by silence before the target puts things back itself. */
  idleMs: number;
}

/**
 * `reload-doctor <pid>`: validate the pid, and unless told not to, open a first window onto
 * its inspector (left open: the caller asks what it needs, then closes it).
 */
export async function reachPid(pid: number, options: PidOptions): Promise<Reached> {
  const target = checkTarget(pid);
  if (target.runtime.kind !== 'node') {
    const what = target.runtime.name ? `${target.runtime.name} (${target.runtime.executable})` : `not a Node.js process (${target.runtime.executable ?? 'unknown executable'})`;
    return reachedThroughProc(target, [`pid ${pid} is ${what}: showing what /proc tells`]);
  }
  if (!options.useInspector) return reachedThroughProc(target);
  return openFirstWindow(target, inspectorAccess(target, { idleMs: options.idleMs, ephemeral: options.ephemeral }));
}

/** The first window: who the target is (its Node version), left open for the caller's questions. */
async function openFirstWindow(target: Target, inspector: InspectorAccess, warnings: string[] = []): Promise<Reached> {
  try {
    const client = await inspector.open();
    // Nothing may throw from here on: the caller must get the access to close the window.
    const about = await callInTarget(client, describeProcess, []).catch(() => undefined);
    return withInspector({ ...target, runtime: { kind: 'node', version: about?.version } }, inspector, warnings);
  } catch (error) {
    // Done with the inspector: the guardian goes, or stays for a SIGUSR1 the target has not served.
    const leftover = await inspector.close(true);
    if (error instanceof TargetGoneError) throw new ReachError(`pid ${target.pid} exited on its own while reload-doctor attached (before any signal)`, { cause: error });
    if (error instanceof ReachError) return reachedThroughProc(target, [...warnings, `${error.message}; falling back to /proc`, ...leftover]);
    throw error;
  }
}

/**
 * Runs `work`, and closes what reaching opened on every path, Ctrl-C included. Returns the
 * work's result and what the release could not put back.
 */
export async function withSession<T>(reached: Reached, work: () => Promise<T>): Promise<{ value: T; releaseWarnings: string[] }> {
  let released: Promise<string[]> | undefined;
  const release = () => (released ??= reached.release());
  const unregister = addCleanup(release);
  try {
    const value = await work();
    return { value, releaseWarnings: await release() };
  } finally {
    unregister();
    await release();
  }
}

/** How long the service's app may take to reach its first line after `run` counts it ready. */
const APP_START_WAIT_MS = 5000;

/** `reload-doctor run`: the service we started, through its own Node process when it has one. */
export async function reachService(service: Service, command: string[], idleMs: number): Promise<Reached> {
  let app = service.app();
  // A Node service reports itself before its first line: never signal one that has not run it.
  const waitFrom = Date.now();
  for (const until = waitFrom + APP_START_WAIT_MS; !app && isNodeService(service) && Date.now() < until && !service.hasExited;) {
    await sleep(20);
    app = service.app();
  }
  const warnings = service.warnings();
  if (app && Date.now() - waitFrom > 20) {
    warnings.push(`the service counted as ready before its Node process had run its first line: reload-doctor waited ${Date.now() - waitFrom} ms for it before going on`);
  }
  if (!app) {
    const executable = readExecutable(service.pid);
    const runtime = runtimeOf(executable);
    const target: Target = { pid: service.pid, runtime: runtime.kind === 'node' ? { kind: 'other', executable } : runtime, command: command.join(' '), reachedBy: 'spawn' };
    if (runtime.kind === 'node') warnings.push('the service\'s Node process never started its first line: showing what /proc tells');
    else if (runtime.name) warnings.push(`the service is ${describeRuntime(runtime)}: showing what /proc tells`);
    return reachedThroughProc(target, warnings);
  }
  const appCommand = withoutRunFlags(readCmdline(app.pid)).join(' ');
  const appRuntime = runtimeOf(readExecutable(app.pid));
  if (appRuntime.kind !== 'node') {
    // Deno and Bun load Node's --require too: by their executable they are what they are.
    return reachedThroughProc({ pid: app.pid, runtime: appRuntime, command: appCommand, reachedBy: 'spawn' }, [...warnings, `the service is ${describeRuntime(appRuntime)}: showing what /proc tells`]);
  }
  const target: Target = { pid: app.pid, runtime: { kind: 'node' }, command: appCommand, reachedBy: 'spawn' };
  // The preload set process.debugPort = 0: every window opens on an ephemeral port.
  return openFirstWindow(target, inspectorAccess(target, { idleMs, ephemeral: true }), warnings);
}

/** The service or one of its processes runs a Node executable (so its app will report itself). */
function isNodeService(service: Service): boolean {
  return service.nodeProcesses().length > 0 || runtimeOf(readExecutable(service.pid)).kind === 'node';
}
