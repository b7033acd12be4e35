import { packageLabel } from '../../core/format.js';
import type { SourceLocation, StackFrame } from '../../core/types.js';
import type { Rule } from '../rule.js';

/** Node's module loader: every sample inside it means the thread is loading modules, again and again. */
const LOADER = /^node:internal\/modules\//;

/**
 * A spinning main thread never returns to the event loop, so no handler or close() runs. With
 * several samples, the frames most of them passed through say what it keeps doing: its function
 * and package (a reconnect or retry storm inside a library), or Node's module loader (a
 * require() that fails, retried in a loop).
 */
export const busyMainThread: Rule = {
  id: 'busy-main-thread',
  explain(_handles, snapshot) {
    const stack = snapshot.busyStack;
    if (!stack || stack.length === 0) return [];
    const common = snapshot.busyCommon;
    const frames = common?.frames.length ? common.frames : stack;
    const appFrame = (list: StackFrame[]) => list.find((frame) => frame.location && !frame.location.internal && !frame.location.package);
    const where = appFrame(frames)?.location ?? frames.find((frame) => frame.location && !frame.location.internal)?.location ?? stack[0]?.location;
    const repeated = common?.frames.length ? common.frames.find((frame) => frame.location && !frame.location.internal) : undefined;
    const fn = (repeated ?? stack[0])?.functionName ?? '(anonymous)';
    const library = repeated?.location?.package;
    const loader = common?.frames.find((frame) => LOADER.test(frame.location?.url ?? ''));
    const loading = loader !== undefined;
    const seen = common ? ` (in ${(loader ?? repeated ?? common.frames[0])?.seen ?? common.samples} of ${common.samples} samples)` : '';
    return [{
      title: `main thread busy in ${fn}${library ? ` (${packageLabel(library)})` : ''}${loading ? ', loading a module again and again' : ''}`,
      severity: 'blocks',
      location: where,
      why: loading
        ? `the main thread is running at ~100 % CPU inside Node's module loader${seen}, called from ${at(where)}: a require() or import that fails and is retried in a loop; the event loop never gets a turn, so nothing else (timers, close callbacks, exit) can run`
        : library
          ? `the main thread is running at ~100 % CPU in ${fn} of ${packageLabel(library)}${seen}, called from ${at(where)}: a retry or reconnect loop with no pause in between; the event loop never gets a turn, so nothing else (timers, close callbacks, exit) can run`
          : `the main thread is running JavaScript at ~100 % CPU${seen}: the event loop never gets a turn, so nothing else (timers, close callbacks, exit) can run`,
      fix: loading
        ? 'let the failing require() fail once (catch it and give up, or load it lazily), or retry it with a delay (setTimeout) so the event loop runs between tries'
        : library
          ? `retry with a delay (setTimeout or the library's own backoff option) instead of a tight loop, and check a shutdown flag between tries`
          : 'break the synchronous loop into chunks (await between iterations) or check a shutdown flag inside it',
      handles: [],
    }];
  },
};

function at(location: SourceLocation | undefined): string {
  return location ? `${location.file}:${location.line}` : 'an unknown place';
}
