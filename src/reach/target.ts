// Turn the user's pid into a validated Target, or a one-line error. What a process is comes
// from its executable (/proc/<pid>/exe), never from argv[0], which any process may set.
import { basename } from 'node:path';
import { ReachError, UsageError } from '../core/errors.js';
import type { Target } from '../core/types.js';
import { isStopped, readChildren, readCmdline, readExecutable, readLink, readNsPids, readStat } from './proc.js';

/** node, nodejs, node20, node-20.1…: the basename of a Node executable. */
export function isNodeExecutable(path: string | undefined): boolean {
  return path !== undefined && (path === process.execPath || /^node(js)?[\d.-]*$/.test(basename(path)));
}

/** JavaScript runtimes that are not Node: they answer as Node in places, but are read through /proc. */
const OTHER_RUNTIMES: Array<[RegExp, string]> = [[/^deno$/, 'Deno'], [/^bun(-profile)?$/, 'Bun']];

export function runtimeOf(executable: string | undefined): Target['runtime'] {
  if (isNodeExecutable(executable)) return { kind: 'node' };
  const name = OTHER_RUNTIMES.find(([pattern]) => pattern.test(basename(executable ?? '')))?.[1];
  return { kind: 'other', executable, name };
}

export function checkTarget(pid: number): Target {
  if (pid === process.pid) throw new UsageError(`pid ${pid} is reload-doctor itself`);
  const stat = readStat(pid);
  if (!stat) throw new UsageError(`no process with pid ${pid}`);
  if (stat.state === 'Z') throw new UsageError(`pid ${pid} is a zombie: it has already exited and waits for its parent (pid ${stat.ppid}) to reap it`);
  const executable = readExecutable(pid);
  const runtime = runtimeOf(executable);
  if (pid === 1) refuseInit(executable, runtime);
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new UsageError(`no process with pid ${pid}`);
    throw new ReachError(`not permitted to signal pid ${pid} (${code}): run reload-doctor as the same user as the target, or as root`, { cause: error });
  }
  const nsPids = readNsPids(pid);
  const nsPid = nsPids.length > 1 ? nsPids[nsPids.length - 1] : undefined;
  return {
    pid,
    ...(nsPid !== undefined && nsPid !== pid ? { nsPid } : {}),
    runtime,
    command: readCmdline(pid).join(' ') || stat.comm,
    cwd: readLink(`/proc/${pid}/cwd`),
    reachedBy: 'attach',
  };
}

/**
 * Pid 1 of our namespace: the app itself in a container (a Node process, or one that started
 * nothing: allowed), or an init system, a shell or a supervisor that started the app (refused:
 * signalling it acts on everything it started; name the app instead).
 */
function refuseInit(executable: string | undefined, runtime: Target['runtime']): void {
  const name = basename(executable ?? readStat(1)?.comm ?? 'init');
  const children = readChildren(1);
  if (runtime.kind === 'node' || children.length === 0) return;
  const apps = children.slice(0, 3).map((child) => `pid ${child} (${readCmdline(child).join(' ').slice(0, 60)})`);
  throw new UsageError(`refusing pid 1: it is ${name}, the init process of this ${children.length > 20 ? 'system' : 'container'}; signalling it acts on everything it started${apps.length > 0 ? `. Probe the app itself: ${apps.join(', ')}` : ''}`);
}

/** A stopped process (SIGSTOP, a debugger) cannot handle a signal until it is continued: send it none. */
export function refuseIfStopped(pid: number): void {
  if (isStopped(pid)) {
    throw new ReachError(`pid ${pid} is stopped (state ${readStat(pid)?.state}: SIGSTOP, or a debugger holds it): it cannot handle a signal until it is continued (kill -CONT ${pid}), so reload-doctor sends it nothing`);
  }
}
