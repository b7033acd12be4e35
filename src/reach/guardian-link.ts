// reload-doctor's side of the guardian (src/guardian.ts): started before the first SIGUSR1,
// told what is open in the target as it changes, and told "done" once everything is put back.
// If reload-doctor dies, the guardian sees its stdin close and cleans up behind it.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { bestEffort } from '../core/debug.js';
import type { Target } from '../core/types.js';
import { readStat } from './proc.js';

/** What may be open in the target: the guardian closes it if reload-doctor cannot. */
export interface GuardianState {
  phase: 'idle' | 'opening' | 'open' | 'pending';
  /** The inspector's port, when known (open; or the debug port a first SIGUSR1 binds). */
  port?: number;
  /** Listening socket inodes of the target before SIGUSR1: the inspector is a new one. */
  before?: number[];
}

const GUARDIAN = fileURLToPath(new URL('../guardian.js', import.meta.url));

export interface GuardianLink {
  /** The guardian's pid, or undefined if it could not start (then nothing guards: said once). */
  readonly pid?: number;
  report(state: GuardianState): void;
  /** Everything is put back: the guardian exits. */
  done(): void;
  /** reload-doctor leaves with something still pending: the guardian stays to close it. */
  handOver(): void;
}

/**
 * Starts the guardian. Not waited for: once spawn() returns the process exists, and what we
 * write before it reads is kept in the pipe, so it guards from this moment on.
 */
export function startGuardian(target: Target): GuardianLink {
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [GUARDIAN], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  } catch (error) {
    return unguarded(error);
  }
  child.once('error', bestEffort('starting the guardian'));
  // It must never keep reload-doctor alive.
  child.unref();
  (child.stdin as Socket | null)?.unref();
  child.stdin?.on('error', bestEffort('telling the guardian'));
  const send = (message: object) => {
    if (child.stdin?.writable) child.stdin.write(`${JSON.stringify(message)}\n`);
  };
  send({ setup: { target, startTicks: readStat(target.pid)?.startTicks } });
  return {
    pid: child.pid,
    report: (state) => send({ state }),
    done() {
      send({ done: true });
      child.stdin?.end();
    },
    handOver() {
      child.stdin?.end();
    },
  };
}

function unguarded(error: unknown): GuardianLink {
  bestEffort('starting the guardian')(error);
  return { report() {}, done() {}, handOver() {} };
}
