// Shutdown helpers (close-with-grace, @godaddy/terminus) arm their own safety timer when the
// signal comes: if the app's close function does not finish in time, they force the exit.
// That timer is the app's own deadline, not a culprit: the culprits are what the close
// function left open (listed apart), and the timer says when the process will be ended.
// close-with-grace arms it with a promisified setTimeout, whose callback (a promise's resolve)
// has no source: without creation stacks it is recognised as the ownerless one-shot timer
// armed when the signal came (its elapsed time, delay − dueIn, is the time since the signal).
import { formatDuration } from '../../core/duration.js';
import type { Handle, Snapshot } from '../../core/types.js';
import { libraryRule, timers } from './library.js';

const delay = (handles: Handle[]) => Math.max(0, ...timers(handles).map((t) => Number(t.details.delay ?? 0)));
const dueIn = (handles: Handle[]) => Math.max(0, ...timers(handles).map((t) => Number(t.details.dueIn ?? t.details.delay ?? 0)));

/** How far from the signal an ownerless timer may have been armed to count as the helper's. */
const ARMED_AT_SIGNAL_MS = 1000;

function armedAtTheSignal(handles: Handle[], snapshot: Snapshot): Handle[] {
  return timers(handles).filter((timer) => !timer.owner && !timer.createdAt && !timer.details.repeat
    && typeof timer.details.delay === 'number' && typeof timer.details.dueIn === 'number'
    && Math.abs(timer.details.delay - timer.details.dueIn - snapshot.takenAtMs) < ARMED_AT_SIGNAL_MS);
}

export const shutdownHelpersRule = libraryRule({
  id: 'shutdown-helper',
  name: 'shutdown helper',
  packages: ['close-with-grace', '@godaddy/terminus', 'lightship'],
  problem: (handles) => `it will force the exit ${formatDuration(delay(handles))} after the signal`,
  why: (handles) => `the helper armed its own deadline when the signal came (your shutdown code's safety net, not a leak): it ends the process in about ${formatDuration(dueIn(handles))}, because the close function it runs has not finished — look at what else is listed, that is what it waits for`,
  fix: () => 'make the close function finish (close every server and client it opens, and resolve); if the wait is intended, set the process manager\'s mercy above the helper\'s delay',
  severity: () => 'warning',
  alsoClaims: armedAtTheSignal,
});
