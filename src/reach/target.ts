// Turn the user's pid into a validated Target, or a one-line error.
import { basename } from 'node:path';
import { ReachError, UsageError } from '../core/errors.js';
import { readCmdline, readLink, readStat } from './proc.js';
import type { Target } from '../core/types.js';

export function parsePid(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`"${text}" is not a process id (a positive whole number)`);
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid < 1) throw new UsageError(`"${text}" is not a process id (a positive whole number)`);
  return pid;
}

/** node, nodejs, node20, node-20.1…: the basename of a Node executable. */
export function isNodeExecutable(path: string | undefined): boolean {
  return path !== undefined && (path === process.execPath || /^node(js)?[\d.]*$/.test(basename(path)));
}

export function checkTarget(pid: number): Target {
  if (pid === 1) throw new UsageError('refusing pid 1: signalling init would act on the whole system or container');
  if (pid === process.pid) throw new UsageError(`pid ${pid} is reload-doctor itself`);
  const stat = readStat(pid);
  if (!stat) throw new UsageError(`no process with pid ${pid}`);
  if (stat.state === 'Z') throw new UsageError(`pid ${pid} is a zombie: it has already exited and waits for its parent (pid ${stat.ppid}) to reap it`);
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new UsageError(`no process with pid ${pid}`);
    throw new ReachError(`not permitted to signal pid ${pid} (${code}): run reload-doctor as the same user as the target, or as root`, { cause: error });
  }
  const argv = readCmdline(pid);
  const executable = readLink(`/proc/${pid}/exe`);
  const isNode = isNodeExecutable(executable) || isNodeExecutable(argv[0]);
  return {
    pid,
    runtime: isNode ? { kind: 'node' } : { kind: 'other', executable: executable ?? argv[0] },
    command: argv.join(' ') || stat.comm,
    cwd: readLink(`/proc/${pid}/cwd`),
    reachedBy: 'attach',
  };
}
