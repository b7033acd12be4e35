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
import type { CdpClient } from '../reach/cdp-client.js';

const GROUP = 'reload-doctor-promise-hooks';
const TIMEOUT_MS = 3000;

/* eslint-disable */
function emptyPromiseHookLists(this: unknown, hooks: any, update: any): string {
  const lists = ['init', 'before', 'after', 'settled'].map((name) => hooks?.[name]);
  if (typeof update !== 'function' || lists.some((list) => !Array.isArray(list))) return 'unexpected shape';
  // Exactly the set async_hooks registers for one hook: init, before, after (settled only with promiseResolve).
  if (lists[0].length !== 1 || lists[1].length !== 1 || lists[2].length !== 1 || lists[3].length > 1) return 'other promise hooks present';
  for (const list of lists) list.length = 0;
  update();
  return 'dropped';
}

export async function dropPromiseHooks(client: CdpClient): Promise<string> {
  try {
    const onInit = await client.send('Runtime.evaluate', { expression: "process.getBuiltinModule('v8').promiseHooks.onInit", objectGroup: GROUP }, TIMEOUT_MS);
    const props = await client.send('Runtime.getProperties', { objectId: onInit.result.objectId, ownProperties: true }, TIMEOUT_MS);
    const scopes = props.internalProperties?.find((p: any) => p.name === '[[Scopes]]')?.value?.objectId;
    if (!scopes) return 'no scopes';
    const scopeList = await client.send('Runtime.getProperties', { objectId: scopes, ownProperties: true }, TIMEOUT_MS);
    for (const scope of scopeList.result ?? []) {
      if (!scope.value?.objectId) continue;
      const vars = await client.send('Runtime.getProperties', { objectId: scope.value.objectId, ownProperties: true }, TIMEOUT_MS);
      const byName = new Map<string, any>((vars.result ?? []).map((v: any) => [v.name, v.value]));
      const hooks = byName.get('hooks')?.objectId;
      const update = byName.get('update')?.objectId;
      if (!hooks || !update) continue;
      const call = await client.send('Runtime.callFunctionOn', {
        functionDeclaration: emptyPromiseHookLists.toString(), objectId: hooks,
        arguments: [{ objectId: hooks }, { objectId: update }], returnByValue: true,
      }, TIMEOUT_MS);
      return call.exceptionDetails ? 'failed' : String(call.result.value);
    }
    return 'lists not found';
  } finally {
    await client.send('Runtime.releaseObjectGroup', { objectGroup: GROUP }, TIMEOUT_MS).catch(() => {});
  }
}
