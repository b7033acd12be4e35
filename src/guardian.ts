#!/usr/bin/env node
// The guardian: a small process reload-doctor starts (in its own session, so a Ctrl-C or a
// kill of reload-doctor's process group does not reach it) before it first sends SIGUSR1 to a
// target. It learns over stdin what reload-doctor has open in the target. If reload-doctor
// goes away (SIGKILL, a crash) while an inspector it opened may be open, or leaves with a
// SIGUSR1 the target has not served yet (its main thread was blocked), the guardian waits for
// that inspector and closes it, then exits. Told "done", it exits at once.
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Target } from './core/types.js';
import type { GuardianState } from './reach/guardian-link.js';
import { readStat } from './reach/proc.js';

/** How long to wait for an inspector that has not opened yet (a blocked main thread). */
const PENDING_WAIT_MS = 10 * 60_000;

interface Setup { target: Target; startTicks: number }

let setup: Setup | undefined;
let state: GuardianState = { phase: 'idle' };
let done = false;

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  try {
    const message = JSON.parse(line) as { setup?: Setup; state?: GuardianState; done?: boolean };
    if (message.setup) setup = message.setup;
    if (message.state) state = message.state;
    if (message.done) done = true;
  } catch {
    // not ours: ignore
  }
});
lines.on('close', () => void guard());

async function guard(): Promise<void> {
  if (done || !setup || state.phase === 'idle') process.exit(0);
  const { target, startTicks } = setup;
  const sameProcess = () => readStat(target.pid)?.startTicks === startTicks;
  // An open window closes at once; a SIGUSR1 not served yet may take as long as the call that blocks the target.
  const deadline = Date.now() + (state.phase === 'open' ? 5000 : PENDING_WAIT_MS);
  // Loaded only now: the guardian must be up (and cheap) before reload-doctor's first SIGUSR1.
  const { closeInspectorWeOpened } = await import('./reach/inspector-access.js');
  while (Date.now() < deadline && sameProcess()) {
    if (await closeInspectorWeOpened(target, state).catch(() => false)) break;
    await sleep(100);
  }
  process.exit(0);
}
