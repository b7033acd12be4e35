// The pools that reap their own idle connections (tarn, sequelize-pool): found in the heap by
// their class (Runtime.queryObjects), then read field by field. queryObjects walks the heap,
// so it runs only when such a pool's package is loaded.
import { bestEffort } from '../core/debug.js';
import type { PackageRef, PoolState } from '../core/types.js';
import { describePools, POOL_FILES, poolPrototypes } from '../in-target/pool-states.js';
import type { CdpClient } from '../reach/cdp-client.js';
import { referenceInTarget } from '../reach/in-target-call.js';

export async function readPoolStates(client: CdpClient, loaded: PackageRef[], group: string, timeoutMs: number): Promise<PoolState[]> {
  const wanted = Object.fromEntries(Object.entries(POOL_FILES).filter(([name]) => loaded.some((p) => p.name === name)));
  if (Object.keys(wanted).length === 0) return [];
  try {
    const found = await referenceInTarget(client, poolPrototypes, [wanted], group, timeoutMs);
    const fields = await client.send('Runtime.getProperties', { objectId: found.objectId!, ownProperties: true }, timeoutMs);
    const prototypes = fields.result.find((p) => p.name === 'prototypes')?.value?.objectId;
    const packages = await client.send('Runtime.callFunctionOn', { functionDeclaration: 'function () { return this.packages; }', objectId: found.objectId!, returnByValue: true }, timeoutMs);
    const names = (packages.result.value ?? []) as string[];
    if (!prototypes || names.length === 0) return [];
    const list = await client.send('Runtime.getProperties', { objectId: prototypes, ownProperties: true }, timeoutMs);
    const states: PoolState[] = [];
    for (const entry of list.result) {
      if (!/^\d+$/.test(entry.name) || !entry.value?.objectId) continue;
      const instances = await client.send('Runtime.queryObjects', { prototypeObjectId: entry.value.objectId }, timeoutMs);
      const described = await client.send('Runtime.callFunctionOn', {
        functionDeclaration: describePools.toString(),
        objectId: instances.objects.objectId!,
        arguments: [{ objectId: instances.objects.objectId! }, { value: names[Number(entry.name)] }],
        returnByValue: true,
      }, timeoutMs);
      // queryObjects takes no object group on every Node: release the list by hand.
      await client.send('Runtime.releaseObject', { objectId: instances.objects.objectId! }, timeoutMs).catch(bestEffort('releasing the pool list'));
      if (!described.exceptionDetails) states.push(...(JSON.parse(String(described.result.value)) as PoolState[]));
    }
    return states;
  } catch (error) {
    bestEffort('reading the connection pools')(error);
    return [];
  }
}
