// #private fields (kysely, pg-boss, eventsource keep their drivers there) are invisible to code
// in the target; the inspector reads them (Runtime.getProperties' privateProperties). What it
// finds goes back into the target as edges the holder walk follows (holders.ts).
import { bestEffort } from '../core/debug.js';
import { classInstancesIn, fieldsAreSmall, privateEdgeMap } from '../in-target/holder-walk.js';
import type { CdpClient } from '../reach/cdp-client.js';
import type { RemoteObject } from '../reach/cdp-protocol.js';

/** Bounds of the #private reading: objects asked about, and how far from a root variable. */
const PRIVATE_MAX_OBJECTS = 80;
const PRIVATE_MAX_DEPTH = 8;
const PRIVATE_PUBLIC_CHILDREN = 30;

/**
 * #private fields (kysely, pg-boss, eventsource keep their driver there) are invisible to code
 * in the target; the inspector reads them. From the roots' class instances, each object's
 * private fields are read, and the objects reached through one are read in turn (their private
 * fields, and the private fields of their own public objects: a private `#props` holding
 * `{ executor }`, whose `#connectionProvider`…), level by level, bounded. The edges found go back into the target as a Map the walk follows.
 */
export async function followPrivateFields(client: CdpClient, group: string, timeoutMs: number, rootsId: string, isProxyId: string): Promise<string | undefined> {
  const instances = await client.send('Runtime.callFunctionOn', {
    functionDeclaration: `function (roots, isProxy, max) { return (${classInstancesIn.toString()})(roots, isProxy, max).map((found) => found[2]); }`, objectId: rootsId,
    arguments: [{ objectId: rootsId }, { objectId: isProxyId }, { value: PRIVATE_MAX_OBJECTS }], objectGroup: group,
  }, timeoutMs);
  const listed = instances.result.objectId ? await client.send('Runtime.getProperties', { objectId: instances.result.objectId, ownProperties: true }, timeoutMs) : undefined;
  let level: Array<{ objectId: string; viaPrivate: boolean }> = (listed?.result ?? []).flatMap((p) => (/^\d+$/.test(p.name) && p.value?.objectId ? [{ objectId: p.value.objectId, viaPrivate: false }] : []));
  const edges: Array<{ objectId: string } | { value: string }> = [];
  let asked = 0;
  for (let depth = 0; depth < PRIVATE_MAX_DEPTH && level.length > 0 && asked < PRIVATE_MAX_OBJECTS; depth++) {
    const batch = level.slice(0, PRIVATE_MAX_OBJECTS - asked);
    asked += batch.length;
    // Asked of the target first (one call for the batch): the inspector's answer carries every own value whole.
    const checked = await client.send('Runtime.callFunctionOn', {
      functionDeclaration: fieldsAreSmall.toString(), objectId: rootsId, arguments: batch.map((item) => ({ objectId: item.objectId })), returnByValue: true,
    }, timeoutMs);
    const small = Array.isArray(checked.result.value) ? checked.result.value : [];
    const answers = await Promise.all(batch.map((item, at) => (small[at] === true
      ? client.send('Runtime.getProperties', { objectId: item.objectId, ownProperties: true }, timeoutMs).catch(bestEffort('reading an object\'s fields', undefined))
      : Promise.resolve(undefined))));
    const next: typeof level = [];
    answers.forEach((answer, at) => {
      const from = batch[at]!;
      // The protocol has them (V8's privateProperties); Node's typings do not yet.
      for (const field of (answer as { privateProperties?: Array<{ name: string; value?: RemoteObject }> } | undefined)?.privateProperties ?? []) {
        const value = field.value?.objectId && field.value.type === 'object' && field.value.subtype !== 'proxy' ? field.value.objectId : undefined;
        if (!value) continue;
        edges.push({ objectId: from.objectId }, { value: field.name.slice(0, 100) }, { objectId: value });
        next.push({ objectId: value, viaPrivate: true });
      }
      if (!from.viaPrivate) return;
      let children = 0;
      for (const field of answer?.result ?? []) {
        if (children >= PRIVATE_PUBLIC_CHILDREN) break;
        const value = field.value;
        if (value?.objectId && value.type === 'object' && value.subtype === undefined) {
          // Their own public objects are the walk's to follow: only their #private fields are asked.
          next.push({ objectId: value.objectId, viaPrivate: false });
          children += 1;
        }
      }
    });
    level = next;
  }
  if (edges.length === 0) return undefined;
  const map = await client.send('Runtime.callFunctionOn', { functionDeclaration: privateEdgeMap.toString(), objectId: rootsId, arguments: edges, objectGroup: group }, timeoutMs);
  return map.result.objectId;
}
