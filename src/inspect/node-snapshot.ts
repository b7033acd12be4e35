// The handle inspector for Node targets: one call into the target collects every live
// resource, then CDP resolves each callback to its source location.
import { performance } from 'node:perf_hooks';
import { bestEffort } from '../core/debug.js';
import { formatDuration } from '../core/duration.js';
import { withoutRunFlags } from '../core/format.js';
import { settleWithin } from '../core/time.js';
import type { Handle, HandleKind, HeapSnapshotRequest, Holder, PackageRef, Snapshot, SourceLocation } from '../core/types.js';
import { callbacksAt, collectInTarget, nextChunk, type RawCollection, type RawItem, type RawTuple } from '../in-target/collect-handles.js';
import { heapSnapshotFallback, nameHoldersOf } from './holder-search.js';
import { prepareModuleRoots, walkArguments, withWalk, type PreparedRoots } from './holders.js';
import { CREATION_KEY } from '../in-target/creation-hook.js';
import { WINDOW_KEY } from '../in-target/inspector-window.js';
import { globalObject, timersEntryPoint } from '../in-target/process-facts.js';
import { CdpTimeoutError, type CdpClient } from '../reach/cdp-client.js';
import type { CallFrame, WorkerInfo } from '../reach/cdp-protocol.js';
import { referenceInTarget } from '../reach/in-target-call.js';
import { creationOf, linkLibrariesToApp } from './creation-stacks.js';
import { LocationResolver } from './locations.js';
import { SourceMaps } from './source-maps.js';
import { readPoolStates } from './pool-probe.js';
import { closureVariables, internalProperties } from './scopes.js';
import { ScriptCatalog } from './script-catalog.js';

const GROUP = 'reload-doctor';
/** The collector describes this many resources per call: the target's memory stays bounded. */
const CHUNK_SIZE = 500;
/** Past this many resources the collector describes a sample of them (the tool's memory, measured at 100,000: under 300 MB). */
const DESCRIBED_MAX = 100_000;
/** Past this many resources the collector leaves out libuv's view (a whole process.report). */
const LIBUV_VIEW_MAX = 5000;
/** Short: a target that stops answering must not stall the report. */
const CALL_TIMEOUT_MS = 3000;

/** What an earlier snapshot knew of a resource's holder. */
export type HeldBefore = Pick<Handle, 'heldBy' | 'inferredOwner'>;

export interface NodeSnapshotOptions {
  pid: number;
  /** Script URLs learnt in an earlier window (before the signal): the debugger is turned on only for scripts it lacks. */
  catalog?: ScriptCatalog;
  /** The main thread is spinning: also take its JS stack. */
  busy: boolean;
  startedAt: number;
  /** Attach mode: walk from the app's scopes to the resources, to name the variable that holds each library culprit. */
  holders?: boolean;
  /** Holders (and owners) an earlier snapshot found (before the signal), by async id: for resources this walk no longer reaches. */
  holdersBefore?: Map<number, HeldBefore>;
  /** --heap-snapshot: for library resources the walk did not reach. */
  heapSnapshot?: HeapSnapshotRequest;
}

