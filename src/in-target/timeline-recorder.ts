// Runs INSIDE a Node target, armed in the last window before the signal: records when each
// resource that held the loop at the signal lets go, with the target's own clock, while no
// inspector is open. It watches those resources themselves (the same objects the collector
// lists), polled by an unref'd pulse every few ms: a socket or server whose handle is gone, a
// child that exited, a timer cleared or fired for the last time. No async hook: one would cost
// a busy server on every request (bench/timeline.bench.mjs), this costs nothing per request.
// A listener prepended to the signal says when the app's handler runs (only if the app has
// one: a listener of ours must never replace the default action); 'beforeExit' says the loop
// became empty, 'exit' the exit. On exit the record is written to `exitFile` (no window can
// bring it out of a process that is gone). stopTimeline (or the exit, or the window's
// watchdog) takes everything out again.
// Self-contained, like everything in this folder; called with Runtime.callFunctionOn (the
// timer lists come in as an object, as for the collector).

/**
 * Where the recorder keeps its state in the target: globalThis[Symbol.for(TIMELINE_KEY)]. It is
 * the window's key + '.timeline', so the window's watchdog (inspector-window.ts) takes it out
 * too when reload-doctor never comes back.
 */
export const TIMELINE_KEY = 'reload-doctor.window.timeline';

/* eslint-disable */
declare const require: (id: string) => any;

/**
 * One event: [wall-clock ms (timeOrigin + now), what, async id or exit code].
 * what: 'armed' | 'handler' | 'end' | 'loop-empty' | 'exit'.
 */
export type TimelineEvent = [number, string, number?];

/**
 * @param asyncIds the resources open at the signal (from the snapshot just taken): their ends are recorded.
 * @param timerListMap Node's timer lists (lib/internal/timers.js), or null.
 */
export function startTimeline(this: unknown, key: string, signal: string, asyncIds: number[], timerListMap: any, exitFile: string | null, pulseMs: number): string {
  const store = globalThis as any;
  const symbol = Symbol.for(key);
  if (store[symbol]) return 'already recording';
  const load = (name: string) => (typeof (process as any).getBuiltinModule === 'function' ? (process as any).getBuiltinModule(name) : require(name));
  const fs = load('node:fs');
  const { performance } = load('node:perf_hooks');
  const clock = () => performance.timeOrigin + performance.now();
  const events: TimelineEvent[] = [[clock(), 'armed']];

  // The same ids the collector gives (collect-handles.ts): the wrap's own, or a Timeout's symbol.
  const asyncIdOf = (resource: any): number | undefined => {
    if (typeof resource?.getAsyncId === 'function') return resource.getAsyncId();
    const found = Object.getOwnPropertySymbols(resource ?? {}).find((s) => s.description === 'asyncId');
    return found ? resource[found] : undefined;
  };
  // A dgram Socket's wrap is in its state (its `_handle` getter is deprecated: DEP0112 printed in the target).
  const dgramState = (handle: any): any => {
    const key = handle !== null && typeof handle === 'object' ? Object.getOwnPropertySymbols(handle).find((symbol) => symbol.description === 'state symbol') : undefined;
    return key ? handle[key] : undefined;
  };
  const wrapOf = (handle: any): any => {
    const state = dgramState(handle);
    if (state) return state.handle ?? handle;
    if (handle?._handle) return handle._handle;
    for (const s of Object.getOwnPropertySymbols(handle ?? {})) if (handle[s]?.handle) return handle[s].handle;
    return handle;
  };
  const wanted = new Set(asyncIds);
  const watched: Array<{ id: number; gone: () => boolean }> = [];
  for (const handle of (process as any)._getActiveHandles()) {
    const id = asyncIdOf(wrapOf(handle));
    if (id === undefined || !wanted.has(id)) continue;
    // A socket, server or child whose libuv handle is gone has let go.
    watched.push({ id, gone: () => (dgramState(handle) ? dgramState(handle).handle == null : handle._handle == null) || handle.destroyed === true });
  }
  if (timerListMap && typeof timerListMap === 'object') {
    for (const listKey of Object.keys(timerListMap)) {
      const list = timerListMap[listKey];
      for (let timer = list?._idleNext; timer && timer !== list; timer = timer._idleNext) {
        const id = asyncIdOf(timer);
        if (id === undefined || !wanted.has(id)) continue;
        // Cleared (clearTimeout sets both), or a one-shot that fired.
        watched.push({ id, gone: () => timer._destroyed === true || timer._onTimeout == null });
      }
    }
  }
  const check = () => {
    for (let i = watched.length - 1; i >= 0; i--) {
      if (!watched[i]!.gone()) continue;
      events.push([clock(), 'end', watched[i]!.id]);
      watched.splice(i, 1);
    }
  };
  const pulse = setInterval(check, pulseMs);
  pulse.unref(); // it never holds the process, and the collector leaves it out
  const onSignal = () => events.push([clock(), 'handler']);
  const onBeforeExit = () => { check(); events.push([clock(), 'loop-empty']); };
  const onExit = (code: number) => {
    check();
    events.push([clock(), 'exit', code]);
    if (exitFile) {
      try { fs.writeFileSync(exitFile, JSON.stringify(events)); } catch { /* a container cannot see our file: the record is lost */ }
    }
    stop();
  };
  function stop(): TimelineEvent[] {
    clearInterval(pulse);
    process.removeListener(signal as any, onSignal);
    process.removeListener('beforeExit', onBeforeExit);
    process.removeListener('exit', onExit);
    delete store[symbol];
    return events;
  }
  // Only where the app listens already: with no listener, the default action must stay.
  const listening = process.listenerCount(signal as any) > 0;
  if (listening) process.prependListener(signal as any, onSignal);
  process.prependListener('beforeExit', onBeforeExit);
  process.prependListener('exit', onExit);
  store[symbol] = { stop: () => { check(); return stop(); }, tick: (pulse as any)._onTimeout };
  return `recording ${watched.length} of ${asyncIds.length}`;
}

/** Takes the recorder out and returns what it recorded, as JSON ('[]' when it was not armed). */
export function stopTimeline(key: string): string {
  const recorder = (globalThis as any)[Symbol.for(key)];
  return JSON.stringify(recorder ? recorder.stop() : []);
}
