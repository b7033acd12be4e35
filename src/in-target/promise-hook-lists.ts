// Runs INSIDE a target `run` started, right after the creation hook is installed: empties
// Node's private promise-hook lists when ours is the only async hook (why: inspect/promise-hooks.ts).
// Self-contained, like everything in this folder.

/* eslint-disable */
export function emptyPromiseHookLists(this: unknown, hooks: any, update: any): string {
  const lists = ['init', 'before', 'after', 'settled'].map((name) => hooks?.[name]);
  if (typeof update !== 'function' || lists.some((list) => !Array.isArray(list))) return 'unexpected shape';
  // Exactly the set async_hooks registers for one hook: init, before, after (settled only with promiseResolve).
  if (lists[0].length !== 1 || lists[1].length !== 1 || lists[2].length !== 1 || lists[3].length > 1) return 'other promise hooks present';
  for (const list of lists) list.length = 0;
  update();
  return 'dropped';
}