export async function takeNodeSnapshot(client: CdpClient, options: NodeSnapshotOptions): Promise<Snapshot> {
  const notes: string[] = [];
  let answering = true;
  const catalog = options.catalog ?? new ScriptCatalog();
  // The debugger is on only as long as it must be: while it is, every Runtime.callFunctionOn
  // takes ~44 ms to answer (measured on Node 20; 0.3 ms with it off; the target's own loop is
  // not stalled, but the window stays open that much longer). Scripts are learnt at
  // most once (on, off again) for a script the catalog does not know; the busy stacks turn it
  // on for their pauses only.
  let learnt: Promise<void> | undefined;
  let debuggerOn: Promise<() => Promise<void>> | undefined;
  const urlOf = async (scriptId: string): Promise<string> => {
    if (!catalog.urls.has(scriptId)) await (learnt ??= catalog.learn(client).catch(bestEffort('learning the scripts')));
    return catalog.urls.get(scriptId) ?? '';
  };
  try {
    let busySamples: RawFrame[][] | undefined;
    if (options.busy) {
      const stop = await (debuggerOn = catalog.enable(client));
      try {
        busySamples = await takeBusyStacks(client, catalog.urls, notes);
      } finally {
        await stop();
      }
    }
    // Asked first: the workers' announcements arrive while the collector runs.
    const workersListed = listWorkers(client, notes);
    const timers = await findTimerInternals(client);
    if (!timers) notes.push('timers could not be listed on this Node version: timer callbacks are not shown');
    // RELOAD_DOCTOR_NO_HOLDERS=1: the baseline of bench/holders.bench.mjs (and a way out, should the walk ever misbehave).
    const holders = options.holders === true && process.env.RELOAD_DOCTOR_NO_HOLDERS !== '1';
    const roots = holders ? await prepareModuleRoots(client, GROUP, CALL_TIMEOUT_MS, urlOf, notes).catch(bestEffort('finding the app modules\' scopes', undefined)) : undefined;
    const { raw, groupsId, collectedId, walk } = await runCollector(client, timers, roots);
    const rootPrefix = `/proc/${options.pid}/root`;
    const sourceMaps = new SourceMaps((url) => catalog.sourceMapUrls.get(url), rootPrefix);
    const resolver = new LocationResolver(raw.cwd, { rootPrefix, sourceMaps, stacksMapped: raw.stacksMapped });
    const owners = await resolveOwners(client, raw, groupsId, urlOf, resolver);
    if (raw.creationStacks === 'full') notes.push('the service created more loop-keeping resources than creation stacks are kept for (200,000): the newest ones show their owner only');
    if (raw.seen > raw.total) notes.push(`the process holds ${raw.seen.toLocaleString('en-US')} loop resources: reload-doctor described a sample of ${raw.total.toLocaleString('en-US')} (one in ${Math.ceil(raw.seen / DESCRIBED_MAX)} of the connections, timers and requests, and every server, child process and watcher), so the counts below are of that sample`);
    if (raw.libuvSkipped) notes.push(`with ${raw.items.length.toLocaleString('en-US')} resources libuv's own view was left out (it costs the target a whole diagnostic report): unref'd handles are not listed, and an idle socket counts as keeping the loop alive`);
    const workers = await workersListed;
    const handles = [...buildHandles(raw, owners, resolver), ...workers.map((w) => workerHandle(w, raw))];
    if (holders) await nameHoldersOf(handles, { client, group: GROUP, timeoutMs: CALL_TIMEOUT_MS, raw, groupsId, collectedId, walk, roots, resolver, pid: options.pid, urlOf }, notes);
    if (holders && options.heapSnapshot && collectedId) {
      await (learnt ??= catalog.learn(client).catch(bestEffort('learning the scripts'))); // script URLs for the closures the snapshot names
      await heapSnapshotFallback(handles, { client, group: GROUP, timeoutMs: CALL_TIMEOUT_MS, raw, collectedId, catalog, resolver, pid: options.pid, request: options.heapSnapshot }, notes);
    }
    for (const handle of handles) {
      const before = handle.heldBy || handle.asyncId === undefined ? undefined : options.holdersBefore?.get(handle.asyncId);
      if (before?.heldBy) handle.heldBy = before.heldBy;
      if (before?.inferredOwner && !handle.inferredOwner) handle.inferredOwner = before.inferredOwner;
    }
    if (raw.creationStacks) await linkLibrariesToApp(client, handles, resolver);
    const fixFrames = (frames: RawFrame[]) => frames.map((frame) => ({
      functionName: frame.functionName,
      location: frame.url !== undefined ? resolver.resolve(frame.url, frame.line, frame.column, frame.functionName, true) : undefined,
    }));
    const fixedStack = busySamples ? fixFrames(busySamples[0]!) : undefined;
    // The frames most samples pass through (a function and its script, wherever in it): what the thread keeps doing.
    const common = busySamples && busySamples.length > 1 ? framesInMost(busySamples).map(({ frame, seen }) => ({ ...fixFrames([frame])[0]!, seen })) : undefined;
    const loadedPackages = packagesIn(catalog.urls.values(), resolver);
    const pools = await readPoolStates(client, loadedPackages, GROUP, CALL_TIMEOUT_MS);
    return {
      source: 'inspector',
      nodeVersion: raw.nodeVersion,
      takenAtMs: Math.round(performance.now() - options.startedAt),
      handles,
      busyStack: fixedStack,
      ...(common ? { busyCommon: { frames: common, samples: busySamples!.length } } : {}),
      context: { ...(raw.clusterWorker ? { clusterWorker: true } : {}), ...(loadedPackages.length > 0 ? { loadedPackages } : {}), ...(pools.length > 0 ? { pools } : {}) },
      notes,
    };
  } catch (error) {
    answering = !(error instanceof CdpTimeoutError);
    throw error;
  } finally {
    // Leave nothing behind in the target: drop our object references and the debugger.
    // A target that stopped answering gets them queued; closing the session undoes both anyway.
    const cleanup = Promise.all([
      client.send('Runtime.releaseObjectGroup', { objectGroup: GROUP }, CALL_TIMEOUT_MS).catch(bestEffort('releasing the snapshot references')),
      debuggerOn?.then((stop) => stop(), bestEffort('turning the debugger on')),
    ]);
    if (answering) await cleanup;
  }
}

