// Runs INSIDE the target: who in the app holds a library's resource (attach mode, where no
// creation stack says which client was never closed). Self-contained, like everything in this
// folder (test/unit/in-target.test.ts proves it).
//
// The walk is top-down and breadth-first, from the app's own scopes (handed in: only the
// inspector can open a closure) to the resources the collector listed, in the same call as the
// listing: mongodb re-creates its pool timer every 100 ms, and a timer listed in one call is
// gone from the client by the next. It reads own property descriptors only (never a getter),
// skips Proxies (their traps are app code), caps Maps, Sets and arrays, and stops at a time
// budget or a count of objects, saying "partial".

/* eslint-disable */
declare const require: any;

/**
 * One function of each CommonJS module of the app (outside node_modules): its [[Scopes]] hold
 * the module's variables that some closure captures. Evaluated with the console's command-line
 * API, whose `require` has the process's module cache (require.cache).
 */
export function appModuleFunctions(maxModules: number): Array<[string, Function]> {
  const found: Array<[string, Function]> = [];
  const cache = typeof require === 'function' && require.cache ? require.cache : {};
  for (const file of Object.keys(cache)) {
    if (found.length >= maxModules) break;
    if (file.includes('/node_modules/') || !file.startsWith('/')) continue;
    const exported = cache[file]?.exports;
    let fn: Function | undefined = typeof exported === 'function' ? exported : undefined;
    if (!fn && exported !== null && typeof exported === 'object') {
      for (const key of Object.keys(exported)) {
        const descriptor = Object.getOwnPropertyDescriptor(exported, key);
        if (descriptor && typeof descriptor.value === 'function') { fn = descriptor.value; break; }
      }
    }
    if (fn) found.push([file, fn]);
  }
  return found;
}

/**
 * The app's process listeners (SIGTERM, SIGINT, exit, uncaughtException…): functions written at
 * a module's top level, so their [[Scopes]] hold that module's variables — the entry module's
 * too, which exports nothing (no exported function leads into it). Read from _events by
 * descriptor: no listeners() call, no getter.
 */
export function processListenerFunctions(maxFunctions: number): Function[] {
  const found: Function[] = [];
  const events = Object.getOwnPropertyDescriptor(process, '_events')?.value;
  if (events === null || typeof events !== 'object') return found;
  for (const name of Object.keys(events)) {
    const held = Object.getOwnPropertyDescriptor(events, name)?.value;
    for (const listener of Array.isArray(held) ? held : [held]) {
      if (found.length >= maxFunctions) return found;
      const inner = typeof listener === 'function' ? Object.getOwnPropertyDescriptor(listener, 'listener')?.value : undefined;
      const fn = typeof inner === 'function' ? inner : listener;
      if (typeof fn === 'function' && !found.includes(fn)) found.push(fn);
    }
  }
  return found;
}

/**
 * The ES modules of the app (outside node_modules): url, namespace (its exports) and one exported
 * function (its [[Scopes]] hold the module's other variables). Called on Node's internal require
 * (found in the closure of node:module's register()): the ESM loader's cache, as Node 20-26 keep
 * it. A loader it does not know (Node 18's): null.
 */
export function esmAppModules(this: (id: string) => any, maxModules: number): Array<[string, object, Function | null]> | null {
  const found: Array<[string, object, Function | null]> = [];
  let cache: any;
  try {
    cache = this('internal/modules/esm/loader').getOrInitializeCascadedLoader().loadCache;
  } catch {
    return null;
  }
  if (!cache || typeof cache[Symbol.iterator] !== 'function') return null;
  for (const [url, byType] of cache) {
    if (found.length >= maxModules) break;
    if (typeof url !== 'string' || !url.startsWith('file://') || url.includes('/node_modules/')) continue;
    const job = byType && (byType.javascript ?? Object.values(byType)[0]);
    let namespace: any;
    try { namespace = job?.module?.getNamespace?.(); } catch { continue; }
    if (!namespace) continue;
    let fn: Function | null = null;
    for (const key of Reflect.ownKeys(namespace)) {
      try {
        const descriptor = Object.getOwnPropertyDescriptor(namespace, key);
        if (descriptor && typeof descriptor.value === 'function') { fn = descriptor.value; break; }
      } catch {
        // not initialised yet (a cycle): no function from it
      }
    }
    found.push([url, namespace, fn]);
  }
  return found;
}

/**
 * The roots' variables whose values are class instances (not plain objects or arrays), or
 * functions carrying a closing method of their own (a client made by a factory: postgres.js's
 * `sql`), as [root index, name, value]: the app's open library objects. #private fields may
 * hide the way from them to a resource (only the inspector reads those: holders.ts), and one
 * that reaches no resource the walk can see may still own one (owner-inference.ts).
 */
