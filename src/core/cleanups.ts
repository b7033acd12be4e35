// What we turned on inside a target must be turned off on every path, an abort (Ctrl-C, an
// AbortSignal given to the API) included. Cleanups belong to the check that registered them
// (an async scope), so that aborting one check in a process never touches another's target.
import { AsyncLocalStorage } from 'node:async_hooks';
import { bestEffort } from './debug.js';
import { AbortError } from './errors.js';

interface Scope {
  cleanups: Set<() => Promise<unknown>>;
  signal?: AbortSignal;
}

const scopes = new AsyncLocalStorage<Scope>();
/** Work started outside any scope (tests of one stage) still has its cleanups kept somewhere. */
const unscoped: Scope = { cleanups: new Set() };
const currentScope = (): Scope => scopes.getStore() ?? unscoped;

export function addCleanup(cleanup: () => Promise<unknown>): () => void {
  const { cleanups } = currentScope();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** True once the current check was aborted: nothing may be started in the target any more. */
export function isAborted(): boolean {
  return currentScope().signal?.aborted === true;
}

/** Before anything that changes a target (a signal, an inspector window): refuse once aborted. */
export function throwIfAborted(): void {
  const { signal } = currentScope();
  if (signal?.aborted) throw new AbortError(signal.reason);
}

async function runCleanups(scope: Scope): Promise<void> {
  const pending = [...scope.cleanups];
  scope.cleanups.clear();
  await Promise.all(pending.map((cleanup) => cleanup().catch(bestEffort('a cleanup on abort'))));
}

/**
 * Runs `work` as one check. When `signal` aborts, the check's cleanups run (its service killed,
 * its inspector windows closed) and the promise rejects with an AbortError once they are done;
 * whatever the work still does afterwards is refused by `throwIfAborted` and its result ignored.
 */
export function runAbortable<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  const scope: Scope = { cleanups: new Set(), signal };
  if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      void runCleanups(scope).finally(() => reject(new AbortError(signal!.reason)));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    scopes.run(scope, work).then(
      (value) => { if (!signal?.aborted) resolve(value); },
      (error: unknown) => { if (!signal?.aborted) reject(error); },
    ).finally(() => signal?.removeEventListener('abort', onAbort));
  });
}