export interface RawFrame { functionName: string; url?: string; line: number; column: number }

/** Stacks of a spinning main thread: a few samples, so the frame it keeps returning to can be told from where it happened to be. */
const BUSY_SAMPLES = 5;
const BUSY_SAMPLE_GAP_MS = 10;

/**
 * The frames (by function and script) seen in more than half of the samples, innermost first,
 * with how many samples had each; each at the line most of them were on (a loop's body, not
 * its head).
 */
export function framesInMost(samples: RawFrame[][]): Array<{ frame: RawFrame; seen: number }> {
  const found = new Map<string, { frames: RawFrame[]; seen: number }>();
  for (const sample of samples) {
    const keys = new Set<string>();
    for (const frame of sample) {
      const key = `${frame.functionName}\u0000${frame.url ?? ''}`;
      if (keys.has(key)) continue;
      keys.add(key);
      const entry = found.get(key) ?? { frames: [], seen: 0 };
      entry.seen += 1;
      entry.frames.push(frame);
      found.set(key, entry);
    }
  }
  return [...found.values()].filter((entry) => entry.seen * 2 > samples.length).map(({ frames, seen }) => {
    const count = (line: number) => frames.filter((frame) => frame.line === line).length;
    const frame = frames.reduce((best, candidate) => (count(candidate.line) > count(best.line) ? candidate : best));
    return { frame, seen };
  });
}

async function takeBusyStacks(client: CdpClient, scripts: Map<string, string>, notes: string[]): Promise<RawFrame[][] | undefined> {
  const samples: RawFrame[][] = [];
  for (let i = 0; i < BUSY_SAMPLES; i++) {
    const sample = await takeBusyStack(client, scripts, i === 0 ? notes : []);
    if (!sample) break;
    samples.push(sample);
    if (i + 1 < BUSY_SAMPLES) await new Promise((resolve) => setTimeout(resolve, BUSY_SAMPLE_GAP_MS));
  }
  return samples.length > 0 ? samples : undefined;
}

async function takeBusyStack(client: CdpClient, scripts: Map<string, string>, notes: string[]): Promise<RawFrame[] | undefined> {
  const paused = new Promise<CallFrame[]>((resolve) => client.once('Debugger.paused', (event) => resolve(event.callFrames ?? [])));
  try {
    await client.send('Debugger.setSkipAllPauses', { skip: false }, CALL_TIMEOUT_MS);
    await client.send('Debugger.pause', {}, CALL_TIMEOUT_MS);
    const callFrames = await settleWithin(paused, CALL_TIMEOUT_MS);
    if (!callFrames) {
      notes.push('the main thread did not pause: no JS stack');
      return undefined;
    }
    return callFrames.map((frame) => ({
      functionName: frame.functionName || '(anonymous)',
      url: frame.url || scripts.get(frame.location.scriptId),
      line: frame.location.lineNumber,
      column: frame.location.columnNumber ?? 0,
    }));
  } finally {
    await client.send('Debugger.resume', {}, CALL_TIMEOUT_MS).catch(bestEffort('resuming after the pause'));
    await client.send('Debugger.setSkipAllPauses', { skip: true }, CALL_TIMEOUT_MS).catch(bestEffort('skipping pauses again'));
  }
}

export interface TimerInternals { timerListMap: string; binding?: string }

/** setTimeout's closure holds the timer lists (lib/timers.js); guarded: it is Node internals. */
export async function findTimerInternals(client: CdpClient): Promise<TimerInternals | undefined> {
  const setTimeoutRef = await referenceInTarget(client, timersEntryPoint, [], GROUP, CALL_TIMEOUT_MS);
  for (const variables of await closureVariables(client, setTimeoutRef.objectId, CALL_TIMEOUT_MS)) {
    const timerListMap = variables.get('timerListMap')?.objectId;
    if (timerListMap) return { timerListMap, binding: variables.get('binding')?.objectId };
  }
  return undefined;
}

