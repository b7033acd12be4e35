// Inside a Node target: the state of the connection pools that reap their idle connections
// themselves (tarn under knex, sequelize-pool under Sequelize). Their timers say only "every
// second"; whether the pool ever lets go depends on its min and on how long each idle
// connection has been idle, which only the pool object knows.
// Self-contained, like everything in this folder; it reads plain fields, never calls the pool.

/* eslint-disable */
declare const require: (id: string) => any;

/** Which pool classes this module understands, by the file that defines them. */
export const POOL_FILES = {
  tarn: '/tarn/dist/Pool.js',
  'sequelize-pool': '/sequelize-pool/lib/Pool.js',
} as const;

export type PoolPackage = keyof typeof POOL_FILES;

/** The prototypes of the pool classes the process has loaded (one per copy on disk), with their package. */
export function poolPrototypes(files: Record<string, string>): { prototypes: object[]; packages: string[] } {
  const prototypes: object[] = [];
  const packages: string[] = [];
  let cache: Record<string, any> | undefined;
  try {
    const moduleBuiltin = (process as any).getBuiltinModule?.('module') ?? require('module');
    cache = moduleBuiltin?._cache;
  } catch { cache = undefined; }
  if (!cache) return { prototypes, packages };
  for (const file of Object.keys(cache)) {
    for (const name of Object.keys(files)) {
      if (!file.endsWith(files[name]!)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(cache[file]?.exports ?? {}, 'Pool');
      const Pool = descriptor && 'value' in descriptor ? descriptor.value : undefined;
      if (typeof Pool === 'function' && Pool.prototype) { prototypes.push(Pool.prototype); packages.push(name); }
    }
  }
  return { prototypes, packages };
}

/**
 * The state of each pool in `pools` (instances found by Runtime.queryObjects), as JSON: the
 * fields of core's PoolState. lettingGoInMs: when the last idle connection is reaped and the
 * pool stops its timer; null when it never is (min > 0, or a connection in use).
 */
export function describePools(pools: any[], packageName: string): string {
  const now = Date.now();
  const number = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);
  const states: object[] = [];
  for (const pool of pools.slice(0, 50)) {
    try {
      if (packageName === 'tarn') {
        if (pool.destroyed || !pool.interval) continue; // not reaping: holds nothing
        const free: any[] = Array.isArray(pool.free) ? pool.free : [];
        const used = Array.isArray(pool.used) ? pool.used.length : 0;
        const min = number(pool.min, 0);
        const idle = number(pool.idleTimeoutMillis, 30000);
        const reap = number(pool.reapIntervalMillis, 1000);
        const lastIdleSince = Math.max(...free.map((f) => number(f?.timestamp, now)), -Infinity);
        // tarn destroys idle connections beyond max(min - used, 0); the timer stops once the pool is empty.
        const lettingGoInMs = min > 0 || used > 0 || free.length === 0 ? null : Math.max(0, lastIdleSince + idle - now) + reap;
        states.push({ package: packageName, min, size: free.length + used, inUse: used, idleTimeoutMs: idle, lettingGoInMs });
      } else {
        if (pool._draining) continue;
        const available: any[] = Array.isArray(pool._availableObjects) ? pool._availableObjects : [];
        const size = number(pool._count, available.length);
        const min = number(pool.minSize, 0);
        const reap = number(pool.reapIntervalMillis, 1000);
        const lastTimeout = Math.max(...available.map((a) => number(a?.timeout, now)), -Infinity);
        const inUse = Math.max(0, size - available.length);
        const lettingGoInMs = min > 0 || inUse > 0 || available.length === 0 ? null : Math.max(0, lastTimeout - now) + reap;
        states.push({ package: packageName, min, size, inUse, idleTimeoutMs: number(pool.idleTimeoutMillis, 30000), lettingGoInMs });
      }
    } catch { /* a pool we cannot read is left out */ }
  }
  return JSON.stringify(states);
}
