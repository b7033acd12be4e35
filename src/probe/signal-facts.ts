// Before the signal: does the process handle it? A Node process answers through its listener
// count (Node itself catches SIGTERM and SIGINT for every process, so /proc cannot tell);
// any other process through the signal's disposition in /proc.
import { bestEffort } from '../core/debug.js';
import type { Target } from '../core/types.js';
import { signalListenerCount } from '../in-target/process-facts.js';
import type { CdpClient } from '../reach/cdp-client.js';
import { callInTarget } from '../reach/in-target-call.js';
import { signalDisposition } from '../reach/proc.js';
import type { SignalChoice } from './signals.js';
import type { Disposition } from './verdict.js';

const CALL_TIMEOUT_MS = 3000;

/** Whether a Node target has a JS listener for the signal; undefined when it cannot be asked. */
export async function listensFor(client: CdpClient | undefined, signal: SignalChoice): Promise<boolean | undefined> {
  if (!client) return undefined;
  return callInTarget(client, signalListenerCount, [signal.name], CALL_TIMEOUT_MS)
    .then((count) => count > 0, bestEffort<boolean | undefined>(`asking for ${signal.name} listeners`));
}

/** What a non-Node target does with the signal, from /proc/<pid>/status. */
export function dispositionOf(target: Target, signal: SignalChoice): Disposition | undefined {
  return target.runtime.kind === 'other' ? signalDisposition(target.pid, signal.number) : undefined;
}
