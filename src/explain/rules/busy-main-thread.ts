import type { Rule } from '../rule.js';

/** A spinning main thread never returns to the event loop, so no handler or close() runs. */
export const busyMainThread: Rule = {
  id: 'busy-main-thread',
  explain(_handles, snapshot) {
    const stack = snapshot.busyStack;
    if (!stack || stack.length === 0) return [];
    const where = stack.find((frame) => frame.location && !frame.location.internal)?.location ?? stack[0]?.location;
    const fn = stack[0]?.functionName ?? '(anonymous)';
    return [{
      title: `main thread busy in ${fn}`,
      severity: 'blocks',
      location: where,
      why: 'the main thread is running JavaScript at ~100 % CPU: the event loop never gets a turn, so nothing else (timers, close callbacks, exit) can run',
      fix: 'break the synchronous loop into chunks (await between iterations) or check a shutdown flag inside it',
      handles: [],
    }];
  },
};
