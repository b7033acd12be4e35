// The first SIGUSR1 a Node process gets opens its inspector on its debug port: 9229 unless it
// was started otherwise. Two probes doing that at once in one network namespace would clash
// (the second target logs "address already in use" and opens nothing). So that first opening
// is taken one at a time, per network namespace, under a lock file; every later opening of
// the same target uses an ephemeral port (see in-target/inspector-window.ts) and needs none.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bestEffort } from '../core/debug.js';
import { namespaceOf, readStat } from './proc.js';

const WAIT_MS = 20_000;

export interface PortLock {
  /** The lock could not be had in time (a stuck holder): the opening went ahead without it. */
  contended: boolean;
  release(): void;
}

export async function lockDefaultPort(pid: number): Promise<PortLock> {
  const netns = /\[(\d+)\]/.exec(namespaceOf(pid, 'net') ?? '')?.[1] ?? 'unknown';
  const path = join(tmpdir(), `reload-doctor-inspector-${netns}.lock`);
  const me = `${process.pid} ${readStat(process.pid)?.startTicks ?? 0}`;
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, me);
      closeSync(fd);
      return { contended: false, release: () => releaseIfOurs(path, me) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return { contended: true, release() {} };
      if (holderIsGone(path)) {
        try { unlinkSync(path); } catch (unlinkError) { bestEffort(`removing the stale lock ${path}`)(unlinkError); }
        continue;
      }
      await sleep(25);
    }
  }
  return { contended: true, release() {} };
}

/** The holder (pid + start time, so a reused pid does not count) no longer runs. */
function holderIsGone(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false; // just released, or being written: look again
  }
  const [pid, startTicks] = text.split(' ').map(Number);
  if (!pid) return false;
  const stat = readStat(pid);
  return stat === undefined || stat.startTicks !== startTicks;
}

function releaseIfOurs(path: string, me: string): void {
  try {
    if (readFileSync(path, 'utf8') === me) unlinkSync(path);
  } catch (error) {
    bestEffort(`releasing the lock ${path}`)(error);
  }
}
