// Attach mode: the app's own variable that holds each library culprit ("MongoClient held by
// `client` in src/db.js, line 3"), where no creation stack can say it. The walk itself runs in
// the target (src/in-target/holder-walk.ts), in the collector's own call; this side finds its
// roots beforehand (each app module's scope, which only the inspector can open), and names
// what it found: the variable, the line that declares it, the path to the resource.
import { bestEffort } from '../core/debug.js';
import type { Holder, SourceLocation } from '../core/types.js';
import { appModuleFunctions, esmAppModules, findHolders, listOf, processListenerFunctions, proxyTest } from '../in-target/holder-walk.js';
import type { CdpClient } from '../reach/cdp-client.js';
import type { RemoteObject } from '../reach/cdp-protocol.js';
import { referenceInTarget } from '../reach/in-target-call.js';
import { readTargetFile } from '../reach/target-files.js';
import type { LocationResolver } from './locations.js';
import { followPrivateFields } from './private-fields.js';
import { internalProperties } from './scopes.js';

/** Bounds of the walk inside the target (../shared/DESIGN.md: ~250 ms, longest stall measured 42-181 ms). */
export const WALK_BUDGET_MS = 250;
export const WALK_MAX_OBJECTS = 300_000;
export const WALK_MAX_DEPTH = 14;
/** App modules whose scopes are roots; past this many the rest are not looked at. */
const MAX_MODULES = 500;
/** A path is shown by its first steps: enough to see which part of the variable it goes through. */
const PATH_STEPS_SHOWN = 4;

export interface HolderRoot {
  /** The app file whose module scope (or whose function's closure) this is. */
  file: string;
  scope: 'module' | 'closure';
  /** The function whose closure it is (scope "closure"). */
  closureOf?: string;
  /** Where that function is (scope "closure"): the declaring line is looked for before it. */
  line?: number;
  /** The callback whose closure it is. */
  via?: SourceLocation;
}

export interface PreparedRoots {
  /** An array in the target: the scope objects, in `roots` order. */
  arrayId: string;
  isProxyId: string;
  roots: HolderRoot[];
  /** A Map in the target: the #private fields the inspector read (object → [[#name, value]]), for the walk. */
  edgesId?: string;
}

/** The walk's arguments for Runtime.callFunctionOn: roots, isProxy, then its bounds. */
export function walkArguments(prepared: PreparedRoots | undefined): Array<{ objectId: string } | { value: unknown }> {
  if (!prepared) return [{ value: null }, { value: null }, { value: 0 }, { value: 0 }, { value: 0 }, { value: null }];
  return [{ objectId: prepared.arrayId }, { objectId: prepared.isProxyId }, { value: WALK_BUDGET_MS }, { value: WALK_MAX_OBJECTS }, { value: WALK_MAX_DEPTH },
    prepared.edgesId ? { objectId: prepared.edgesId } : { value: null }];
}

/** The source of the collector's call with the walk after it, in the same call. */
export function withWalk(collector: Function): string {
  return `function (timerListMap, timersBinding, creationKey, watchdogKey, libuvViewMax, chunkSize, describedMax, roots, isProxy, budgetMs, maxVisited, maxDepth, privateEdges) {
  const collected = (${collector.toString()}).call(this, timerListMap, timersBinding, creationKey, watchdogKey, libuvViewMax, chunkSize, describedMax);
  collected.pathObjects = [];
  collected.holders = roots ? (${findHolders.toString()})(collected.resources, roots, isProxy, budgetMs, maxVisited, maxDepth, collected.pathObjects, privateEdges) : null;
  return collected;
}`;
}

/**
 * Each app module's scope, as an array in the target: CommonJS modules through require.cache,
 * ES modules through the ESM loader (their exports, and the scope of an exported function),
 * and the scopes around the app's process listeners (an entry module exports nothing: its
 * SIGTERM handler's scopes are the way in); undefined when there is none.
 */
