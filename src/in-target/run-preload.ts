// Runs INSIDE every Node process that `reload-doctor run` starts, before its first line: the
// source of a small file loaded with --require (reach/spawn.ts writes it). No inspector is
// opened and no port is bound; it
// - reports the process (pid, argv, whether it is a package manager) to a file of reload-doctor;
// - sets process.debugPort = 0, so that at the deadline SIGUSR1 opens the inspector on an
//   ephemeral port (reload-doctor's window, closed again behind it), and keeps a cluster
//   primary from opening its workers' inspectors when ours opens (quietClusterDebugging);
// - installs the creation-stack hook (creation-hook.ts) in the app, not in npm and friends;
// - switches off async_hooks' promise hooks, through an in-process inspector session (no port,
//   no network). async_hooks turns V8's promise hooks on for every hook with an `init`; they
//   are what makes such a hook expensive on promise-heavy code (before/after on every await),
//   and the creation hook does not need them: a promise continuation simply counts as part of
//   the callback that ran it. Node keeps them in lists private to
//   lib/internal/promise_hooks.js, which v8.promiseHooks.onInit closes over. They are emptied
//   only when ours is the only async hook; any hook the app enables later (AsyncLocalStorage,
//   an APM agent) makes async_hooks register them again, so the app's behaviour never changes.
// Self-contained, like everything in this folder: the functions it uses come in as arguments.

/* eslint-disable */
export interface RunPreloadConfig {
  /** File to append one JSON line per process to. */
  report: string;
  creationStacks: boolean;
  creationKey: string;
}

export function startUnderRun(
  load: (id: string) => any,
  installCreationHook: (key: string, dropPromiseHooks?: () => string) => string,
  emptyPromiseHookLists: (hooks: any, update: any) => string,
  quietClusterDebugging: (key: string) => string,
  isAppRunner: (script: string) => boolean,
  windowKey: string,
): string {
  const config: RunPreloadConfig | null = JSON.parse(process.env.RELOAD_DOCTOR_RUN ?? 'null');
  if (!config) return 'no config';
  const fs = load('node:fs');
  const script = process.argv.slice(1).find((word: string) => !word.startsWith('-')) ?? '';
  const manager = isAppRunner(script);
  process.debugPort = 0;
  // Our windows on a cluster primary must not open its workers' inspectors (inspector-window.ts).
  quietClusterDebugging(windowKey);
  let hook = 'off';
  let promiseHooks = 'kept';
  if (!manager && config.creationStacks) {
    try {
      // The promise hooks stay on until the service is ready (they follow lazy connections).
      hook = installCreationHook(config.creationKey, dropPromiseHooks);
      promiseHooks = 'until ready';
    } catch (error: any) {
      hook = `failed: ${error?.message ?? error}`;
    }
  }
  fs.appendFileSync(config.report, `${JSON.stringify({ pid: process.pid, ppid: process.ppid, argv: process.argv, manager, hook, promiseHooks })}\n`);
  return hook;

  /** The lists live in the closure of v8.promiseHooks.onInit; an in-process session reads [[Scopes]]. */
  function dropPromiseHooks(): string {
    const inspector = load('node:inspector');
    const session = new inspector.Session();
    // Handed to the session through `process`, which every context of the process shares.
    const anchor = Symbol.for(`${config!.creationKey}.promise-hooks`);
    (process as any)[anchor] = load('node:v8').promiseHooks.onInit;
    session.connect();
    try {
      // An in-process session answers synchronously.
      const post = (method: string, params: object): any => {
        let reply: any;
        let failure: any;
        session.post(method, params, (error: any, result: any) => { failure = error; reply = result; });
        if (failure) throw failure;
        return reply;
      };
      const onInit = post('Runtime.evaluate', { expression: `process[Symbol.for(${JSON.stringify(`${config!.creationKey}.promise-hooks`)})]` }).result;
      const internals = post('Runtime.getProperties', { objectId: onInit.objectId, ownProperties: true }).internalProperties ?? [];
      const scopes = internals.find((p: any) => p.name === '[[Scopes]]')?.value?.objectId;
      if (!scopes) return 'no scopes';
      for (const scope of post('Runtime.getProperties', { objectId: scopes, ownProperties: true }).result ?? []) {
        if (!scope.value?.objectId) continue;
        const variables = post('Runtime.getProperties', { objectId: scope.value.objectId, ownProperties: true }).result ?? [];
        const hooks = variables.find((v: any) => v.name === 'hooks')?.value?.objectId;
        const update = variables.find((v: any) => v.name === 'update')?.value?.objectId;
        if (!hooks || !update) continue;
        const call = post('Runtime.callFunctionOn', {
          functionDeclaration: emptyPromiseHookLists.toString(), objectId: hooks,
          arguments: [{ objectId: hooks }, { objectId: update }], returnByValue: true,
        });
        return call.exceptionDetails ? 'failed' : String(call.result.value);
      }
      return 'lists not found';
    } finally {
      session.disconnect();
      delete (process as any)[anchor];
    }
  }
}

/**
 * npm, npx, yarn, pnpm and corepack run the app; so do the CLIs that start it as a child
 * process (tsx, nodemon, ts-node-dev): they are not the app. `script` is the process's main
 * script (process.argv[1]).
 */
export function isAppRunner(script: string): boolean {
  return /(^|\/)(npm|npx|yarn|yarnpkg|pnpm|pnpx|corepack|tsx|nodemon|ts-node-dev)(-cli)?(\.c?m?js)?$/.test(script)
    || /\/node_modules\/(npm|yarn|pnpm|corepack|tsx|nodemon|ts-node-dev)\/(bin|dist|lib)\/[^/]*(cli|bin)[^/]*$/.test(script);
}
