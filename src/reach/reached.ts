// A target reached: what the check needs to know of it, and the inspector session when there
// is one. Each way in (attach by pid, spawn, a worker of a master) produces one of these;
// everything after that is the same for all of them.
import { bestEffort } from '../core/debug.js';
import { ReachError } from '../core/errors.js';
import { addCleanup } from '../core/cleanups.js';
import type { Target } from '../core/types.js';
import { describeProcess } from '../in-target/process-facts.js';
import { TargetGoneError, attachInspector } from './attach.js';
import type { CdpClient } from './cdp-client.js';
import { callInTarget } from './in-target-call.js';
import { readCmdline, readLink } from './proc.js';
import type { Service } from './spawn.js';
import { checkTarget } from './target.js';

export interface Reached {
  readonly target: Target;
  /** The inspector session, when the target is a Node process we could attach to. */
  readonly client?: CdpClient;
  /** What the user should know about how it was reached (fell back to /proc, …). */
  readonly warnings: readonly string[];
  /** Closes what reaching it opened; returns a warning when something could not be put back. */
  release(): Promise<string | undefined>;
}

const nothingToRelease = async () => undefined;

/** Reached through /proc alone: no session. */
export function reachedThroughProc(target: Target, warnings: string[] = []): Reached {
  return { target, warnings, release: nothingToRelease };
}

/** `reload-doctor <pid>`: validate the pid, and open the Node inspector unless told not to. */
export async function reachPid(pid: number, useInspector: boolean): Promise<Reached> {
  const target = checkTarget(pid);
  if (target.runtime.kind !== 'node') {
    return reachedThroughProc(target, [`pid ${pid} is not a Node.js process (${target.runtime.executable ?? 'unknown executable'}): showing what /proc tells`]);
  }
  if (!useInspector) return reachedThroughProc(target);
  try {
    const session = await attachInspector(pid);
    // Nothing may throw from here on: the caller must get the session to close it.
    const about = await callInTarget(session.client, describeProcess, []).catch(bestEffort('asking the target its Node version'));
    return {
      target: { ...target, runtime: { kind: 'node', version: about?.version } },
      client: session.client,
      warnings: [],
      release: async () => (await session.release()).warning,
    };
  } catch (error) {
    if (error instanceof TargetGoneError) throw new ReachError(`pid ${pid} exited on its own while reload-doctor attached (before any signal)`, { cause: error });
    if (error instanceof ReachError) return reachedThroughProc(target, [`${error.message}; falling back to /proc`]);
    throw error;
  }
}

/**
 * Runs `work` with the session open, and closes what reaching opened on every path, Ctrl-C
 * included. Returns the work's result and the release's warning, if any.
 */
export async function withSession<T>(reached: Reached, work: () => Promise<T>): Promise<{ value: T; releaseWarning?: string }> {
  let released: Promise<string | undefined> | undefined;
  const release = () => (released ??= reached.release());
  const unregister = addCleanup(release);
  try {
    const value = await work();
    return { value, releaseWarning: await release() };
  } finally {
    unregister();
    await release();
  }
}

/** `reload-doctor run`: the service we started, through its own Node process when it has one. */
export async function reachService(service: Service, command: string[]): Promise<Reached> {
  const app = service.app();
  const warnings = [...service.warnings];
  if (!app) {
    const target: Target = { pid: service.pid, runtime: { kind: 'other', executable: readLink(`/proc/${service.pid}/exe`) }, command: command.join(' '), reachedBy: 'spawn' };
    return reachedThroughProc(target, warnings);
  }
  const about = await callInTarget(app.client, describeProcess, []).catch(bestEffort('asking the service its Node version'));
  const own = readCmdline(app.pid).filter((word) => !word.startsWith('--inspect-brk='));
  const target: Target = { pid: app.pid, runtime: { kind: 'node', version: about?.version }, command: own.join(' ') || command.join(' '), reachedBy: 'spawn' };
  // The service owns its sessions: they close when it is killed.
  return { target, client: app.client, warnings, release: nothingToRelease };
}