export async function prepareModuleRoots(client: CdpClient, group: string, timeoutMs: number, urlOf: (scriptId: string) => Promise<string>, notes: string[] = []): Promise<PreparedRoots | undefined> {
  const found: Array<{ root: HolderRoot; scopeId: string }> = [];
  const listeners = await listenerRoots(client, group, timeoutMs, urlOf).catch(bestEffort('opening the process listeners\' scopes', []));
  const list = await referenceInTarget(client, appModuleFunctions, [MAX_MODULES], group, timeoutMs);
  for (const [file, fn] of await tuplesOf(client, list.objectId, timeoutMs)) {
    const scope = typeof file?.value === 'string' && fn?.objectId
      ? outerScopes(await scopesOf(client, fn.objectId, timeoutMs), file.value, 1).find((found) => found.root.scope === 'module')?.scopeId : undefined;
    if (scope) found.push({ root: { file: file!.value as string, scope: 'module' }, scopeId: scope });
  }
  const esm = await esmRoots(client, group, timeoutMs).catch(bestEffort('finding the ES modules', undefined));
  if (esm) found.push(...esm);
  else notes.push('the ES modules of the app could not be listed on this Node version: only CommonJS modules and callbacks are searched for holders');
  found.push(...listeners);
  return found.length === 0 ? undefined : packRoots(client, group, timeoutMs, found);
}

/** ES modules: each one's namespace (its exports by name) and its Module scope (the rest, as closures capture them). */
async function esmRoots(client: CdpClient, group: string, timeoutMs: number): Promise<Array<{ root: HolderRoot; scopeId: string }> | undefined> {
  const register = await client.send('Runtime.evaluate', { expression: "require('node:module').register", includeCommandLineAPI: true, objectGroup: group }, timeoutMs);
  if (!register.result.objectId) return undefined;
  let internalRequire: string | undefined;
  for (const scope of await scopesOf(client, register.result.objectId, timeoutMs)) {
    if (!scope.kind.startsWith('Closure')) continue;
    const variables = await client.send('Runtime.getProperties', { objectId: scope.objectId, ownProperties: true }, timeoutMs);
    internalRequire = variables.result.find((v) => v.name === 'require')?.value?.objectId;
    if (internalRequire) break;
  }
  if (!internalRequire) return undefined;
  const listed = await client.send('Runtime.callFunctionOn', { functionDeclaration: esmAppModules.toString(), objectId: internalRequire, arguments: [{ value: MAX_MODULES }], objectGroup: group }, timeoutMs);
  if (listed.exceptionDetails || listed.result.subtype === 'null') return undefined;
  const found: Array<{ root: HolderRoot; scopeId: string }> = [];
  for (const [url, namespace, fn] of await tuplesOf(client, listed.result.objectId, timeoutMs)) {
    if (typeof url?.value !== 'string') continue;
    if (namespace?.objectId) found.push({ root: { file: url.value, scope: 'module' }, scopeId: namespace.objectId });
    const moduleScope = fn?.objectId ? (await scopesOf(client, fn.objectId, timeoutMs)).find((s) => s.kind === 'Module') : undefined;
    if (moduleScope) found.push({ root: { file: url.value, scope: 'module' }, scopeId: moduleScope.objectId });
  }
  return found;
}

/** Process listeners past this many are not opened. */
const MAX_LISTENERS = 50;

/** The scopes around each of the app's process listeners (outside node_modules and Node). */
async function listenerRoots(client: CdpClient, group: string, timeoutMs: number, urlOf: (scriptId: string) => Promise<string>): Promise<Array<{ root: HolderRoot; scopeId: string }>> {
  const list = await referenceInTarget(client, processListenerFunctions, [MAX_LISTENERS], group, timeoutMs);
  const entries = list.objectId ? await client.send('Runtime.getProperties', { objectId: list.objectId, ownProperties: true }, timeoutMs) : undefined;
  const found: Array<{ root: HolderRoot; scopeId: string }> = [];
  for (const entry of entries?.result ?? []) {
    if (!/^\d+$/.test(entry.name) || !entry.value?.objectId) continue;
    const position = (await internalProperties(client, entry.value.objectId, timeoutMs)).get('[[FunctionLocation]]')?.value as { scriptId: string; lineNumber: number } | undefined;
    const url = position ? await urlOf(position.scriptId) : '';
    if (!url || url.startsWith('node:') || url.includes('/node_modules/')) continue;
    found.push(...outerScopes(await scopesOf(client, entry.value.objectId, timeoutMs), url, position!.lineNumber + 1));
  }
  return found;
}

/**
 * A function's scopes that are the app's variables: its module's (an ES module's Module scope,
 * a CommonJS module wrapper's outermost Closure) and the named closures around it.
 */