/** What the collector brought, its items read back from their tuples. */
type Collected = Omit<RawCollection, 'items'> & { items: RawItem[] };

function itemOf([type, refed, fd, owners, members, details, created, asyncId]: RawTuple): RawItem {
  return { type, refed: refed === 1, fd: fd ?? undefined, owners, members, details, created: created ?? undefined, asyncId: asyncId ?? undefined };
}

async function runCollector(client: CdpClient, timers: TimerInternals | undefined, roots: PreparedRoots | undefined): Promise<{ raw: Collected; groupsId: string | undefined; collectedId: string | undefined; walk: string | undefined }> {
  const args = [
    timers ? { objectId: timers.timerListMap } : { value: null },
    timers?.binding ? { objectId: timers.binding } : { value: null },
    { value: CREATION_KEY },
    { value: WINDOW_KEY },
    { value: LIBUV_VIEW_MAX },
    { value: CHUNK_SIZE },
    { value: DESCRIBED_MAX },
    ...walkArguments(roots),
  ];
  const anchor = timers?.timerListMap ?? (await referenceInTarget(client, globalObject, [], GROUP, CALL_TIMEOUT_MS)).objectId;
  const call = await client.send('Runtime.callFunctionOn', {
    functionDeclaration: roots ? withWalk(collectInTarget) : collectInTarget.toString(),
    objectId: anchor,
    arguments: args,
    objectGroup: GROUP,
  }, CALL_TIMEOUT_MS * 2);
  if (call.exceptionDetails) throw new Error(`collector failed in the target: ${call.exceptionDetails.exception?.description ?? call.exceptionDetails.text}`);
  const fields = await client.send('Runtime.getProperties', { objectId: call.result.objectId!, ownProperties: true }, CALL_TIMEOUT_MS);
  const json = fields.result.find((p) => p.name === 'json')?.value?.value;
  const groupsId = fields.result.find((p) => p.name === 'groups')?.value?.objectId;
  const nextId = fields.result.find((p) => p.name === 'next')?.value?.objectId;
  const walk = fields.result.find((p) => p.name === 'holders')?.value?.value;
  const first = JSON.parse(String(json)) as RawCollection;
  const raw: Collected = { ...first, items: first.items.map(itemOf) };
  // A big process: the rest a chunk at a time (the target never builds them all at once).
  // Every chunk but the last holds CHUNK_SIZE items: the number of calls is known.
  const calls = nextId ? Math.ceil((raw.total - raw.items.length) / CHUNK_SIZE) : 0;
  for (let call = 0; call < calls; call++) {
    const chunk = await client.send('Runtime.callFunctionOn', { functionDeclaration: nextChunk.toString(), objectId: nextId!, returnByValue: true }, CALL_TIMEOUT_MS);
    if (chunk.exceptionDetails) throw new Error(`collector failed in the target: ${chunk.exceptionDetails.exception?.description ?? chunk.exceptionDetails.text}`);
    const more = JSON.parse(String(chunk.result.value)) as Pick<RawCollection, 'items'> & Partial<Pick<RawCollection, 'functionNames' | 'groupSizes'>>;
    for (const item of more.items) raw.items.push(itemOf(item));
    if (more.functionNames) {
      raw.functionNames = more.functionNames;
      raw.groupSizes = more.groupSizes ?? [];
    }
  }
  return { raw, groupsId, collectedId: call.result.objectId, walk: typeof walk === 'string' ? walk : undefined };
}

type Position = { scriptId: string; lineNumber: number; columnNumber: number };

/** The places of a group the owner is looked up at first: all of a small one, else its first, middle and last. */
function samplesOf(size: number): number[] {
  return size <= 3 ? [...Array(size).keys()] : [0, Math.floor(size / 2), size - 1];
}

const samePlace = (a: SourceLocation | undefined, b: SourceLocation | undefined) => a?.url === b?.url && a?.line === b?.line && a?.column === b?.column;

