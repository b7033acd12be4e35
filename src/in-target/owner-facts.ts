// Runs INSIDE the target: what the objects on a holder's path are (attach and run mode), so that
// the owner of a resource and its real close call are read from the live objects rather than
// from a rule: each object's class, the function that made it (whose script says its package),
// and the closing methods its prototype chain has. Self-contained, like everything in this
// folder (test/unit/in-target.test.ts proves it).

/* eslint-disable */

/**
 * For each object: [class name, index of its constructor in `functions` (-1: none; a function
 * stands for itself), closing
 * methods as [name, index in `functions`, arity]]. Own property descriptors only (no getter,
 * no Proxy trap: a Proxy anywhere on a prototype chain ends the reading there); the same
 * function is listed once. `functions` is handed back for the inspector to locate and read.
 */
export function describeOwners(objects: unknown[], isProxy: (value: unknown) => boolean, maxObjects: number): { json: string; functions: Function[] } {
  const CLOSERS = ['close', 'end', 'quit', 'stop', 'shutdown', 'tryShutdown', 'forceShutdown', 'drain', 'clear', 'terminate', 'disconnect', 'destroy', 'dispose', 'kill', 'cancel', 'unwatch'];
  const MAX_PROTOTYPES = 8;
  const functions: Function[] = [];
  const indexOf = new Map<Function, number>();
  const listed = (fn: Function): number => {
    let index = indexOf.get(fn);
    if (index === undefined) { index = functions.length; functions.push(fn); indexOf.set(fn, index); }
    return index;
  };
  const own = (object: object, key: string): unknown => {
    const descriptor = Object.getOwnPropertyDescriptor(object, key);
    return descriptor && 'value' in descriptor ? descriptor.value : undefined;
  };
  const described: Array<[string, number, Array<[string, number, number]>]> = [];
  for (let i = 0; i < objects.length && i < maxObjects; i++) {
    const object = objects[i];
    let className = '';
    let ctor = -1;
    const closers: Array<[string, number, number]> = [];
    // The nearest definition of a name wins, as a call would find it.
    const addCloser = (name: string, fn: Function) => {
      if (closers.some((c) => c[0] === name)) return;
      const arity = own(fn, 'length');
      closers.push([name, listed(fn), typeof arity === 'number' ? arity : 0]);
    };
    try {
      if (typeof object === 'function' && !isProxy(object)) {
        // A client a factory made (postgres.js's `sql`): the function itself says where it was made.
        ctor = listed(object);
        for (const name of CLOSERS) {
          const fn = own(object, name);
          if (typeof fn === 'function') addCloser(name, fn);
        }
      } else if (object !== null && typeof object === 'object' && !isProxy(object)) {
        // Methods a constructor set on the instance itself (`this.close = …`) come first.
        for (const name of CLOSERS) {
          const fn = own(object, name);
          if (typeof fn === 'function') addCloser(name, fn);
        }
        let proto = Object.getPrototypeOf(object);
        for (let depth = 0; proto !== null && proto !== Object.prototype && depth < MAX_PROTOTYPES; depth++) {
          if (isProxy(proto)) break;
          const made = own(proto, 'constructor');
          if (depth === 0 && typeof made === 'function') {
            const name = own(made, 'name');
            className = typeof name === 'string' ? name.slice(0, 100) : '';
            ctor = listed(made);
          }
          for (const name of CLOSERS) {
            const fn = own(proto, name);
            if (typeof fn === 'function') addCloser(name, fn);
          }
          proto = Object.getPrototypeOf(proto);
        }
      }
    } catch {
      // an exotic object that refuses to be read: described as far as it went
    }
    described.push([className, ctor, closers]);
  }
  return { json: JSON.stringify(described), functions };
}