export function classInstancesIn(roots: unknown[], isProxy: (value: unknown) => boolean, max: number): Array<[number, string, unknown]> {
  const CLOSERS = ['close', 'end', 'quit', 'stop', 'shutdown', 'destroy', 'disconnect', 'terminate'];
  const found: Array<[number, string, unknown]> = [];
  const seen = new Set<unknown>();
  for (let r = 0; r < roots.length; r++) {
    const scope = roots[r];
    if (scope === null || typeof scope !== 'object') continue;
    for (const name of Object.keys(scope)) {
      if (found.length >= max) return found;
      const descriptor = Object.getOwnPropertyDescriptor(scope, name);
      const value = descriptor && 'value' in descriptor ? descriptor.value : undefined;
      if (value === null || seen.has(value) || isProxy(value)) continue;
      if (typeof value === 'object' && ArrayBuffer.isView(value)) continue;
      if (typeof value === 'function') {
        const closes = CLOSERS.some((key) => { const own = Object.getOwnPropertyDescriptor(value, key); return own !== undefined && typeof own.value === 'function'; });
        if (!closes) continue;
      } else if (typeof value !== 'object' || Array.isArray(value)) {
        continue;
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto === null || proto === Object.prototype) continue;
      }
      seen.add(value);
      found.push([r, name, value]);
    }
  }
  return found;
}

/** Each open library object handed to the owner inference: its place in the walk's sink. Returns JSON [[root, name, index]]. */
export function collectInstances(this: { pathObjects?: unknown[] }, instances: Array<[number, string, unknown]>): string {
  const sink = this.pathObjects ?? (this.pathObjects = []);
  const placed: Array<[number, string, number]> = [];
  for (const [root, name, value] of instances) placed.push([root, name, sink.push(value) - 1]);
  return JSON.stringify(placed);
}

/**
 * For each object, whether the inspector may list its fields (Runtime.getProperties sends every
 * own value whole): not an array or a typed array (a Buffer's bytes are its fields), at most 200
 * own keys, no own string longer than 16 KB. Own descriptors only; one call for a whole batch.
 */
export function fieldsAreSmall(...objects: unknown[]): boolean[] {
  const small = (object: unknown): boolean => {
    if (object === null || (typeof object !== 'object' && typeof object !== 'function') || Array.isArray(object) || ArrayBuffer.isView(object)) return false;
    const keys = Reflect.ownKeys(object);
    if (keys.length > 200) return false;
    for (const key of keys) {
      const descriptor = Object.getOwnPropertyDescriptor(object, key);
      if (descriptor && typeof descriptor.value === 'string' && descriptor.value.length > 16 * 1024) return false;
    }
    return true;
  };
  const answers: boolean[] = [];
  for (const object of objects) {
    try { answers.push(small(object)); } catch { answers.push(false); }
  }
  return answers;
}

/** The #private edges the inspector read, as the walk takes them: object → [[#name, value]…]. Arguments come in threes. */
export function privateEdgeMap(...flat: unknown[]): Map<unknown, Array<[string, unknown]>> {
  const edges = new Map<unknown, Array<[string, unknown]>>();
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const list = edges.get(flat[i]) ?? [];
    list.push([String(flat[i + 1]), flat[i + 2]]);
    edges.set(flat[i], list);
  }
  return edges;
}

/** util.types.isProxy, for the walk: a Proxy's traps would run app code. */
export function proxyTest(): (value: unknown) => boolean {
  return require('util').types.isProxy;
}

/**
 * The scope objects handed in by the inspector, as one array the collector's call can take. An
 * entry of [[Scopes]] arrives as { description, object }: its variables are in `object`.
 */
export function listOf(...values: unknown[]): unknown[] {
  const SCOPE_ENTRY_KEYS = ['description', 'object', 'name', 'type', 'startLocation', 'endLocation'];
  return values.map((value: any) => {
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    const inner = Object.getOwnPropertyDescriptor(value, 'object');
    const wrapper = keys.includes('description') && keys.every((key) => SCOPE_ENTRY_KEYS.includes(key));
    return wrapper && inner && 'value' in inner ? inner.value : value;
  });
}

/**
 * From each root (a scope object: its keys are variable names) to the wanted objects, shortest
 * paths first. Returns JSON: found as [wanted index, root index, path keys(, path objects)], and
 * whether a bound was hit. With a `sink`, the objects on each path (the variable's value first,
 * the resource last) go into it and each path names them by their index there: what owns
 * the resource is read from them afterwards (owner-facts.ts). A wanted object is a match, not a way on: the
 * walk never goes through one resource to reach another (a timer list's neighbour).
 */