/**
 * [[FunctionLocation]] of the callbacks that decide an owner. Callbacks come in groups (same
 * name and source text, collect-handles.ts): a group is looked up at a few places, and only
 * when those disagree (the same code written twice) at every place. Then in rounds: first each
 * item's first candidate; only items whose candidate is Node's own code go on to their next.
 * The CDP calls grow with the lines of code involved, not with the number of handles.
 */
async function resolveOwners(
  client: CdpClient, raw: Collected, groupsId: string | undefined, urlOf: (scriptId: string) => Promise<string>, resolver: LocationResolver,
): Promise<Array<SourceLocation | undefined>> {
  const owners: Array<SourceLocation | undefined> = raw.items.map(() => undefined);
  if (!groupsId) return owners;
  const locate = async (objectId: string | undefined, depth = 0): Promise<Position | undefined> => {
    if (!objectId || depth > 3) return undefined;
    const internal = await internalProperties(client, objectId, CALL_TIMEOUT_MS);
    const target = internal.get('[[TargetFunction]]')?.objectId;
    if (target) return locate(target, depth + 1);
    return internal.get('[[FunctionLocation]]')?.value as Position | undefined;
  };
  /** One call fetches the callbacks, one lists them; then one lookup each, all sent at once (the WebSocket pipelines them). */
  const locatePlaces = async (places: Array<[number, number]>): Promise<Array<SourceLocation | undefined>> => {
    if (places.length === 0) return [];
    const picked = await client.send('Runtime.callFunctionOn', {
      functionDeclaration: callbacksAt.toString(), objectId: groupsId, arguments: [{ value: places }], objectGroup: GROUP,
    }, CALL_TIMEOUT_MS);
    const listed = await client.send('Runtime.getProperties', { objectId: picked.result.objectId!, ownProperties: true }, CALL_TIMEOUT_MS);
    const ids: Array<string | undefined> = [];
    for (const entry of listed.result) if (/^\d+$/.test(entry.name)) ids[Number(entry.name)] = entry.value?.objectId;
    return Promise.all(places.map(async ([group], at) => {
      const position = await locate(ids[at]).catch(bestEffort(`locating a callback of group ${group}`));
      const url = position ? await urlOf(position.scriptId) : '';
      return position ? resolver.resolve(url, position.lineNumber, position.columnNumber, raw.functionNames[group], true) : undefined;
    }));
  };
  const ofGroup = new Map<number, SourceLocation | undefined>();
  const ofMember = new Map<string, SourceLocation | undefined>(); // groups whose places disagree
  const resolveGroups = async (groups: number[]) => {
    const places = groups.flatMap((group) => samplesOf(raw.groupSizes[group] ?? 0).map((member): [number, number] => [group, member]));
    const found = await locatePlaces(places);
    const split: number[] = [];
    for (const group of groups) {
      const seen = found.filter((_, at) => places[at]![0] === group);
      if (seen.every((location) => samePlace(location, seen[0]))) ofGroup.set(group, seen[0]);
      else split.push(group);
    }
    const every = split.flatMap((group) => [...Array(raw.groupSizes[group] ?? 0).keys()].map((member): [number, number] => [group, member]));
    const located = await locatePlaces(every);
    every.forEach(([group, member], at) => ofMember.set(`${group}:${member}`, located[at]));
    for (const group of split) ofGroup.set(group, undefined);
  };
  const locationAt = (group: number, member: number) => (ofMember.has(`${group}:${member}`) ? ofMember.get(`${group}:${member}`) : ofGroup.get(group));

  let pending = raw.items.map((item, at) => ({ item, at, next: 0 })).filter((p) => p.item.owners.length > 0);
  while (pending.length > 0) {
    const wanted = new Set(pending.map((p) => p.item.owners[p.next]!).filter((group) => !ofGroup.has(group)));
    await resolveGroups([...wanted]);
    pending = pending.filter((p) => {
      const location = locationAt(p.item.owners[p.next]!, p.item.members[p.next]!);
      if (location && (!owners[p.at] || owners[p.at]!.internal)) owners[p.at] = location;
      if (location && !location.internal) return false;
      p.next += 1;
      return p.next < p.item.owners.length;
    });
  }
  return owners;
}

