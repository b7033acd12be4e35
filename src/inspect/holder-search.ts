// Each library resource's holder, once the snapshot has its handles: the walk that ran with
// the listing named (holders.ts), a second walk from the closures of the app's own callbacks
// for what it did not reach, and --heap-snapshot's fallback (heap-holders.ts) for the rest.
import { formatDuration } from '../core/duration.js';
import { inLibrary } from '../core/format.js';
import { bestEffort } from '../core/debug.js';
import type { Handle, HeapSnapshotRequest } from '../core/types.js';
import { callbacksAt } from '../in-target/collect-handles.js';
import { findHolders } from '../in-target/holder-walk.js';
import type { CdpClient } from '../reach/cdp-client.js';
import { HEAP_SNAPSHOT_BUDGET_S, describeEstimate, estimateHeapSnapshot, heapSnapshotHolders } from './heap-holders.js';
import { WALK_BUDGET_MS, WALK_MAX_OBJECTS, nameHolders, prepareClosureRoots, targetSourceReader, walkArguments, type PreparedRoots } from './holders.js';
import type { LocationResolver } from './locations.js';
import { inferOwners } from './owner-inference.js';
import type { ScriptCatalog } from './script-catalog.js';

/** What the search needs of a collected resource: whether it is ref'd, and its callbacks' places. */
export interface HolderItem {
  refed: boolean;
  owners: number[];
  members: number[];
}

export interface HolderContext {
  client: CdpClient;
  /** The snapshot's object group: what is referenced here is released with the snapshot's. */
  group: string;
  timeoutMs: number;
  raw: { items: readonly HolderItem[] };
  groupsId: string | undefined;
  collectedId: string | undefined;
  /** The walk that ran with the listing, from the app modules' scopes (none: no CommonJS module to start from). */
  walk: string | undefined;
  roots: PreparedRoots | undefined;
  resolver: LocationResolver;
  pid: number;
  /** A script's URL by id (the owners' constructors are located through it). */
  urlOf: (scriptId: string) => Promise<string>;
}

/**
 * Each resource's holder from the walk that ran with the listing; then, for the library
 * resources it did not reach, a second walk from the closures of the app's own callbacks (a
 * route handler that a factory made around a client).
 */
export async function nameHoldersOf(handles: Handle[], context: HolderContext, notes: string[]): Promise<void> {
  const { client, raw, resolver } = context;
  const readSource = targetSourceReader(context.pid);
  const first = context.walk !== undefined && context.roots ? nameHolders(context.walk, context.roots.roots, resolver, readSource) : undefined;
  for (const [index, holder] of first?.holders ?? []) if (handles[index]) handles[index]!.heldBy = holder;
  const paths = new Map(first?.paths ?? []);
  let isProxyId = context.roots?.isProxyId;
  let partial = first?.partial === true;
  const unheld = raw.items.some((item, at) => item.refed && !handles[at]!.heldBy && inLibrary(handles[at]!.owner));
  const appCallbacks = raw.items.flatMap((item, at) => (handles[at]?.owner && !inLibrary(handles[at]!.owner) && item.owners.length > 0 ? [{ at, place: [item.owners[0]!, item.members[0]!] as [number, number] }] : []));
  if (unheld && appCallbacks.length > 0 && context.groupsId && context.collectedId) {
    const unique = [...new Map(appCallbacks.map((c) => [`${c.place[0]}:${c.place[1]}`, c])).values()].slice(0, MAX_CLOSURE_ROOTS);
    const picked = await client.send('Runtime.callFunctionOn', { functionDeclaration: callbacksAt.toString(), objectId: context.groupsId, arguments: [{ value: unique.map((c) => c.place) }], objectGroup: context.group }, context.timeoutMs);
    const listed = await client.send('Runtime.getProperties', { objectId: picked.result.objectId!, ownProperties: true }, context.timeoutMs);
    const functions = unique.flatMap((c, i) => {
      const objectId = listed.result.find((p) => p.name === String(i))?.value?.objectId;
      return objectId ? [{ objectId, location: handles[c.at]!.owner! }] : [];
    });
    const closures = await prepareClosureRoots(client, context.group, context.timeoutMs, functions).catch(bestEffort('opening the app callbacks\' closures', undefined));
    if (closures) {
      isProxyId ??= closures.isProxyId;
      const again = await client.send('Runtime.callFunctionOn', {
        functionDeclaration: `function (roots, isProxy, budgetMs, maxVisited, maxDepth, privateEdges) { return (${findHolders.toString()})(this.resources, roots, isProxy, budgetMs, maxVisited, maxDepth, this.pathObjects ??= [], privateEdges); }`,
        objectId: context.collectedId, arguments: walkArguments(closures), returnByValue: true,
      }, context.timeoutMs);
      const second = typeof again.result.value === 'string' ? nameHolders(again.result.value, closures.roots, resolver, readSource) : undefined;
      for (const [index, holder] of second?.holders ?? []) {
        if (!handles[index] || handles[index]!.heldBy) continue;
        handles[index]!.heldBy = holder;
        const path = second!.paths.get(index);
        if (path) paths.set(index, path);
      }
      partial ||= second?.partial === true;
    }
  }
  // RELOAD_DOCTOR_NO_INFERENCE=1: the baseline of bench/inference.bench.mjs (the walk without the owner inference).
  if (context.collectedId && isProxyId && process.env.RELOAD_DOCTOR_NO_INFERENCE !== '1') {
    await inferOwners(handles, paths, { client, group: context.group, timeoutMs: context.timeoutMs, collectedId: context.collectedId, isProxyId, urlOf: context.urlOf, resolver, roots: context.roots, readSource })
      .catch(bestEffort('reading what owns the held resources'));
  }
  if (partial) notes.push(`the search for the app variables that hold library resources stopped at its bound (${WALK_BUDGET_MS} ms or ${WALK_MAX_OBJECTS.toLocaleString('en-US')} objects): some holders may be missing`);
}

