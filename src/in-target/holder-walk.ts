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
 * paths first. Returns JSON: found as [wanted index, root index, path keys], and whether a
 * bound was hit.
 */
export function findHolders(wanted: unknown[], roots: unknown[], isProxy: (value: unknown) => boolean, budgetMs: number, maxVisited: number, maxDepth: number): string {
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
  const found: Array<[number, number, string[]]> = [];
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
      found.push([hit, rootOf[at]!, pathOf(at)]);
      targets.delete(object);
      if (targets.size === 0) break;
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
        if (key === 'prototype' || key === 'constructor') continue;
        const descriptor = Object.getOwnPropertyDescriptor(object, key);
        if (descriptor && 'value' in descriptor) add(descriptor.value, at, keyText(key), root, depth);
      }
    } catch {
      // an exotic object that refuses to be read: not followed
    }
  }
  return JSON.stringify({ found, partial, visited: nodes.length, ms: Date.now() - started });
}
