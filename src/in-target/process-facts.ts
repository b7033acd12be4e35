// Small questions asked INSIDE a Node target, each one Runtime.evaluate of its source text.
// Self-contained, like everything in this folder; their arguments are passed in as JSON.

/* eslint-disable */

/** What the target says of itself. */
export function describeProcess(): { version: string } {
  return { version: process.version };
}

/** How many JS listeners the signal has (none: Node's default action kills the process). */
export function signalListenerCount(signal: string): number {
  return process.listenerCount(signal as NodeJS.Signals);
}

/** Closes the inspector the target runs: our session's socket drops within a few ms. */
export function closeInspector(): void {
  (process as any).getBuiltinModule('inspector').close();
}

/** setTimeout itself: its [[Scopes]] hold Node's timer lists (lib/timers.js). */
export function timersEntryPoint(): Function {
  return setTimeout;
}

/** v8.promiseHooks.onInit: its [[Scopes]] hold Node's promise-hook lists. */
export function promiseHooksEntryPoint(): Function {
  return (process as any).getBuiltinModule('v8').promiseHooks.onInit;
}

/** The target's global object: an anchor for Runtime.callFunctionOn. */
export function globalObject(): object {
  return globalThis;
}
