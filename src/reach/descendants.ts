// A process and everything it started, followed through /proc. `run` kills the whole tree
// when it is done: no orphan may outlive a CI job.
import { setTimeout as sleep } from 'node:timers/promises';
import { bestEffort } from '../core/debug.js';
import { isAlive, readChildren, readDir, readStat } from './proc.js';

/** Every live descendant of pid, parents before children. */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of readChildren(queue.shift()!)) {
      if (found.includes(child) || !isAlive(child)) continue;
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Processes still alive in the process group (a child that reparented itself to init
 *  leaves the tree, but not the group, unless it called setsid). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readDir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push(stat.pid);
  }
  return members;
}


/**
 * SIGKILL the root, its descendants and its process group, then wait until none is left.
 * Returns the pids that are still alive after `waitMs` (none, normally).
 */
export async function killTree(root: number, pgid: number | undefined, others: number[] = [], waitMs = 5000): Promise<number[]> {
  const victims = new Set([root, ...descendantsOf(root), ...(pgid ? groupMembers(pgid) : []), ...others]);
  // Children first would let a parent respawn them; stop them all, then kill them all.
  for (const pid of victims) trySignal(pid, 'SIGSTOP');
  if (pgid) trySignal(-pgid, 'SIGKILL');
  for (const pid of victims) trySignal(pid, 'SIGKILL');
  const deadline = Date.now() + waitMs;
  let alive = [...victims].filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(20);
    alive = alive.filter(isAlive);
  }
  return alive;
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') bestEffort(`sending ${signal} to pid ${pid}`)(error);
  }
}
