// --heap-snapshot: the explicit fallback for holders the walk cannot see (WeakMap values, and
// #private fields past the bound of the inspector's own reading, private-fields.ts): a V8 heap
// snapshot of the target, searched backwards from each library resource to the nearest app
// variable (a closure context's slot whose function is the app's).
// It freezes the target for seconds and costs memory (../shared/DESIGN.md: ~7 s at 66 MB of
// heap, ~90 s at 540 MB, RSS up to ~10x the heap), so it is never the default: the estimate is
// said first, and above the budget it is refused unless forced.
import { performance } from 'node:perf_hooks';
import { bestEffort } from '../core/debug.js';
import type { Holder } from '../core/types.js';
import type { CdpClient } from '../reach/cdp-client.js';
import { declaringLine, describePath } from './holders.js';
import type { LocationResolver } from './locations.js';

/** Seconds of freeze per MB of heap, and memory per MB of heap, from the measurements above. */
const PAUSE_S_PER_MB = 0.1;
const MEMORY_PER_HEAP = 10;
/** Refused above this estimated freeze unless --force. */
export const HEAP_SNAPSHOT_BUDGET_S = 10;
/** A retainer path longer than this is not a holder worth naming. */
const MAX_DEPTH = 40;

export interface HeapEstimate { heapMb: number; pauseS: number; memoryMb: number; overBudget: boolean }

export function estimateHeapSnapshot(heapUsedBytes: number): HeapEstimate {
  const heapMb = heapUsedBytes / (1 << 20);
  const pauseS = Math.max(0.5, heapMb * PAUSE_S_PER_MB);
  return { heapMb, pauseS, memoryMb: heapMb * MEMORY_PER_HEAP, overBudget: pauseS > HEAP_SNAPSHOT_BUDGET_S };
}

export function describeEstimate(estimate: HeapEstimate): string {
  return `a heap snapshot of ${estimate.heapMb.toFixed(0)} MB of heap freezes the target for about ${estimate.pauseS.toFixed(1)} s and may take up to ${estimate.memoryMb.toFixed(0)} MB more memory`;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]]; location_fields?: string[] } };
  nodes: number[];
  edges: number[];
  locations?: number[];
  strings: string[];
}

export interface HeapTarget { index: number; objectId: string }

/** Takes the snapshot and names, for each target, the nearest app variable that retains it. */
export async function heapSnapshotHolders(
  client: CdpClient, targets: HeapTarget[], scriptUrls: ReadonlyMap<string, string>, resolver: LocationResolver,
  readSource: (file: string) => string | undefined, estimate: HeapEstimate,
): Promise<{ holders: Map<number, Holder>; pauseMs: number }> {
  const chunks: string[] = [];
  const onChunk = (event: { chunk: string }) => { chunks.push(event.chunk); };
  const ids = new Map<number, number>();
  let pauseMs = 0;
  await client.send('HeapProfiler.enable', {}, 3000);
  try {
    client.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
    const started = performance.now();
    await client.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, Math.round(estimate.pauseS * 3000) + 30_000);
    pauseMs = Math.round(performance.now() - started);
    // Objects get their heap ids from the snapshot (V8 follows them from then on): asked after it.
    for (const target of targets) {
      const { heapSnapshotObjectId } = await client.send('HeapProfiler.getHeapObjectId', { objectId: target.objectId }, 3000);
      if (Number(heapSnapshotObjectId) > 0) ids.set(Number(heapSnapshotObjectId), target.index);
    }
  } finally {
    client.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
    await client.send('HeapProfiler.disable', {}, 3000).catch(bestEffort('disabling the heap profiler'));
  }
  const snapshot = JSON.parse(chunks.join('')) as Snapshot;
  chunks.length = 0;
  return { holders: searchRetainers(snapshot, ids, scriptUrls, resolver, readSource), pauseMs };
}