/** Library resources looked for in a heap snapshot, at most. */
const MAX_HEAP_TARGETS = 200;

export interface HeapContext {
  client: CdpClient;
  group: string;
  timeoutMs: number;
  raw: { items: readonly HolderItem[] };
  collectedId: string;
  catalog: ScriptCatalog;
  resolver: LocationResolver;
  pid: number;
  request: HeapSnapshotRequest;
}

/** --heap-snapshot: the library resources still without a holder, looked for in a heap snapshot (estimate first, budget). */
export async function heapSnapshotFallback(handles: Handle[], context: HeapContext, notes: string[]): Promise<void> {
  const { client, raw } = context;
  const indices = raw.items.flatMap((item, at) => (item.refed && handles[at] && !handles[at]!.heldBy && inLibrary(handles[at]!.owner) ? [at] : [])).slice(0, MAX_HEAP_TARGETS);
  if (indices.length === 0) {
    notes.push('--heap-snapshot: every library resource has its holder already: no snapshot taken');
    return;
  }
  const used = await client.send('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true }, context.timeoutMs);
  const estimate = estimateHeapSnapshot(Number(used.result.value) || 0);
  context.request.onEstimate?.(describeEstimate(estimate));
  if (estimate.overBudget && !context.request.force) {
    notes.push(`--heap-snapshot refused: ${describeEstimate(estimate)}, above the ${HEAP_SNAPSHOT_BUDGET_S} s budget (--force takes it anyway)`);
    return;
  }
  const picked = await client.send('Runtime.callFunctionOn', { functionDeclaration: 'function (indices) { return indices.map((i) => this.resources[i]); }', objectId: context.collectedId, arguments: [{ value: indices }], objectGroup: context.group }, context.timeoutMs);
  const listed = await client.send('Runtime.getProperties', { objectId: picked.result.objectId!, ownProperties: true }, context.timeoutMs);
  const targets = indices.flatMap((index, i) => {
    const objectId = listed.result.find((p) => p.name === String(i))?.value?.objectId;
    return objectId ? [{ index, objectId }] : [];
  });
  const { holders, pauseMs } = await heapSnapshotHolders(client, targets, context.catalog.urls, context.resolver, targetSourceReader(context.pid), estimate);
  for (const [index, holder] of holders) if (handles[index] && !handles[index]!.heldBy) handles[index]!.heldBy = holder;
  notes.push(`--heap-snapshot: the target was frozen ${formatDuration(pauseMs)} for the snapshot (estimated ${estimate.pauseS.toFixed(1)} s); ${holders.size} of ${targets.length} library resources without a holder were found`);
}

/** App callbacks whose closures a second walk starts from. */
const MAX_CLOSURE_ROOTS = 50;