/** Workers hold no handle the main thread can list; NodeWorker announces each one. */
async function listWorkers(client: CdpClient, notes: string[]): Promise<WorkerInfo[]> {
  const workers: WorkerInfo[] = [];
  const onWorker = (params: { workerInfo: WorkerInfo }) => workers.push(params.workerInfo);
  client.on('NodeWorker.attachedToWorker', onWorker);
  try {
    // Enabling announces the existing workers.
    await client.send('NodeWorker.enable', { waitForDebuggerOnStart: false }, CALL_TIMEOUT_MS);
    // attachedToWorker events for existing workers follow the reply; give them a moment.
    await new Promise((resolve) => setTimeout(resolve, 20));
  } catch (error) {
    bestEffort('listing worker threads')(error);
    notes.push('worker threads could not be listed');
    return [];
  } finally {
    client.off('NodeWorker.attachedToWorker', onWorker);
    await client.send('NodeWorker.disable', {}, CALL_TIMEOUT_MS).catch(bestEffort('disabling NodeWorker'));
  }
  return workers;
}

function workerHandle(worker: WorkerInfo, raw: Collected): Handle {
  // A ref'd worker shows as a referenced, active libuv async handle in the main loop.
  const refedAsyncs = raw.libuv.filter((h) => h.type === 'async' && h.refed && h.active).length;
  const blocking = refedAsyncs > 0;
  const file = worker.url.startsWith('file://') ? worker.url : worker.url || worker.title;
  // workerId counts inspector attachments; the thread id is in the title Node gives it.
  const threadId = /^\[worker (\d+)\]/.exec(worker.title)?.[1];
  return {
    kind: 'worker-thread',
    blocking,
    label: `Worker (${threadId ? `thread ${threadId}, ` : ''}${file})`,
    details: { threadId: threadId ? Number(threadId) : null, file, title: worker.title },
    notBlockingBecause: blocking ? undefined : "unref'd",
  };
}

const LIBUV_KINDS: Record<string, HandleKind> = {
  tcp: 'tcp-socket', udp: 'udp-socket', pipe: 'pipe', tty: 'tty', process: 'child-process',
  fs_event: 'fs-watcher', fs_poll: 'fs-watcher',
};

function buildHandles(raw: Collected, owners: Array<SourceLocation | undefined>, resolver: LocationResolver): Handle[] {
  const handles: Handle[] = [];
  const activeByFd = new Map(raw.libuv.filter((h) => h.fd !== undefined).map((h) => [h.fd!, h]));
  raw.items.forEach((item, at) => {
    // A child of a service `run` started carries our preload's --require: not the user's command.
    if (item.type === 'child-process') item.details.command = withoutRunFlags(String(item.details.command).split(' ')).join(' ');
    const uv = item.fd !== undefined ? activeByFd.get(item.fd) : undefined;
    const active = uv ? uv.active : true;
    let blocking = item.refed && active;
    let notBlockingBecause = !item.refed ? "unref'd" : !active ? 'referenced but idle (not reading)' : undefined;
    if (item.type === 'stdio' && !item.details.reading) {
      // stdout/stderr (and a stdin nobody reads) never hold the loop by themselves.
      blocking = false;
      notBlockingBecause = 'standard stream';
    }
    const creation = creationOf(item.created, resolver);
    handles.push({
      kind: item.type as HandleKind,
      blocking,
      label: labelFor(item),
      details: item.details as Handle['details'], // parsed JSON: the undefined fields are gone
      owner: owners[at],
      createdAt: creation?.frames.length ? creation.frames : undefined,
      createdIn: creation?.appFrame,
      createdInherited: creation?.inherited || undefined,
      notBlockingBecause: blocking ? undefined : notBlockingBecause,
      asyncId: item.asyncId,
    });
  });
  // Unref'd libuv handles are invisible to _getActiveHandles: list them as not blocking.
  const knownFds = new Set(raw.items.map((i) => i.fd).filter((fd) => fd !== undefined));
  for (const uv of raw.libuv) {
    const kind = LIBUV_KINDS[uv.type];
    if (!kind || uv.refed || (uv.fd !== undefined && knownFds.has(uv.fd))) continue;
    handles.push({
      kind,
      blocking: false,
      label: `${uv.type} handle${uv.local ? ` ${uv.local}` : ''}${uv.remote ? ` → ${uv.remote}` : ''}${uv.pid ? ` (pid ${uv.pid})` : ''}`,
      details: clean({ fd: uv.fd, local: uv.local, remote: uv.remote, pid: uv.pid }),
      notBlockingBecause: "unref'd",
    });
  }
  return handles;
}

