// async_hooks switches V8's promise hooks on for every hook with an `init` callback. They are
// what makes an async_hooks hook expensive on promise-heavy code (before/after on every
// await), and the creation-stack hook does not need them: without them, a promise
// continuation simply counts as part of the callback that ran it.
//
// Node keeps those promise hooks in lists private to lib/internal/promise_hooks.js; the
// public v8.promiseHooks.onInit closes over them, so the inspector can reach them through
// its [[Scopes]]. We empty the lists only when ours is the only async hook (so no
// AsyncLocalStorage or APM agent depends on them yet). Any hook the app enables later makes
// async_hooks register its promise hooks again, so nothing the app does is affected.
// Guarded throughout: this is Node internals, and on any surprise we leave things as they are.
import { promiseHooksEntryPoint } from '../in-target/process-facts.js';
import { emptyPromiseHookLists } from '../in-target/promise-hook-lists.js';
import { bestEffort } from '../core/debug.js';
import type { CdpClient } from '../reach/cdp-client.js';
import { referenceInTarget } from '../reach/in-target-call.js';
import { closureVariables } from './scopes.js';

const GROUP = 'reload-doctor-promise-hooks';
const TIMEOUT_MS = 3000;

export async function dropPromiseHooks(client: CdpClient): Promise<string> {
  try {
    const onInit = await referenceInTarget(client, promiseHooksEntryPoint, [], GROUP, TIMEOUT_MS);
    for (const variables of await closureVariables(client, onInit.objectId, TIMEOUT_MS)) {
      const hooks = variables.get('hooks')?.objectId;
      const update = variables.get('update')?.objectId;
      if (!hooks || !update) continue;
      const call = await client.send('Runtime.callFunctionOn', {
        functionDeclaration: emptyPromiseHookLists.toString(), objectId: hooks,
        arguments: [{ objectId: hooks }, { objectId: update }], returnByValue: true,
      }, TIMEOUT_MS);
      return call.exceptionDetails ? 'failed' : String(call.result.value);
    }
    return 'lists not found';
  } finally {
    await client.send('Runtime.releaseObjectGroup', { objectGroup: GROUP }, TIMEOUT_MS).catch(bestEffort('releasing the promise-hook references'));
  }
}
