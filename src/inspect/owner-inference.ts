// What owns a resource, for any library: the objects the holder walk passed on its way from the
// app's variable to the resource are read (src/in-target/owner-facts.ts: class, constructor,
// closing methods), their constructors located (script → package, or Node's own module), and
// the outermost one that a library or Node made and that can be closed is the owner — with the
// close call its prototype really has. No rule names the library: the live objects do.
import { bestEffort } from '../core/debug.js';
import type { CloseCall, Handle, Holder, InferredOwner, PackageRef } from '../core/types.js';
import { classInstancesIn, collectInstances } from '../in-target/holder-walk.js';
import { describeOwners } from '../in-target/owner-facts.js';
import { holderOf, type HolderPath, type PreparedRoots } from './holders.js';
import type { CdpClient } from '../reach/cdp-client.js';
import type { LocationResolver } from './locations.js';
import { internalProperties } from './scopes.js';

/** Path objects described at most (the walk's sink holds every path's objects once). */
const MAX_OBJECTS = 2000;
/** Functions (constructors and closers) located at most. */
const MAX_FUNCTIONS = 600;

export interface InferenceContext {
  client: CdpClient;
  group: string;
  timeoutMs: number;
  /** The collector's result in the target: its `pathObjects` is the walks' sink. */
  collectedId: string;
  isProxyId: string;
  urlOf: (scriptId: string) => Promise<string>;
  resolver: LocationResolver;
  /** The first walk's roots: their variables' open library objects are candidates too. */
  roots?: PreparedRoots;
  readSource: (file: string) => string | undefined;
}

/** Open library objects of the app read at most. */
const MAX_INSTANCES = 300;

/** An app variable's open library object, described. */
interface Instance { holder: Holder; fact: ObjectFacts; close: CloseCall }

/** A path object as the target described it, its functions located. */
export interface ObjectFacts {
  className: string;
  /** Where its constructor is: an npm package (and what it depends on), Node's own module, or the app (neither). */
  made?: { package?: PackageRef; core?: string; dependencies?: string[] };
  closers: CloserFacts[];
}

export interface CloserFacts {
  name: string;
  arity: number;
  /** Its source text's start (the inspector's description: V8's own, not the app's toString). */
  source: string;
  /** Defined in Node's own code (a stream's destroy() inherited by a library's class). */
  core: boolean;
}

/**
 * Sets `inferredOwner` on each handle whose path passes a library or Node object that can be
 * closed. A library resource no path reaches (a closure holds it: postgres.js's `sql`) is given
 * the app's one open object of the same package, else (said as "likely") the one whose package
 * depends on the resource's (a BullMQ Queue over ioredis); a connection of Node's own fetch, the
 * app's one open library object that owns nothing else (also "likely"). Each owner also lists the
 * app's other open objects of its package (a gRPC client's stream, to cancel first).
 */
export async function inferOwners(handles: Handle[], paths: ReadonlyMap<number, HolderPath>, context: InferenceContext): Promise<void> {
  const placed = context.roots ? await placeInstances(context, context.roots) : [];
  if (paths.size === 0 && placed.length === 0) return;
  const facts = await readObjectFacts(context);
  for (const [index, path] of paths) {
    const owner = chooseOwner(path, facts);
    if (owner && handles[index]) handles[index]!.inferredOwner = owner;
  }
  const instances = placed.flatMap(({ holder, index }): Instance[] => {
    const fact = facts[index];
    const close = fact?.made ? closeCallOf(fact.closers) : undefined;
    return fact && close ? [{ holder, fact, close }] : [];
  });
  // A worker thread is listed by the inspector, not reached by the walk: the app's one Worker is it.
  const workers = instances.filter((i) => i.fact.made?.core === 'worker_threads' && i.fact.className === 'Worker');
  const threads = handles.filter((h) => h.kind === 'worker-thread' && !h.inferredOwner);
  if (workers.length === 1 && threads.length === 1) {
    threads[0]!.inferredOwner = { ...ownerFrom(workers[0]!), package: undefined, core: 'worker_threads' };
    threads[0]!.heldBy = workers[0]!.holder;
  }
  const libraries = instances.filter((i) => i.fact.made?.package);
  if (libraries.length === 0) return;
  const owning = new Set(handles.flatMap((h) => [h.inferredOwner?.package?.name, h.owner?.package?.name].filter((n): n is string => n !== undefined)));
  const fetchOwned = handles.filter((h) => h.blocking && !h.inferredOwner && !h.heldBy && h.kind === 'tcp-socket' && h.owner?.internal && /deps\/undici/.test(h.owner.url));
  const idle = libraries.filter((i) => !handles.some((h) => h.inferredOwner?.variable === i.holder.variable));
  for (const handle of handles) {
    if (handle.inferredOwner || handle.heldBy || !handle.blocking) continue;
    const name = handle.owner?.package?.name;
    if (!name) continue;
    const same = libraries.filter((i) => i.fact.made?.package?.name === name);
    // Else the one open object whose package depends on the driver that owns it (a BullMQ Queue over ioredis).
    const over = same.length === 0 ? libraries.filter((i) => i.fact.made?.dependencies?.includes(name)) : [];
    if (same.length === 1) {
      handle.inferredOwner = ownerFrom(same[0]!);
      handle.heldBy = same[0]!.holder;
    } else if (over.length === 1) {
      handle.inferredOwner = { ...ownerFrom(over[0]!), likely: true };
    }
  }
  const strangers = idle.filter((i) => !owning.has(i.fact.made!.package!.name));
  if (fetchOwned.length > 0 && strangers.length === 1) for (const handle of fetchOwned) handle.inferredOwner = { ...ownerFrom(strangers[0]!), likely: true };
  for (const handle of handles) {
    const owner = handle.inferredOwner;
    if (!owner?.package) continue;
    const others = libraries.filter((i) => i.fact.made?.package?.name === owner.package!.name && i.holder.variable !== owner.variable).slice(0, 3);
    if (others.length > 0) owner.alsoOpen = others.map((i) => ({ variable: i.holder.variable, className: readableClass(i.fact.className), close: i.close }));
  }
}

