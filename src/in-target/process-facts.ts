// Small questions asked INSIDE a Node target, each one Runtime.evaluate of its source text.
// Self-contained, like everything in this folder; their arguments are passed in as JSON.

/* eslint-disable */
declare const require: (id: string) => any;

/**
 * What the target says of itself, asked before anything that changes it: its pid (inside its
 * own pid namespace) proves the session reached the process we meant; Deno and Bun answer
 * with a Node version too, so they are told apart here.
 */
export function describeProcess(): { pid: number; version: string; runtime: 'node' | 'deno' | 'bun' } {
  const runtime = typeof (globalThis as any).Deno !== 'undefined' ? 'deno' : typeof (globalThis as any).Bun !== 'undefined' ? 'bun' : 'node';
  return { pid: process.pid, version: process.version, runtime };
}

/** How many JS listeners the signal has (none: Node's default action kills the process). */
export function signalListenerCount(signal: string): number {
  return process.listenerCount(signal as NodeJS.Signals);
}

/** setTimeout itself: its [[Scopes]] hold Node's timer lists (lib/timers.js). */
export function timersEntryPoint(): Function {
  return setTimeout;
}

/** The target's global object: an anchor for Runtime.callFunctionOn. */
export function globalObject(): object {
  return globalThis;
}