function outerScopes(scopes: Array<{ kind: string; objectId: string }>, url: string, line: number): Array<{ root: HolderRoot; scopeId: string }> {
  const closures = scopes.filter((s) => s.kind === 'Closure' || s.kind.startsWith('Closure ('));
  const moduleScope = scopes.find((s) => s.kind === 'Module') ?? closures.at(-1);
  const found: Array<{ root: HolderRoot; scopeId: string }> = moduleScope ? [{ root: { file: url, scope: 'module' }, scopeId: moduleScope.objectId }] : [];
  for (const scope of closures) {
    const named = /^Closure \((.+)\)$/.exec(scope.kind);
    if (named && scope !== moduleScope) found.push({ root: { file: url, scope: 'closure', closureOf: named[1], line }, scopeId: scope.objectId });
  }
  return found;
}

/** The elements of an array of arrays in the target, each as its RemoteObjects. */
async function tuplesOf(client: CdpClient, arrayId: string | undefined, timeoutMs: number): Promise<Array<Array<RemoteObject | undefined>>> {
  if (!arrayId) return [];
  const entries = await client.send('Runtime.getProperties', { objectId: arrayId, ownProperties: true }, timeoutMs);
  return Promise.all(entries.result.filter((p) => /^\d+$/.test(p.name) && p.value?.objectId).map(async (entry) => {
    const items = await client.send('Runtime.getProperties', { objectId: entry.value!.objectId!, ownProperties: true }, timeoutMs);
    const tuple: Array<RemoteObject | undefined> = [];
    for (const item of items.result) if (/^\d+$/.test(item.name)) tuple[Number(item.name)] = item.value;
    return tuple;
  }));
}

/** The closures of app functions met as callbacks (a route handler a factory made): roots of a second walk. */
export async function prepareClosureRoots(
  client: CdpClient, group: string, timeoutMs: number, functions: Array<{ objectId: string; location: SourceLocation }>,
): Promise<PreparedRoots | undefined> {
  const found: Array<{ root: HolderRoot; scopeId: string }> = [];
  for (const fn of functions) {
    // "Closure (usersHandler)": the factory's variables; and the module's own scope (an entry
    // module that exports nothing was not among the first walk's roots).
    for (const { root, scopeId } of outerScopes(await scopesOf(client, fn.objectId, timeoutMs), fn.location.url, fn.location.line)) {
      found.push({ root: root.scope === 'closure' ? { ...root, via: fn.location } : root, scopeId });
    }
  }
  return found.length === 0 ? undefined : packRoots(client, group, timeoutMs, found);
}

async function packRoots(client: CdpClient, group: string, timeoutMs: number, found: Array<{ root: HolderRoot; scopeId: string }>): Promise<PreparedRoots | undefined> {
  const anchor = found[0]!.scopeId;
  const array = await client.send('Runtime.callFunctionOn', {
    functionDeclaration: listOf.toString(), objectId: anchor, arguments: found.map((f) => ({ objectId: f.scopeId })), objectGroup: group,
  }, timeoutMs);
  const isProxy = await referenceInTarget(client, proxyTest, [], group, timeoutMs).catch(bestEffort('finding util.types.isProxy', undefined));
  if (!array.result.objectId || !isProxy?.objectId) return undefined;
  const edgesId = process.env.RELOAD_DOCTOR_NO_INFERENCE === '1' ? undefined
    : await followPrivateFields(client, group, timeoutMs, array.result.objectId, isProxy.objectId).catch(bestEffort('reading #private fields', undefined));
  return { arrayId: array.result.objectId, isProxyId: isProxy.objectId, roots: found.map((f) => f.root), edgesId };
}

async function scopesOf(client: CdpClient, functionId: string, timeoutMs: number): Promise<Array<{ kind: string; objectId: string }>> {
  const props = await client.send('Runtime.getProperties', { objectId: functionId, ownProperties: true }, timeoutMs);
  const scopes = props.internalProperties?.find((p) => p.name === '[[Scopes]]')?.value?.objectId;
  if (!scopes) return [];
  const list = await client.send('Runtime.getProperties', { objectId: scopes, ownProperties: true }, timeoutMs);
  return (list.result ?? []).flatMap((s) => (s.value?.objectId ? [{ kind: String(s.value.description ?? ''), objectId: s.value.objectId }] : []));
}

/** The way from an app variable to one resource: the keys, and the objects on it (indices into the walk's sink). */
export interface HolderPath {
  keys: string[];
  objects: number[];
}