function ownerFrom(instance: Instance): InferredOwner {
  return {
    package: instance.fact.made!.package,
    className: readableClass(instance.fact.className),
    expression: instance.holder.variable,
    variable: instance.holder.variable,
    close: instance.close,
    at: instance.holder.location,
  };
}

/** The app's open library objects, put in the walk's sink (so the one description reads them too). */
async function placeInstances(context: InferenceContext, roots: PreparedRoots): Promise<Array<{ holder: Holder; index: number }>> {
  const call = await context.client.send('Runtime.callFunctionOn', {
    functionDeclaration: `function (roots, isProxy, max) { return (${collectInstances.toString()}).call(this, (${classInstancesIn.toString()})(roots, isProxy, max)); }`,
    objectId: context.collectedId, arguments: [{ objectId: roots.arrayId }, { objectId: context.isProxyId }, { value: MAX_INSTANCES }], returnByValue: true,
  }, context.timeoutMs);
  let placed: unknown;
  try {
    placed = JSON.parse(String(call.result.value));
  } catch {
    return [];
  }
  return (Array.isArray(placed) ? placed : []).flatMap((entry) => {
    const [rootIndex, variable, index] = Array.isArray(entry) ? entry : [];
    const root = typeof rootIndex === 'number' ? roots.roots[rootIndex] : undefined;
    if (!root || typeof variable !== 'string' || typeof index !== 'number' || !IDENTIFIER.test(variable)) return [];
    return [{ holder: holderOf(root, variable.slice(0, 200), context.resolver, context.readSource), index }];
  });
}

async function readObjectFacts(context: InferenceContext): Promise<ObjectFacts[]> {
  const { client, timeoutMs } = context;
  const call = await client.send('Runtime.callFunctionOn', {
    functionDeclaration: `function (isProxy, maxObjects) { return (${describeOwners.toString()})(this.pathObjects || [], isProxy, maxObjects); }`,
    objectId: context.collectedId, arguments: [{ objectId: context.isProxyId }, { value: MAX_OBJECTS }], objectGroup: context.group,
  }, timeoutMs);
  if (call.exceptionDetails || !call.result.objectId) return [];
  const fields = await client.send('Runtime.getProperties', { objectId: call.result.objectId, ownProperties: true }, timeoutMs);
  const json = fields.result.find((p) => p.name === 'json')?.value?.value;
  const functionsId = fields.result.find((p) => p.name === 'functions')?.value?.objectId;
  let described: Array<[string, number, Array<[string, number, number]>]>;
  try {
    described = JSON.parse(String(json));
  } catch {
    return [];
  }
  const listed = functionsId ? await client.send('Runtime.getProperties', { objectId: functionsId, ownProperties: true }, timeoutMs) : undefined;
  const functions: Array<{ objectId?: string; source: string }> = [];
  for (const entry of listed?.result ?? []) {
    if (/^\d+$/.test(entry.name) && Number(entry.name) < MAX_FUNCTIONS) functions[Number(entry.name)] = { objectId: entry.value?.objectId, source: String(entry.value?.description ?? '').slice(0, 2000) };
  }
  // One lookup per function, all sent at once (the WebSocket pipelines them).
  const located = await Promise.all(functions.map(async (fn) => {
    if (!fn?.objectId) return undefined;
    const position = (await internalProperties(client, fn.objectId, timeoutMs).catch(bestEffort('locating an owner\'s function', undefined)))?.get('[[FunctionLocation]]')?.value as { scriptId: string; lineNumber: number; columnNumber: number } | undefined;
    if (!position) return undefined;
    const url = await context.urlOf(position.scriptId);
    return url ? context.resolver.resolve(url, position.lineNumber, position.columnNumber) : undefined;
  }));
  return described.map(([className, ctor, closers]) => {
    const at = ctor >= 0 ? located[ctor] : undefined;
    const made = at ? (at.internal ? { core: coreModuleOf(at.url) } : { package: at.package, dependencies: at.package ? context.resolver.dependenciesOf(at.url) : undefined }) : undefined;
    return {
      className: String(className),
      made: made && (made.core || made.package) ? made : undefined,
      closers: closers.flatMap(([name, fn, arity]) => (functions[fn] ? [{ name, arity, source: functions[fn]!.source, core: located[fn]?.internal === true }] : [])),
    };
  });
}