function labelFor(item: RawItem): string {
  const d = item.details;
  switch (item.type) {
    case 'timer': {
      // Node's own words (ms); long ones in the units a person reads.
      const ms = (value: unknown) => (Number(value) >= 60_000 ? formatDuration(Number(value)) : `${value} ms`);
      const period = d.repeat ? `every ${ms(d.repeat)}` : ms(d.delay);
      const due = d.dueIn !== undefined ? ` (next due in ${ms(d.dueIn)})` : '';
      return `Timeout ${period}${due}`;
    }
    case 'tcp-server':
    case 'pipe-server': {
      const wrap = item.type === 'tcp-server' ? 'TCPServerWrap' : 'PipeServerWrap';
      const connections = typeof d.connections === 'number' ? `, ${d.connections} open connection${d.connections === 1 ? '' : 's'}` : '';
      return d.closing ? `${wrap} (closing: server.close() was called${connections})` : `${wrap} (listening on ${d.local ?? '?'}${connections})`;
    }
    case 'tcp-socket': {
      const role = d.accepted ? ` (connection of ${d.server ? `server ${d.server}` : 'a closed server'})` : '';
      const flight = d.upgraded ? ', upgraded (WebSocket)' : d.inFlight ? `, ${d.inFlight} in flight` : d.accepted ? ', idle keep-alive' : '';
      return `TCPSocketWrap ${d.local ?? '?'} → ${d.remote ?? '?'}${role}${flight}`;
    }
    case 'pipe':
      return d.childPid !== undefined ? `PipeWrap (stdio of child pid ${d.childPid})` : `PipeWrap${item.fd !== undefined ? ` (fd ${item.fd})` : ''}`;
    case 'stdio':
      return `${d.stdio} (fd ${item.fd ?? '?'})`;
    case 'tty':
      return `TTYWrap (fd ${item.fd ?? '?'})`;
    case 'child-process':
      return `ProcessWrap (pid ${d.pid}: ${d.command})`;
    case 'fs-watcher':
      // fs.watchFile's poller: the API that made it, since nothing else says so.
      return d.watcher === 'StatWatcher' ? 'StatWatcher (node:fs, fs.watchFile)' : `${d.watcher ?? 'FSWatcher'}`;
    case 'udp-socket':
      return `UDPWrap (${d.local ?? '?'})`;
    case 'request': {
      // libuv's request names, said in words beside them.
      const words = REQUEST_WORDS[String(d.request)];
      return `${d.request ?? 'request'}${words ? ` (${words}${d.hostname ? `: ${d.hostname}` : ''})` : d.hostname ? ` (${d.hostname})` : ''}`;
    }
    case 'message-port':
      return 'MessagePort';
    default:
      if (d.ipc) return 'IPC channel to the parent process';
      return `${d.constructor ?? 'handle'}${d.wrap ? ` (${d.wrap})` : ''}`;
  }
}

/** What a pending libuv request is doing, for the names Node gives them. */
const REQUEST_WORDS: Record<string, string> = {
  FSReqCallback: 'a file system call with a callback, still running',
  FSReqPromise: 'a file system call of fs/promises, still running',
  FileHandleCloseReq: 'closing a FileHandle of fs/promises',
  GetAddrInfoReqWrap: 'a DNS lookup (dns.lookup, getaddrinfo)',
  GetNameInfoReqWrap: 'a reverse DNS lookup (getnameinfo)',
  QueryReqWrap: 'a DNS query (dns.resolve)',
  TCPConnectWrap: 'a TCP connection being opened',
  PipeConnectWrap: 'a pipe connection being opened',
  WriteWrap: 'a write still being flushed',
  ShutdownWrap: 'a stream shutdown (end) still being flushed',
  SendWrap: 'a UDP send still in flight',
};

function clean(details: RawItem['details']): Handle['details'] {
  const out: Handle['details'] = {};
  for (const [key, value] of Object.entries(details)) if (value !== undefined) out[key] = value;
  return out;
}

/** The npm packages whose scripts are loaded (with their versions): which libraries the process uses. */
function packagesIn(urls: Iterable<string>, resolver: LocationResolver): PackageRef[] {
  const found = new Map<string, PackageRef>();
  for (const url of urls) {
    const ref = url.includes('/node_modules/') ? resolver.resolve(url, 0, 0).package : undefined;
    if (ref && !found.has(ref.name)) found.set(ref.name, ref);
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
