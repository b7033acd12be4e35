// Code that runs INSIDE a target started by `reload-doctor run`, at its --inspect-brk pause,
// before the app's first line. It records where each resource that can keep the event loop
// alive was created, so the report can point at the app's own line.
//
// Cost, kept small on purpose:
// - Promises are skipped at once (a stack per promise would double the cost of async code).
// - A stack is captured only for loop-keeping types (timers, sockets, servers, children,
//   watchers, ports); everything else only inherits its creator's record (one WeakMap write),
//   so a timer created inside a socket callback still leads back to the code that opened it.
// - Stacks are captured, not formatted: V8 formats `.stack` only when the report reads it.
// - A record keeps its own stack, its creator's and the chain's oldest one, never the whole
//   chain: a timer that re-arms itself forever (a driver heartbeat) cannot grow a list.
// Self-contained: its source is sent as text.

export const CREATION_KEY = 'reload-doctor.creation';

/* eslint-disable */
export function installCreationHook(): string {
  const key = Symbol.for('reload-doctor.creation');
  const store = globalThis as any;
  if (store[key]) return 'already installed';
  const asyncHooks = (process as any).getBuiltinModule('node:async_hooks');
  const CAPTURED = new Set([
    'Timeout', 'TCPWRAP', 'TCPSERVERWRAP', 'PIPEWRAP', 'PIPESERVERWRAP', 'UDPWRAP', 'PROCESSWRAP',
    'FSEVENTWRAP', 'STATWATCHER', 'WORKER', 'MESSAGEPORT', 'SIGNALWRAP', 'TTYWRAP',
    // Started from user code, their callbacks create the sockets' follow-up resources.
    'TCPCONNECTWRAP', 'PIPECONNECTWRAP', 'GETADDRINFOREQWRAP',
  ]);
  // Deferred work (server.listen's bind runs in a nextTick) carries its creator forward; a
  // stack is taken only when it has no creator of its own, i.e. it came from user code.
  const BRIDGES = new Set(['TickObject', 'Immediate']);
  interface Creation { stack?: string }
  interface CreationRecord { own: Creation; parent?: Creation; root?: Creation }
  const records = new WeakMap<object, CreationRecord>();

  function init(_asyncId: number, type: string, _triggerId: number, resource: object): void {
    if (type === 'PROMISE') return;
    const creator = records.get(asyncHooks.executionAsyncResource());
    if (creator && !CAPTURED.has(type)) {
      records.set(resource, creator);
      return;
    }
    if (!creator && !CAPTURED.has(type) && !BRIDGES.has(type)) return;
    const own: Creation = {};
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 30; // Node's own frames would eat the default 10
    Error.captureStackTrace(own, init);
    Error.stackTraceLimit = limit;
    records.set(resource, creator ? { own, parent: creator.own, root: creator.root ?? creator.parent ?? creator.own } : { own });
  }

  const hook = asyncHooks.createHook({ init }).enable();
  store[key] = {
    /** The creation stacks of a resource (own first), as text. */
    stacksOf(resource: object): string[] {
      const record = resource ? records.get(resource) : undefined;
      if (!record) return [];
      const seen = new Set<Creation>();
      const out: string[] = [];
      for (const creation of [record.own, record.parent, record.root]) {
        if (!creation || seen.has(creation)) continue;
        seen.add(creation);
        out.push(String(creation.stack ?? ''));
      }
      return out;
    },
    disable() {
      hook.disable();
      delete store[key];
    },
  };
  return 'installed';
}