/** A class name as the words say it: a minified build's one- or two-letter name says nothing. */
function readableClass(name: string): string {
  return name.length >= 3 ? name : '';
}

/** Node's module for a script of its own: `node:internal/http2/core` → http2. */
export function coreModuleOf(url: string): string | undefined {
  if (!url.startsWith('node:')) return undefined;
  const path = url.slice('node:'.length).replace(/^internal\//, '');
  if (path.startsWith('deps/undici')) return 'undici (fetch)';
  if (path.startsWith('_http_')) return 'http';
  if (path === 'worker' || path.startsWith('worker/')) return 'worker_threads';
  if (path.startsWith('streams/')) return 'stream';
  return path.split('/')[0]!.replace(/^_/, '') || undefined;
}

/** Base classes every library extends: their methods say nothing about who owns the resource. */
const BASE_MODULES = new Set(['events', 'stream']);

/** Graceful before forceful; a library's own method before one it inherits from Node. */
const PREFERENCE = ['close', 'end', 'quit', 'stop', 'shutdown', 'tryShutdown', 'drain', 'terminate', 'disconnect', 'destroy', 'dispose', 'kill', 'cancel', 'unwatch'];

/**
 * The owner on one path: the outermost object (nearest the app's variable) that a package or a
 * Node module made and that has a closing method. The app's own objects are passed through
 * (the app's wrapper class is not a library the user forgot to close).
 */
export function chooseOwner(path: HolderPath, facts: readonly ObjectFacts[]): InferredOwner | undefined {
  for (let i = 0; i < path.objects.length; i++) {
    const fact = facts[path.objects[i]!];
    if (!fact?.made || (fact.made.core && BASE_MODULES.has(fact.made.core))) continue;
    const close = closeCallOf(fact.closers);
    if (!close) continue;
    const keys = path.keys.slice(0, i + 1);
    const expression = expressionOf(keys);
    return {
      ...(fact.made.package ? { package: fact.made.package } : { core: fact.made.core }),
      className: readableClass(fact.className),
      ...(expression ? { expression } : {}),
      variable: keys[0]!,
      close,
    };
  }
  return undefined;
}

/** The closing call an object's methods offer, or undefined when it has none. */
export function closeCallOf(closers: readonly CloserFacts[]): CloseCall | undefined {
  const own = closers.filter((c) => !c.core);
  const candidates = own.length > 0 ? own : closers;
  const chosen = PREFERENCE.map((name) => candidates.find((c) => c.name === name)).find((c) => c !== undefined);
  if (!chosen) return undefined;
  const has = (name: string) => closers.some((c) => c.name === name);
  const awaits = returnsPromise(chosen.source);
  return {
    method: chosen.name,
    awaits,
    callback: !awaits && CALLBACK_PARAMETER.test(parametersOf(chosen.source)[0] ?? ''),
    ...(chosen.name === 'drain' && has('clear') ? { then: 'clear' } : {}),
    ...(chosen.name !== 'forceShutdown' && has('forceShutdown') ? { alternative: 'forceShutdown' } : {}),
  };
}

const CALLBACK_PARAMETER = /^(?:cb|callback|done|next|fn)\w*$/i;

function returnsPromise(source: string): boolean {
  // `this._Promise.resolve()` (generic-pool), `new this.Promise(…)` (pg-pool) count too.
  return /^async\b/.test(source) || /\bnew [\w$.]*Promise\b|Promise\.(?:resolve|reject|all|allSettled|race|any)\(|__awaiter|\.then\(|promisify|asCallback/.test(source);
}

/** `tryShutdown(callback) {…}` → ['callback'] */
export function parametersOf(source: string): string[] {
  const match = /^[^(]*\(([^)]*)\)/.exec(source);
  return match ? match[1]!.split(',').map((p) => p.trim().replace(/\s*=[\s\S]*$/, '')).filter(Boolean) : [];
}

/** The path as JavaScript the app could write (`repository.client`), or undefined (a Set's member, a symbol). */
export function expressionOf(keys: readonly string[]): string | undefined {
  const [first, ...rest] = keys;
  if (!first || !IDENTIFIER.test(first)) return undefined;
  let text = first;
  for (const key of rest) {
    if (IDENTIFIER.test(key)) text += `.${key}`;
    else if (/^\[\d+\]$/.test(key)) text += key;
    else if (/^get\("[^"\\]*"\)$/.test(key)) text += `.${key}`;
    else return undefined;
  }
  return text.length <= 200 ? text : undefined;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
