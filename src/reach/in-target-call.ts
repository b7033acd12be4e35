// The one way code crosses into a target: a function from src/in-target/, sent as its own
// source text with its arguments as JSON literals. The function's signature types the call.
// Evaluated with the console's command-line API, so that on Node 18 (no
// process.getBuiltinModule) the function finds `require` for the builtins it needs.
import type { CdpClient } from './cdp-client.js';
import type { RemoteObject } from './cdp-protocol.js';

/** The function threw inside the target. */
export class InTargetError extends Error {
  override readonly name = 'InTargetError';
}

const DEFAULT_TIMEOUT_MS = 3000;

function expressionFor<A extends unknown[]>(fn: (...args: A) => unknown, args: A): string {
  const literals = args.map((arg) => (arg === undefined ? 'undefined' : JSON.stringify(arg)));
  return `(${fn.toString()})(${literals.join(', ')})`;
}

/** Calls `fn(...args)` inside the target and returns its result by value (JSON). */
export async function callInTarget<A extends unknown[], R>(
  client: CdpClient, fn: (...args: A) => R, args: A, timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<R> {
  const reply = await client.send('Runtime.evaluate', { expression: expressionFor(fn, args), returnByValue: true, includeCommandLineAPI: true }, timeoutMs);
  if (reply.exceptionDetails) throw new InTargetError(`${fn.name} threw in the target: ${reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text}`);
  return reply.result.value as R;
}

/** Calls `fn(...args)` inside the target and keeps its result there, in `objectGroup`. */
export async function referenceInTarget<A extends unknown[]>(
  client: CdpClient, fn: (...args: A) => unknown, args: A, objectGroup: string, timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<RemoteObject> {
  const reply = await client.send('Runtime.evaluate', { expression: expressionFor(fn, args), objectGroup, includeCommandLineAPI: true }, timeoutMs);
  if (reply.exceptionDetails) throw new InTargetError(`${fn.name} threw in the target: ${reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text}`);
  return reply.result;
}