export function findHolders(wanted: unknown[], roots: unknown[], isProxy: (value: unknown) => boolean, budgetMs: number, maxVisited: number, maxDepth: number, sink?: unknown[] | null, privateEdges?: Map<unknown, Array<[string, unknown]>> | null): string {
  const started = Date.now();
  const targets = new Map<unknown, number>();
  for (let i = 0; i < wanted.length; i++) {
    const value = wanted[i];
    if (value !== null && (typeof value === 'object' || typeof value === 'function') && !targets.has(value)) targets.set(value, i);
  }
  const PER_CONTAINER = 1000;
  const PER_OBJECT = 2000;
  // The whole process is reachable from these: never walked into (the app's roots are enough).
  const seen = new Set<unknown>([globalThis, process, (globalThis as any).require, (globalThis as any).module]);
  const nodes: unknown[] = [];
  const parents: number[] = [];
  const keys: string[] = [];
  const rootOf: number[] = [];
  const depths: number[] = [];
  const found: Array<[number, number, string[]] | [number, number, string[], number[]]> = [];
  const sinkIndex = new Map<unknown, number>();
  const objectsOf = (at: number): number[] => {
    const indices: number[] = [];
    if (!sink) return indices;
    for (let node = at; node >= 0; node = parents[node]!) {
      let index = sinkIndex.get(nodes[node]);
      if (index === undefined) { index = sink.length; sink.push(nodes[node]); sinkIndex.set(nodes[node], index); }
      indices.push(index);
    }
    return indices.reverse();
  };
  // Node's timer lists link every timer of one duration to the next: the runtime's links, not the app's.
  const RUNTIME_LINKS = new Set(['_idlePrev', '_idleNext']);
  const add = (value: unknown, parent: number, key: string, root: number, depth: number) => {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) return;
    seen.add(value);
    nodes.push(value);
    parents.push(parent);
    keys.push(key);
    rootOf.push(root);
    depths.push(depth);
  };
  const keyText = (key: string | symbol) => (typeof key === 'symbol' ? `[${key.description ?? 'symbol'}]` : /^\d+$/.test(key) ? `[${key}]` : key);
  const isMap = (value: any) => { try { Map.prototype.has.call(value, undefined); return true; } catch { return false; } };
  const isSet = (value: any) => { try { Set.prototype.has.call(value, undefined); return true; } catch { return false; } };
  // The module wrapper's own variables lead everywhere (module.children, require.cache): not holders.
  const MODULE_VARIABLES = new Set(['require', 'module', 'exports', '__filename', '__dirname']);

  for (let r = 0; r < roots.length; r++) {
    const scope = roots[r];
    if (scope === null || typeof scope !== 'object') continue;
    for (const name of Object.keys(scope)) {
      if (MODULE_VARIABLES.has(name)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(scope, name);
      if (descriptor && 'value' in descriptor) add(descriptor.value, -1, name, r, 1);
    }
  }
  // A root's variables have no parent: each carries its own name, the path's first key.
  const pathOf = (at: number): string[] => {
    const path: string[] = [];
    let node = at;
    while (node >= 0) { path.push(keys[node]!); node = parents[node]!; }
    return path.reverse();
  };
  let partial = false;
  for (let at = 0; at < nodes.length; at++) {
    if (at >= maxVisited || ((at & 255) === 0 && Date.now() - started > budgetMs)) { partial = true; break; }
    const object: any = nodes[at];
    const hit = targets.get(object);
    if (hit !== undefined) {
      found.push(sink ? [hit, rootOf[at]!, pathOf(at), objectsOf(at)] : [hit, rootOf[at]!, pathOf(at)]);
      targets.delete(object);
      if (targets.size === 0) break;
      continue;
    }
    if (depths[at]! >= maxDepth) continue;
    try {
      if (isProxy(object) || ArrayBuffer.isView(object)) continue;
      const depth = depths[at]! + 1;
      const root = rootOf[at]!;
      if (isMap(object)) {
        let n = 0;
        for (const [key, value] of Map.prototype.entries.call(object) as IterableIterator<[unknown, unknown]>) {
          if (n++ >= PER_CONTAINER) break;
          const label = typeof key === 'string' || typeof key === 'number' ? `get(${JSON.stringify(key)})` : 'get(…)';
          add(key, at, 'keys()', root, depth);
          add(value, at, label, root, depth);
        }
        continue;
      }
      if (isSet(object)) {
        let n = 0;
        for (const value of Set.prototype.values.call(object) as IterableIterator<unknown>) {
          if (n++ >= PER_CONTAINER) break;
          add(value, at, 'values()', root, depth);
        }
        continue;
      }
      const own = Reflect.ownKeys(object);
      const limit = Array.isArray(object) ? PER_CONTAINER : PER_OBJECT;
      for (let k = 0; k < own.length && k < limit; k++) {
        const key = own[k]!;
        if (key === 'prototype' || key === 'constructor' || RUNTIME_LINKS.has(key as string)) continue;
        const descriptor = Object.getOwnPropertyDescriptor(object, key);
        if (descriptor && 'value' in descriptor) add(descriptor.value, at, keyText(key), root, depth);
      }
      const hidden = privateEdges ? privateEdges.get(object) : undefined;
      if (hidden) for (const [key, value] of hidden) add(value, at, key, root, depth);
    } catch {
      // an exotic object that refuses to be read: not followed
    }
  }
  return JSON.stringify({ found, partial, visited: nodes.length, ms: Date.now() - started });
}
