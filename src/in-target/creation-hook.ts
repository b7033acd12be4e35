// Code that runs INSIDE a target started by `reload-doctor run`, at its --inspect-brk pause,
// before the app's first line. It records where each resource that can keep the event loop
// alive was created, so the report can point at the app's own line.
//
// Cost, kept small on purpose (measured in bench/run-overhead.bench.mjs):
// - Capturing a stack costs ~20 µs, and a keep-alive HTTP server creates a timer and several
//   ticks per request. So a stack is captured only for a resource created where no recorded
//   resource is running (top-level code, startup): a resource created inside another one's
//   callback just points to its creator's record, which leads back to the code that opened it.
// - Stacks are captured, not formatted: V8 formats `.stack` only when the report reads it.
// - Records point at stacks, never at other records: a timer that re-arms itself forever (a
//   driver heartbeat) cannot grow a chain.
// - Promise hooks are switched off right after (run-preload.ts): they cost more than
//   everything else together on promise-heavy code, and we do not need them.
// Self-contained, like everything in this folder: its source is sent as text.

/** Where the hook keeps its records in the target: globalThis[Symbol.for(CREATION_KEY)]. */
export const CREATION_KEY = 'reload-doctor.creation';

/* eslint-disable */
declare const require: (id: string) => any;

/** @param dropPromiseHooks switches async_hooks' promise hooks off: called once the service is ready (run-preload.ts). */
export function installCreationHook(creationKey: string, dropPromiseHooks?: () => string): string {
  const key = Symbol.for(creationKey);
  const store = globalThis as any;
  if (store[key]) return 'already installed';
  const load = (name: string) => (typeof (process as any).getBuiltinModule === 'function' ? (process as any).getBuiltinModule(name) : require(name));
  const asyncHooks = load('node:async_hooks');
  const CAPTURED = new Set([
    'Timeout', 'TCPWRAP', 'TCPSERVERWRAP', 'PIPEWRAP', 'PIPESERVERWRAP', 'UDPWRAP', 'PROCESSWRAP',
    'FSEVENTWRAP', 'STATWATCHER', 'WORKER', 'MESSAGEPORT', 'SIGNALWRAP', 'TTYWRAP',
    // Started from user code, their callbacks create the sockets' follow-up resources.
    'TCPCONNECTWRAP', 'PIPECONNECTWRAP', 'GETADDRINFOREQWRAP',
  ]);
  interface Creation { stack?: string }
  /**
   * own: captured when it was created; via: its creator's, when created inside a callback.
   * served: a connection a server accepted; ticks in its callbacks are not followed (a server
   * makes several per request, and they would all lead back to the same server.listen line).
   */
  interface CreationRecord { own?: Creation; via?: Creation; served?: boolean }
  // Keyed by async id, found through executionAsyncId(): executionAsyncResource() would make
  // Node hand every callback's resource to JS from then on, which costs a busy server half
  // its throughput. No destroy hook either (it fires for every tick: ~8 % of a server's
  // throughput); instead the map is capped: `run` watches a service for seconds or minutes,
  // and past the cap new resources simply have no creation stack.
  const MAX_RECORDS = 200_000;
  const records = new Map<number, CreationRecord>();

  // Deferred work (process.nextTick, setImmediate) passes its creator on: libraries open
  // sockets and re-arm timers in ticks (ioredis, server.listen, 'close' events). Ticks live
  // for one turn of the loop, so their links sit in a small map that is simply emptied when
  // it grows. Until the service is ready, a tick with no creator gets a stack of its own (it
  // may hold the app's line); afterwards not: a server makes several per request.
  const BRIDGES = new Set(['TickObject', 'Immediate']);
  const MAX_TICK_LINKS = 10_000;
  const tickLinks = new Map<number, CreationRecord>();
  let startingUp = true;

  // Until the service is ready, promises pass their creator on too: a pool that connects on
  // the first query (knex, Sequelize, amqp-connection-manager) opens its socket in a promise
  // job, far from the app's line that issued the query. A promise made where nothing recorded
  // runs (the app's top-level code, its async main) keeps a stack of its own; the others only
  // a link. Once the service is ready (settle) this stops, and the promise hooks go (their
  // cost on a busy server is not worth it: see run-preload.ts).
  const MAX_PROMISE_LINKS = 100_000;
  const MAX_STARTUP_MS = 120_000;
  const installedAt = Date.now();
  const promiseLinks = new Map<number, CreationRecord>();

  const SERVERS = new Set(['TCPSERVERWRAP', 'PIPESERVERWRAP']);
  const serverIds = new Set<number>();

  // Every stack captured during startup, the dead resources' too (a failed first connect): a
  // library that later re-arms its timers from promise jobs (kafkajs' retries) has no app line
  // of its own, and the first startup stack that ran through it gives the app's call into it.
  const MAX_STARTUP_STACKS = 5_000;
  const startupStacks: Creation[] = [];

  const creatorOf = (id: number) => records.get(id) ?? tickLinks.get(id) ?? promiseLinks.get(id);

  function init(asyncId: number, type: string, triggerId: number, resource: any): void {
    if (type === 'PROMISE') {
      if (!startingUp || promiseLinks.size >= MAX_PROMISE_LINKS) return;
      // A service never declared ready (no window could open) still stops paying, later.
      if (Date.now() - installedAt > MAX_STARTUP_MS) return hook.settle();
      // Only the running callback counts: a promise's trigger is its parent promise, and an
      // async function's own promise was made at its first line, while the call into the
      // library (the line that matters) is further down: that one captures its own stack.
      const creator = creatorOf(asyncHooks.executionAsyncId());
      if (creator) {
        if (!creator.served) promiseLinks.set(asyncId, creator);
        return;
      }
      promiseLinks.set(asyncId, { own: captured() });
      return;
    }
    const bridge = BRIDGES.has(type);
    if (SERVERS.has(type)) serverIds.add(asyncId);
    // Everything else (promises, HTTP messages) cannot keep the loop alive, and neither can an
    // unref'd timer (Node's own socket and keep-alive timeouts: one per request).
    if ((!CAPTURED.has(type) && !bridge) || (type === 'Timeout' && !resource.hasRef()) || records.size >= MAX_RECORDS) return;
    const context = asyncHooks.executionAsyncId();
    // The running resource made it; failing that, the one Node names as its trigger (a
    // server for the connections it accepts: those are created outside any JS callback).
    const creator = creatorOf(context) ?? creatorOf(triggerId);
    if (bridge) {
      if (creator?.served) return;
      if (creator) {
        if (tickLinks.size >= MAX_TICK_LINKS) tickLinks.clear();
        tickLinks.set(asyncId, creator);
        return;
      }
      if (!startingUp) return;
    } else if (creator) {
      const served = creator.served || serverIds.has(context) || serverIds.has(triggerId);
      // Made in a promise job while starting up (an ES module's top level, an async main):
      // its own stack holds the app's line; the promise's creator stays as the way back.
      const own = startingUp && !served && (creator === promiseLinks.get(context) || creator === promiseLinks.get(triggerId)) ? captured() : undefined;
      records.set(asyncId, { own, via: creator.own ?? creator.via, served });
      return;
    }
    (bridge ? tickLinks : records).set(asyncId, { own: captured() });
  }

  function captured(): Creation {
    const own: Creation = {};
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 30; // Node's own frames would eat the default 10
    Error.captureStackTrace(own, init);
    Error.stackTraceLimit = limit;
    if (startingUp && startupStacks.length < MAX_STARTUP_STACKS) startupStacks.push(own);
    return own;
  }

  // Never disabled: only `run` installs it, in a service it owns and kills at the end.
  asyncHooks.createHook({ init }).enable();
  const hook = {
    promiseHooks: 'on',
    /** The service is ready: stop following ticks and promises (see BRIDGES, promiseLinks). */
    settle() {
      if (!startingUp) return;
      startingUp = false;
      promiseLinks.clear();
      // startupStacks stay: the report reads them (startupStacksThrough).
      if (dropPromiseHooks) hook.promiseHooks = dropPromiseHooks();
    },
    /** The cap was reached: resources created since have no stack. */
    full: () => records.size >= MAX_RECORDS,
    /** For each npm package name, the first startup stacks (V8's text, at most `limit`) that ran through its code. */
    startupStacksThrough(names: string[], limit: number): Record<string, string[]> {
      const found: Record<string, string[]> = {};
      for (const name of names) found[name] = [];
      for (const creation of startupStacks) {
        const text = String(creation.stack ?? '');
        for (const name of names) if (found[name]!.length < limit && text.includes(`/node_modules/${name}/`)) found[name]!.push(text);
      }
      return found;
    },
    /** Where a resource was created, as V8's stack text: its own stack, or its creator's. */
    stacksOf(asyncId: number): { own?: string; via?: string } | undefined {
      const record = records.get(asyncId);
      if (!record) return undefined;
      return { own: record.own ? String(record.own.stack ?? '') : undefined, via: record.via ? String(record.via.stack ?? '') : undefined };
    },
  };
  store[key] = hook;
  return 'installed';
}

/** The service is ready: its creation hook stops following ticks (see BRIDGES above). */
export function settleCreationHook(creationKey: string): boolean {
  const hook = (globalThis as any)[Symbol.for(creationKey)];
  if (!hook) return false;
  hook.settle();
  return true;
}

/** See startupStacksThrough above; {} when no hook is installed (attach mode). */
export function startupStacksThrough(creationKey: string, names: string[], limit: number): Record<string, string[]> {
  const hook = (globalThis as any)[Symbol.for(creationKey)];
  return hook ? hook.startupStacksThrough(names, limit) : {};
}
