// Reading a function's closure through the inspector: [[Scopes]] shows the variables of each
// enclosing scope. This is how Node's private timer and promise-hook lists are reached.
import type { CdpClient } from '../reach/cdp-client.js';
import type { RemoteObject } from '../reach/cdp-protocol.js';

/** The variables of each scope around the function (the global scope left out), innermost first. */
export async function closureVariables(client: CdpClient, functionId: string | undefined, timeoutMs: number): Promise<Array<Map<string, RemoteObject>>> {
  if (!functionId) return [];
  const props = await client.send('Runtime.getProperties', { objectId: functionId, ownProperties: true }, timeoutMs);
  const scopes = props.internalProperties?.find((p) => p.name === '[[Scopes]]')?.value?.objectId;
  if (!scopes) return [];
  const scopeList = await client.send('Runtime.getProperties', { objectId: scopes, ownProperties: true }, timeoutMs);
  const found: Array<Map<string, RemoteObject>> = [];
  for (const scope of scopeList.result ?? []) {
    if (!scope.value?.objectId || scope.value.description === 'Global') continue;
    const vars = await client.send('Runtime.getProperties', { objectId: scope.value.objectId, ownProperties: true }, timeoutMs);
    found.push(new Map((vars.result ?? []).flatMap((v) => (v.value ? [[v.name, v.value] as const] : []))));
  }
  return found;
}

/** The internal properties of an object ([[FunctionLocation]], [[TargetFunction]], …) by name. */
export async function internalProperties(client: CdpClient, objectId: string, timeoutMs: number): Promise<Map<string, RemoteObject>> {
  const props = await client.send('Runtime.getProperties', { objectId, ownProperties: true }, timeoutMs);
  return new Map((props.internalProperties ?? []).flatMap((p) => (p.value ? [[p.name, p.value] as const] : [])));
}