/** Backwards from each target (by heap id) to the nearest closure-context slot of an app function. */
function searchRetainers(heap: Snapshot, wanted: Map<number, number>, scriptUrls: ReadonlyMap<string, string>, resolver: LocationResolver, readSource: (file: string) => string | undefined): Map<number, Holder> {
  const meta = heap.snapshot.meta;
  const nodeSize = meta.node_fields.length;
  const edgeSize = meta.edge_fields.length;
  const [nodeTypes] = meta.node_types;
  const [edgeTypes] = meta.edge_types;
  const field = { type: meta.node_fields.indexOf('type'), name: meta.node_fields.indexOf('name'), id: meta.node_fields.indexOf('id'), edges: meta.node_fields.indexOf('edge_count') };
  const edgeField = { type: meta.edge_fields.indexOf('type'), name: meta.edge_fields.indexOf('name_or_index'), to: meta.edge_fields.indexOf('to_node') };
  const nodeCount = heap.nodes.length / nodeSize;
  const CONTEXT = edgeTypes.indexOf('context');
  const ELEMENT = edgeTypes.indexOf('element');
  const HIDDEN = edgeTypes.indexOf('hidden');
  const WEAK = edgeTypes.indexOf('weak');
  const SHORTCUT = edgeTypes.indexOf('shortcut');
  const CLOSURE = nodeTypes.indexOf('closure');

  // Each node's first edge, and every edge's retainer, as flat arrays.
  const firstEdge = new Uint32Array(nodeCount + 1);
  for (let n = 0, e = 0; n < nodeCount; n++) {
    firstEdge[n] = e;
    e += heap.nodes[n * nodeSize + field.edges]! * edgeSize;
    firstEdge[n + 1] = e;
  }
  const edgeCount = heap.edges.length / edgeSize;
  const retainerCount = new Uint32Array(nodeCount + 1);
  for (let e = 0; e < edgeCount; e++) retainerCount[heap.edges[e * edgeSize + edgeField.to]! / nodeSize]! += 1;
  const firstRetainer = new Uint32Array(nodeCount + 1);
  for (let n = 0; n < nodeCount; n++) firstRetainer[n + 1] = firstRetainer[n]! + retainerCount[n]!;
  const retainerEdges = new Uint32Array(edgeCount);
  const filled = new Uint32Array(nodeCount);
  for (let n = 0; n < nodeCount; n++) {
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += edgeSize) {
      const to = heap.edges[e + edgeField.to]! / nodeSize;
      retainerEdges[firstRetainer[to]! + filled[to]!] = e;
      filled[to]! += 1;
    }
  }
  const ownerOfEdge = (edge: number): number => {
    // the node whose edge range holds it (binary search over firstEdge)
    let low = 0;
    let high = nodeCount - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (firstEdge[mid]! <= edge) low = mid; else high = mid - 1;
    }
    return low;
  };
  // Closures' script positions: which app function a context belongs to.
  const closureScript = new Map<number, { scriptId: number; line: number }>();
  const locationFields = meta.location_fields ?? [];
  const locationSize = locationFields.length;
  for (let at = 0; heap.locations && locationSize > 0 && at < heap.locations.length; at += locationSize) {
    closureScript.set(heap.locations[at + locationFields.indexOf('object_index')]! / nodeSize, { scriptId: heap.locations[at + locationFields.indexOf('script_id')]!, line: heap.locations[at + locationFields.indexOf('line')]! + 1 });
  }
  const appClosureOf = (context: number): { url: string; line: number; name: string } | undefined => {
    for (let r = firstRetainer[context]!; r < firstRetainer[context + 1]!; r++) {
      const edge = retainerEdges[r]!;
      const owner = ownerOfEdge(edge);
      if (heap.nodes[owner * nodeSize + field.type] !== CLOSURE) continue;
      const place = closureScript.get(owner);
      const url = place && scriptUrls.get(String(place.scriptId));
      if (url && !url.startsWith('node:') && !url.includes('/node_modules/') && url !== '') return { url, line: place!.line, name: heap.strings[heap.nodes[owner * nodeSize + field.name]!] ?? '' };
    }
    return undefined;
  };
  /** A module's own context: the one right inside the native (global) context. */
  const isModuleContext = (context: number): boolean => {
    for (let e = firstEdge[context]!; e < firstEdge[context + 1]!; e += edgeSize) {
      if (heap.strings[heap.edges[e + edgeField.name]!] !== 'previous' || heap.edges[e + edgeField.type] === ELEMENT) continue;
      const outer = heap.edges[e + edgeField.to]! / nodeSize;
      return /NativeContext/.test(heap.strings[heap.nodes[outer * nodeSize + field.name]!] ?? '');
    }
    return false;
  };
  const edgeName = (edge: number): string => {
    const type = heap.edges[edge + edgeField.type];
    const nameOrIndex = heap.edges[edge + edgeField.name]!;
    if (type === ELEMENT || type === HIDDEN) return `[${nameOrIndex}]`;
    const name = heap.strings[nameOrIndex] ?? '?';
    // V8 names an ephemeron's edge "1 / part of key (Store @61) -> value (MongoClient @17) pair in WeakMap (table @16)".
    return /-> value .* pair in WeakMap/.test(name) ? '(its WeakMap value)' : name;
  };

  const byId = new Map<number, number>();
  for (let n = 0; n < nodeCount; n++) if (wanted.has(heap.nodes[n * nodeSize + field.id]!)) byId.set(heap.nodes[n * nodeSize + field.id]!, n);
  const holders = new Map<number, Holder>();
  for (const [id, index] of wanted) {
    const start = byId.get(id);
    if (start === undefined) continue;
    // Breadth-first over retainers: the first app context slot met is the nearest holder.
    const via = new Map<number, number>([[start, -1]]);
    let frontier = [start];
    for (let depth = 0; depth < MAX_DEPTH && frontier.length > 0 && !holders.has(index); depth++) {
      const next: number[] = [];
      for (const node of frontier) {
        for (let r = firstRetainer[node]!; r < firstRetainer[node + 1]!; r++) {
          const edge = retainerEdges[r]!;
          const type = heap.edges[edge + edgeField.type];
          if (type === WEAK || type === SHORTCUT) continue;
          const owner = ownerOfEdge(edge);
          if (via.has(owner)) continue;
          via.set(owner, edge);
          const app = type === CONTEXT ? appClosureOf(owner) : undefined;
          if (app) {
            const path: string[] = [];
            for (let at = owner; via.get(at)! >= 0;) {
              const step = via.get(at)!;
              path.push(edgeName(step));
              at = heap.edges[step + edgeField.to]! / nodeSize;
            }
            const variable = path[0]!;
            const line = declaringLine(readSource(app.url), variable) ?? app.line;
            const scope = isModuleContext(owner) ? { scope: 'module' as const } : { scope: 'closure' as const, ...(app.name ? { closureOf: app.name } : {}) };
            holders.set(index, { variable, path: describePath(path), location: resolver.resolve(app.url, line - 1, 0, app.name || undefined), ...scope });
            break;
          }
          next.push(owner);
        }
        if (holders.has(index)) break;
      }
      frontier = next;
    }
  }
  return holders;
}