export interface WalkResult {
  /** Resource index (the collector's item) → its holder. */
  holders: Map<number, Holder>;
  /** Resource index → the way to it (keys, and the objects on it in the walk's sink). */
  paths: Map<number, HolderPath>;
  partial: boolean;
  visited: number;
  ms: number;
}

/** The walk's JSON, named: the variable, its declaring line (read from the target's file), the path. */
export function nameHolders(json: string, roots: readonly HolderRoot[], resolver: LocationResolver, readSource: (file: string) => string | undefined): WalkResult | undefined {
  let parsed: { found?: unknown; partial?: unknown; visited?: unknown; ms?: unknown };
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  const holders = new Map<number, Holder>();
  const paths = new Map<number, HolderPath>();
  for (const entry of Array.isArray(parsed.found) ? parsed.found : []) {
    if (!Array.isArray(entry)) continue;
    const [index, rootIndex, path, objects] = entry as [unknown, unknown, unknown, unknown];
    const root = typeof rootIndex === 'number' ? roots[rootIndex] : undefined;
    if (typeof index !== 'number' || !root || !Array.isArray(path) || path.length === 0 || !path.every((k) => typeof k === 'string')) continue;
    const variable = String(path[0]).slice(0, 200);
    holders.set(index, { ...holderOf(root, variable, resolver, readSource), path: describePath(path as string[]) });
    if (Array.isArray(objects) && objects.every((o) => Number.isInteger(o) && o >= 0)) paths.set(index, { keys: (path as string[]).map((k) => k.slice(0, 200)), objects: objects as number[] });
  }
  return {
    holders,
    paths,
    partial: parsed.partial === true,
    visited: typeof parsed.visited === 'number' ? parsed.visited : 0,
    ms: typeof parsed.ms === 'number' ? parsed.ms : 0,
  };
}

/** An app variable of a root as a holder: its declaring line read from the target's file. */
export function holderOf(root: HolderRoot, variable: string, resolver: LocationResolver, readSource: (file: string) => string | undefined): Holder {
  const line = declaringLine(readSource(root.file), variable, root.line) ?? root.line ?? 1;
  return {
    variable,
    path: variable,
    location: resolver.resolve(root.file, line - 1, 0, root.closureOf),
    scope: root.scope,
    ...(root.closureOf ? { closureOf: root.closureOf } : {}),
    ...(root.via ? { via: root.via } : {}),
  };
}

/** `client.topology.s.servers…` */
export function describePath(path: readonly string[]): string {
  const steps = path.slice(0, PATH_STEPS_SHOWN).map((step, at) => (at === 0 || step.startsWith('[') || step.startsWith('get(') || step.endsWith('()') ? step : `.${step}`));
  const joined = steps.map((step, at) => (at > 0 && (step.startsWith('get(') || step.endsWith('()')) ? `.${step}` : step)).join('');
  return path.length > PATH_STEPS_SHOWN ? `${joined}…` : joined;
}

/**
 * The 1-based line that declares `name` in a module (const/let/var/function/class, or a
 * parameter), the last one at or before `before` when given; undefined when not found.
 */
export function declaringLine(source: string | undefined, name: string, before?: number): number | undefined {
  if (!source || !/^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(name)) return undefined;
  const declares = new RegExp(`(?:\\b(?:const|let|var)\\s+(?:[{[][^=]*?\\b)?${escape(name)}\\b|\\b(?:function\\*?|class)\\s+${escape(name)}\\b|\\([^)]*\\b${escape(name)}\\b[^)]*\\)\\s*(?:=>|\\{))`);
  const lines = source.split('\n');
  let found: number | undefined;
  for (let i = 0; i < lines.length && (before === undefined || i < before); i += 1) {
    if (declares.test(lines[i]!)) {
      found = i + 1;
      if (before === undefined) break;
    }
  }
  return found;
}

function escape(name: string): string {
  return name.replace(/\$/g, '\\$');
}

/** The app file as the target sees it, through its root (a container's own filesystem). */
export function targetSourceReader(pid: number): (file: string) => string | undefined {
  const cache = new Map<string, string | undefined>();
  return (file) => {
    const path = file.startsWith('file://') ? decodeURIComponent(new URL(file).pathname) : file;
    if (!cache.has(path)) cache.set(path, readTargetFile(`/proc/${pid}/root${path}`));
    return cache.get(path);
  };
}
