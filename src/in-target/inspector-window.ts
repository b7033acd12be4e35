// Runs INSIDE a Node target whose inspector reload-doctor opened: keeps the window short and
// closes it behind us, even if reload-doctor dies. Self-contained, like everything in this
// folder; builtins come from process.getBuiltinModule, or on Node 18 from the `require` that an
// evaluation with includeCommandLineAPI provides.
//
// - The first window sets process.debugPort = 0, so every later SIGUSR1 opens the inspector on
//   an ephemeral port (never 9229 again: no clash with another probe, nothing to guess).
// - A watchdog (an unref'd interval: it never keeps the target alive, and the collector does
//   not list it) closes an open inspector that reload-doctor stopped petting for `staleMs`
//   (counted from the later of the last pet and the moment it saw the inspector open, so the
//   next window has time to connect): a reload-doctor that was killed, or an inspector that
//   opened after it gave up waiting (a main thread that was blocked when SIGUSR1 came). With
//   no inspector open and no pet for `idleMs` it removes itself. Either way it puts
//   process.debugPort back as it was.
// - The last window of a run puts everything back itself (closeWindow with final = true).
// - A cluster primary whose inspector opens tells Node's cluster module to open every worker's
//   inspector too (it emits 'internalMessage' NODE_DEBUG_ENABLED, and the cluster module sends
//   each worker SIGUSR1 through process._debugProcess): inspectors nobody would close.
//   quietClusterDebugging stops that while reload-doctor is attached; closeWindow(final) undoes it.

/** Where the watchdog keeps its state in the target: globalThis[Symbol.for(WINDOW_KEY)]. */
export const WINDOW_KEY = 'reload-doctor.window';

/* eslint-disable */
declare const require: (id: string) => any;

export interface WindowState {
  /** process.debugPort before reload-doctor changed it. */
  debugPort: number;
  /** The watchdog's interval callback, so the collector can leave it out. */
  tick: Function;
}

export function armWatchdog(key: string, staleMs: number, idleMs: number): { debugPortBefore: number } {
  const load = (name: string) => (typeof (process as any).getBuiltinModule === 'function' ? (process as any).getBuiltinModule(name) : require(name));
  const inspector = load('node:inspector');
  const store = globalThis as any;
  const symbol = Symbol.for(key);
  const now = () => Number(process.hrtime.bigint() / 1_000_000n);
  let state = store[symbol];
  if (!state) {
    state = { debugPort: process.debugPort, lastPet: now(), seenOpen: undefined, timer: undefined, tick: undefined };
    const stop = () => {
      clearInterval(state.timer);
      delete store[symbol];
      process.debugPort = state.debugPort;
      store[Symbol.for(`${key}.cluster`)]?.();
      store[Symbol.for(`${key}.timeline`)]?.stop(); // timeline-recorder.ts
    };
    state.tick = function reloadDoctorWatchdog() {
      const open = inspector.url() !== undefined;
      if (!open) state.seenOpen = undefined;
      else state.seenOpen ??= now();
      const quiet = now() - Math.max(state.lastPet, state.seenOpen ?? 0);
      if (open && quiet >= staleMs) {
        stop();
        inspector.close();
      } else if (!open && quiet >= idleMs) {
        stop();
      }
    };
    state.timer = setInterval(state.tick, Math.max(50, Math.min(250, Math.floor(staleMs / 4))));
    state.timer.unref();
    store[symbol] = state;
  }
  state.lastPet = now();
  process.debugPort = 0;
  return { debugPortBefore: state.debugPort };
}

/** Where quietClusterDebugging keeps its undo: globalThis[Symbol.for(`${key}.cluster`)]. */
export function quietClusterDebugging(key: string): string {
  const store = globalThis as any;
  const symbol = Symbol.for(`${key}.cluster`);
  const proc = process as any;
  if (store[symbol] || typeof proc._debugProcess !== 'function') return 'kept';
  const original = proc._debugProcess;
  let propagating = false;
  // Runs first among the listeners of the one synchronous emit, right before the cluster's own.
  const onInternalMessage = (message: any) => {
    if (message?.cmd !== 'NODE_DEBUG_ENABLED') return;
    propagating = true;
    queueMicrotask(() => { propagating = false; });
  };
  proc._debugProcess = function debugProcess(this: unknown, ...args: unknown[]) {
    if (propagating) return undefined;
    return original.apply(this, args);
  };
  process.prependListener('internalMessage' as any, onInternalMessage);
  store[symbol] = () => {
    proc._debugProcess = original;
    process.removeListener('internalMessage' as any, onInternalMessage);
    delete store[symbol];
  };
  return 'quiet';
}

/** reload-doctor is still there: the window stays open. */
export function petWatchdog(key: string): boolean {
  const state = (globalThis as any)[Symbol.for(key)];
  if (!state) return false;
  state.lastPet = Number(process.hrtime.bigint() / 1_000_000n);
  return true;
}

/**
 * Closes the inspector (our session's socket drops within a few ms). `final`: reload-doctor is
 * done with this target: the watchdog goes and process.debugPort is put back.
 */
export function closeWindow(key: string, final: boolean): void {
  const load = (name: string) => (typeof (process as any).getBuiltinModule === 'function' ? (process as any).getBuiltinModule(name) : require(name));
  const inspector = load('node:inspector');
  const store = globalThis as any;
  const state = store[Symbol.for(key)];
  if (state) {
    state.lastPet = Number(process.hrtime.bigint() / 1_000_000n);
    if (final) {
      clearInterval(state.timer);
      delete store[Symbol.for(key)];
      process.debugPort = state.debugPort;
    }
  }
  if (final) {
    store[Symbol.for(`${key}.cluster`)]?.();
    store[Symbol.for(`${key}.timeline`)]?.stop(); // timeline-recorder.ts
  }
  inspector.close();
}
