// Code in src/in-target/ is sent into someone else's process as its own source text, so it
// must be self-contained. Each function is rebuilt here from its toString() in a fresh vm
// context that holds only what a Node process has as globals, and run: a reference to
// anything outside its own body (an import, a helper, a module constant) fails here.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import inspector from 'node:inspector';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { types as utilTypes } from 'node:util';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as collectHandles from '../../src/in-target/collect-handles.js';
import * as creationHook from '../../src/in-target/creation-hook.js';
import * as holderWalk from '../../src/in-target/holder-walk.js';
import * as inspectorWindow from '../../src/in-target/inspector-window.js';
import * as ownerFacts from '../../src/in-target/owner-facts.js';
import * as processFacts from '../../src/in-target/process-facts.js';
import * as promiseHookLists from '../../src/in-target/promise-hook-lists.js';
import * as poolStates from '../../src/in-target/pool-states.js';
import * as runPreload from '../../src/in-target/run-preload.js';
import * as timelineRecorder from '../../src/in-target/timeline-recorder.js';

/** A fresh context with a Node process's globals only, and the function rebuilt inside it. */
function rebuild<F extends (...args: any[]) => unknown>(fn: F): { fn: F; context: vm.Context } {
  const context = vm.createContext({ process, setTimeout, clearTimeout, setInterval, clearInterval, console, queueMicrotask });
  return { fn: vm.runInContext(`(${fn.toString()})`, context) as F, context };
}

const modules = { collectHandles, creationHook, holderWalk, inspectorWindow, ownerFacts, poolStates, processFacts, promiseHookLists, runPreload, timelineRecorder };
const exportedFunctions = Object.values(modules).flatMap((m) => Object.entries(m).filter(([, value]) => typeof value === 'function').map(([name]) => name));
const rebuilt = new Set<string>();

describe('in-target functions, rebuilt from their source text', () => {
  it('describeProcess, signalListenerCount, globalObject, timersEntryPoint', () => {
    expect(rebuild(processFacts.describeProcess).fn()).toEqual({ pid: process.pid, version: process.version, runtime: 'node' });
    const listener = () => {};
    process.on('SIGUSR2', listener);
    try {
      expect(rebuild(processFacts.signalListenerCount).fn('SIGUSR2')).toBe(1);
    } finally {
      process.off('SIGUSR2', listener);
    }
    const { fn: globalObject, context } = rebuild(processFacts.globalObject);
    expect(globalObject()).toBe(vm.runInContext('globalThis', context));
    expect(rebuild(processFacts.timersEntryPoint).fn()).toBe(setTimeout);
    for (const name of ['describeProcess', 'signalListenerCount', 'globalObject', 'timersEntryPoint']) rebuilt.add(name);
  });

  it('armWatchdog, petWatchdog, closeWindow: ephemeral reopening, closing behind us, putting debugPort back', async () => {
    const { fn: arm, context } = rebuild(inspectorWindow.armWatchdog);
    const pet = vm.runInContext(`(${inspectorWindow.petWatchdog})`, context);
    const close = vm.runInContext(`(${inspectorWindow.closeWindow})`, context);
    const key = `reload-doctor.window-test.${process.pid}`;
    // A window that is closed normally, then a last one closed for good. (While an inspector
    // is open, process.debugPort is the port it bound: what the window keeps to put back.)
    inspector.open(0, '127.0.0.1');
    const debugPort = process.debugPort;
    expect(arm(key, 60_000, 60_000)).toEqual({ debugPortBefore: debugPort });
    expect(process.debugPort).toBe(0);
    expect(pet(key)).toBe(true);
    close(key, false);
    expect(inspector.url()).toBeUndefined();
    expect(process.debugPort).toBe(0); // the next SIGUSR1 opens an ephemeral port
    inspector.open(0, '127.0.0.1');
    close(key, true);
    expect(inspector.url()).toBeUndefined();
    expect(process.debugPort).toBe(debugPort);
    expect(pet(key)).toBe(false);
    // Nobody pets an open window: the watchdog closes it and puts things back.
    inspector.open(0, '127.0.0.1');
    const bound = process.debugPort;
    arm(key, 150, 60_000);
    for (let i = 0; i < 40 && inspector.url() !== undefined; i++) await sleep(25);
    expect(inspector.url()).toBeUndefined();
    expect(process.debugPort).toBe(bound);
    // Nobody comes back to a closed window: the watchdog just goes.
    arm(key, 60_000, 150);
    for (let i = 0; i < 40 && process.debugPort === 0; i++) await sleep(25);
    expect(process.debugPort).toBe(bound);
    expect(pet(key)).toBe(false);
    for (const name of ['armWatchdog', 'petWatchdog', 'closeWindow']) rebuilt.add(name);
  });

  it('startUnderRun reports the process, sets debugPort 0, installs the creation hook, drops the promise hooks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rd-preload-test-'));
    const report = join(dir, 'processes.jsonl');
    writeFileSync(report, '');
    const debugPort = process.debugPort;
    process.env.RELOAD_DOCTOR_RUN = JSON.stringify({ report, creationStacks: true, creationKey: `reload-doctor.preload-test.${process.pid}` });
    let contextOf: vm.Context | undefined;
    try {
      // One context, as in the preload file: the functions share its global object.
      const rebuiltPreload = rebuild(runPreload.startUnderRun);
      const fn = rebuiltPreload.fn;
      contextOf = rebuiltPreload.context;
      const install = vm.runInContext(`(${creationHook.installCreationHook})`, contextOf);
      const emptyLists = vm.runInContext(`(${promiseHookLists.emptyPromiseHookLists})`, contextOf);
      const quiet = vm.runInContext(`(${inspectorWindow.quietClusterDebugging})`, contextOf);
      const isRunner = vm.runInContext(`(${runPreload.isAppRunner})`, contextOf);
      expect(fn((id: string) => process.getBuiltinModule(id), install, emptyLists, quiet, isRunner, `reload-doctor.preload-test-window.${process.pid}`)).toBe('installed');
      const [line] = readFileSync(report, 'utf8').trim().split('\n');
      expect(JSON.parse(line!)).toMatchObject({ pid: process.pid, manager: false, hook: 'installed' });
      expect(JSON.parse(line!).promiseHooks).toBe('until ready');
      expect(process.debugPort).toBe(0);
      // Ready: the hook stops following promises and the promise hooks go.
      const hook = vm.runInContext(`globalThis[Symbol.for(${JSON.stringify(`reload-doctor.preload-test.${process.pid}`)})]`, contextOf);
      hook.settle();
      expect(hook.promiseHooks).toMatch(/dropped|other promise hooks present/);
    } finally {
      delete process.env.RELOAD_DOCTOR_RUN;
      process.debugPort = debugPort;
      if (contextOf) vm.runInContext(`globalThis[Symbol.for(${JSON.stringify(`reload-doctor.preload-test-window.${process.pid}.cluster`)})]?.()`, contextOf);
    }
    rebuilt.add('startUnderRun').add('isAppRunner');
  });

  it('emptyPromiseHookLists empties the lists only when ours are the only hooks', () => {
    const { fn } = rebuild(promiseHookLists.emptyPromiseHookLists);
    let updates = 0;
    const update = () => { updates += 1; };
    const one = () => ({ init: [() => {}], before: [() => {}], after: [() => {}], settled: [] as unknown[] });
    const alone = one();
    expect(fn(alone, update)).toBe('dropped');
    expect([alone.init, alone.before, alone.after]).toEqual([[], [], []]);
    expect(updates).toBe(1);
    const crowded = { ...one(), init: [() => {}, () => {}] };
    expect(fn(crowded, update)).toBe('other promise hooks present');
    expect(crowded.init).toHaveLength(2);
    expect(fn({ init: 'no' }, update)).toBe('unexpected shape');
    rebuilt.add('emptyPromiseHookLists');
  });

  it('installCreationHook records where a resource was created; settleCreationHook finds it by the key passed in', () => {
    const key = `reload-doctor.test.${process.pid}`;
    const { fn: install, context } = rebuild(creationHook.installCreationHook);
    expect(install(key)).toBe('installed');
    expect(install(key)).toBe('already installed');
    const timer = setInterval(function createdHere() {}, 60_000);
    try {
      const asyncId = (timer as unknown as { [Symbol.toPrimitive](): number })[Symbol.toPrimitive]();
      const hook = vm.runInContext(`globalThis[Symbol.for(${JSON.stringify(key)})]`, context);
      const stacks = hook.stacksOf(asyncId);
      expect(stacks.own).toMatch(/in-target\.test\.ts/);
      const settle = vm.runInContext(`(${creationHook.settleCreationHook.toString()})`, context);
      expect(settle(key)).toBe(true);
      expect(settle('no such key')).toBe(false);
    } finally {
      clearInterval(timer);
    }
    rebuilt.add('installCreationHook').add('settleCreationHook');
  });

  it('collectInTarget lists a live server and a ref\'d timer, and restores process.report.excludeNetwork', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    // excludeNetwork (Node ≥ 20.13) is missing from @types/node 20's ProcessReport.
    const report = process.report as NodeJS.ProcessReport & { excludeNetwork?: boolean };
    const previous = report.excludeNetwork;
    try {
      const { fn } = rebuild(collectHandles.collectInTarget);
      // Two more servers whose listeners one line of code made: one group of two callbacks.
      const twins = [1, 2].map(() => net.createServer(function onTwinConnection() {}).listen(0, '127.0.0.1'));
      await Promise.all(twins.map((twin) => new Promise((resolve) => twin.once('listening', resolve))));
      const { json, groups, next } = fn.call(undefined, null, null, 'reload-doctor.none', 'reload-doctor.none', 5000, 5000, 100_000);
      expect(next).toBeNull(); // all in one chunk
      // Past the limit, libuv's view (a whole process.report) is left out, and said so.
      const bare = JSON.parse(fn.call(undefined, null, null, 'reload-doctor.none', 'reload-doctor.none', 0, 5000, 100_000).json) as collectHandles.RawCollection;
      expect(bare.libuvSkipped).toBe(true);
      expect(bare.libuv).toEqual([]);
      // A chunk at a time: the first in the answer, the rest from next(); the last one names the groups.
      const chunked = fn.call(undefined, null, null, 'reload-doctor.none', 'reload-doctor.none', 5000, 1, 100_000);
      const first = JSON.parse(chunked.json) as collectHandles.RawCollection;
      expect(first.items).toHaveLength(1);
      expect(first.functionNames).toEqual([]);
      const nextOne = rebuild(collectHandles.nextChunk).fn;
      const chunks = Array.from({ length: first.total - 1 }, () => JSON.parse(nextOne.call(chunked.next!)));
      expect(chunks.every((chunk) => chunk.items.length === 1)).toBe(true);
      expect(chunks.at(-1).functionNames).toEqual(JSON.parse(json).functionNames);
      twins.forEach((twin) => twin.close());
      const raw = JSON.parse(json) as collectHandles.RawCollection;
      const twinGroup = raw.functionNames.indexOf('onTwinConnection');
      expect(raw.groupSizes[twinGroup]).toBe(2);
      // Items travel as tuples: [type, refed, fd, owners, members, details, created, asyncId].
      const twinItems = raw.items.filter(([, , , owners]) => owners.includes(twinGroup));
      expect(twinItems.map(([, , , owners, members]) => members[owners.indexOf(twinGroup)]).sort()).toEqual([0, 1]);
      const port = (server.address() as net.AddressInfo).port;
      const listening = raw.items.find(([type, , , , , details]) => type === 'tcp-server' && details.local === `127.0.0.1:${port}`);
      expect(listening).toBeDefined();
      expect(listening![1]).toBe(1); // ref'd
      expect(listening![7]).toEqual(expect.any(Number)); // its async id
      expect(raw.nodeVersion).toBe(process.version);
      expect(raw.libuv.length).toBeGreaterThan(0);
      expect(groups.length).toBe(raw.functionNames.length);
      expect(raw.groupSizes).toEqual(groups.map((group: Function[]) => group.length));
      expect(report.excludeNetwork).toBe(previous);
      // The callbacks at given places of the groups, for their lookup; a place that is not there gives undefined.
      // Past describedMax, a sample: one in `stride` of the connections, but every server (the
      // timers' sampling is proven on a real target: test/process/scale.test.ts).
      const sockets = await Promise.all(Array.from({ length: 6 }, () => new Promise<net.Socket>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
      })));
      try {
        const everything = JSON.parse(fn.call(undefined, null, null, 'reload-doctor.none', 'reload-doctor.none', 5000, 5000, 100_000).json) as collectHandles.RawCollection;
        expect(everything.seen).toBe(everything.total); // no timer lists given: handles only
        const sample = JSON.parse(fn.call(undefined, null, null, 'reload-doctor.none', 'reload-doctor.none', 5000, 5000, 3).json) as collectHandles.RawCollection;
        expect(sample.seen).toBe(everything.seen);
        expect(sample.total).toBeLessThan(everything.total);
        expect(sample.items.filter(([type]) => type === 'tcp-server')).toHaveLength(everything.items.filter(([type]) => type === 'tcp-server').length);
        expect(sample.items.filter(([type]) => type === 'tcp-socket').length).toBeLessThan(everything.items.filter(([type]) => type === 'tcp-socket').length);
        // Addresses are asked of the wraps: nothing is left cached on the app's sockets.
        expect(sockets.filter((socket: any) => socket._sockname != null || socket._peername != null)).toEqual([]);
        const ends = everything.items.filter(([type]) => type === 'tcp-socket').map(([, , , , , details]) => `${details.local} → ${details.remote}`);
        expect(ends).toContain(`127.0.0.1:${sockets[0]!.localPort} → 127.0.0.1:${port}`);
      } finally {
        sockets.forEach((socket) => socket.destroy());
      }
      const picker = rebuild(collectHandles.callbacksAt).fn;
      expect(picker.call(groups, [[0, 0], [groups.length, 0]])).toEqual([groups[0][0], undefined]);
    } finally {
      server.close();
    }
    rebuilt.add('collectInTarget').add('callbacksAt').add('nextChunk');
  });
});

describe('in-target: library state and cluster quiet', () => {
  it('quietClusterDebugging: the cluster\'s NODE_DEBUG_ENABLED propagation is swallowed, other calls pass, and the undo restores', async () => {
    const proc = process as any;
    const original = proc._debugProcess;
    const calls: number[] = [];
    proc._debugProcess = (pid: number) => { calls.push(pid); };
    const spy = proc._debugProcess;
    const key = `reload-doctor.quiet-test.${process.pid}`;
    // Stands in for lib/internal/cluster/primary.js's listener.
    const cluster = (message: any) => { if (message?.cmd === 'NODE_DEBUG_ENABLED') proc._debugProcess(111); };
    process.on('internalMessage' as any, cluster);
    try {
      const { fn, context } = rebuild(inspectorWindow.quietClusterDebugging);
      expect(fn(key)).toBe('quiet');
      expect(fn(key)).toBe('kept');
      process.emit('internalMessage' as any, { cmd: 'NODE_DEBUG_ENABLED' } as any);
      expect(calls).toEqual([]);
      await Promise.resolve();
      proc._debugProcess(222); // the app's own call, outside the propagation
      expect(calls).toEqual([222]);
      vm.runInContext(`globalThis[Symbol.for(${JSON.stringify(`${key}.cluster`)})]()`, context);
      expect(proc._debugProcess).toBe(spy);
      expect(process.listeners('internalMessage' as any).filter((listener) => listener.name === 'onInternalMessage')).toEqual([]);
    } finally {
      process.removeListener('internalMessage' as any, cluster);
      proc._debugProcess = original;
    }
    rebuilt.add('quietClusterDebugging');
  });

  it('poolPrototypes finds loaded pool classes by file; describePools reads tarn and sequelize-pool fields', () => {
    const { fn: prototypes } = rebuild(poolStates.poolPrototypes);
    // tarn is a dev dependency (knex's pool): load it so the module cache holds it.
    const { Pool } = createRequire(import.meta.url)('tarn');
    const found = prototypes({ tarn: poolStates.POOL_FILES.tarn });
    expect(found.packages).toEqual(['tarn']);
    expect(found.prototypes[0]).toBe(Pool.prototype);
    const { fn: describe } = rebuild(poolStates.describePools);
    const now = Date.now();
    const tarnPool = { interval: {}, free: [{ timestamp: now - 5000 }], used: [], min: 0, idleTimeoutMillis: 30000, reapIntervalMillis: 1000 };
    const [state] = JSON.parse(describe([tarnPool, { ...tarnPool, destroyed: true }], 'tarn'));
    expect(state).toMatchObject({ package: 'tarn', min: 0, size: 1, inUse: 0 });
    expect(state.lettingGoInMs).toBeGreaterThan(25_000);
    expect(state.lettingGoInMs).toBeLessThanOrEqual(26_100);
    expect(JSON.parse(describe([{ ...tarnPool, min: 2 }], 'tarn'))[0].lettingGoInMs).toBeNull();
    const sequelizePool = { _availableObjects: [{ timeout: now + 4000 }], _count: 1, minSize: 0, reapIntervalMillis: 1000, idleTimeoutMillis: 10000 };
    const [sequelize] = JSON.parse(describe([sequelizePool], 'sequelize-pool'));
    expect(sequelize.lettingGoInMs).toBeGreaterThan(4000);
    expect(sequelize.lettingGoInMs).toBeLessThanOrEqual(5000);
    rebuilt.add('poolPrototypes').add('describePools');
  });

  it('startupStacksThrough returns the startup stacks that ran through a package', () => {
    const key = `reload-doctor.startup-test.${process.pid}`;
    const { fn: install, context } = rebuild(creationHook.installCreationHook);
    install(key);
    const timer = setInterval(() => {}, 60_000);
    try {
      const through = vm.runInContext(`(${creationHook.startupStacksThrough})`, context);
      const stacks = through(key, ['vitest', 'no-such-package'], 2);
      expect(stacks['no-such-package']).toEqual([]);
      expect(stacks.vitest.length).toBeGreaterThan(0);
      expect(stacks.vitest[0]).toMatch(/\/node_modules\/vitest\//);
      expect(through('no such key', ['vitest'], 2)).toEqual({});
    } finally {
      clearInterval(timer);
    }
    rebuilt.add('startupStacksThrough');
  });
});

describe('in-target: the timeline recorder', () => {
  it('startTimeline records when a watched server lets go, and stopTimeline takes it all out', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const key = `reload-doctor.timeline-test.${process.pid}`;
    const serverId = (server as any)._handle.getAsyncId();
    const listeners = () => [process.listenerCount('beforeExit'), process.listenerCount('exit'), process.listenerCount('SIGUSR2')];
    const before = listeners();
    const { fn: start, context } = rebuild(timelineRecorder.startTimeline);
    // No SIGUSR2 listener here: the recorder must not add one (it would replace the default action).
    expect(start.call(undefined, key, 'SIGUSR2', [serverId], null, null, 5)).toBe('recording 1 of 1');
    expect(listeners()).toEqual([before[0]! + 1, before[1]! + 1, 0]);
    const closedAt = performance.timeOrigin + performance.now();
    server.close();
    await sleep(30);
    const stop = vm.runInContext(`(${timelineRecorder.stopTimeline})`, context);
    const events = JSON.parse(stop(key));
    const end = events.find((event: any) => event[1] === 'end');
    expect(end[2]).toBe(serverId);
    expect(end[0] - closedAt).toBeLessThan(25);
    expect(listeners()).toEqual(before);
    expect(stop(key)).toBe('[]');
    rebuilt.add('startTimeline').add('stopTimeline');
  });
});

describe('the holder walk, rebuilt', () => {
  it('finds the shortest path from a root variable through objects, Maps and Sets; never runs a getter or a Proxy trap', () => {
    const { fn: findHolders } = rebuild(holderWalk.findHolders);
    const socket = { fd: 7 };
    const timer = { ms: 100 };
    const unreachable = { alone: true };
    let getterRan = false;
    let trapRan = false;
    const client = { topology: { servers: new Map([['a:1', { pool: { conns: new Set([socket]) } }]]) } };
    Object.defineProperty(client, 'lazy', { get: () => { getterRan = true; return timer; }, enumerable: true });
    const proxied = new Proxy({ timer }, { ownKeys: () => { trapRan = true; return []; } });
    const moduleScope = { client, proxied, require: { cache: { socket } }, deep: { a: { b: { c: { timer } } } } };
    const result = JSON.parse(findHolders([socket, timer, unreachable], [moduleScope], (value: unknown) => utilTypes.isProxy(value), 1000, 10_000, 14));
    expect(result.found).toContainEqual([0, 0, ['client', 'topology', 'servers', 'get("a:1")', 'pool', 'conns', 'values()']]);
    expect(result.found).toContainEqual([1, 0, ['deep', 'a', 'b', 'c', 'timer']]);
    expect(result.found.map((f: any) => f[0])).not.toContain(2);
    expect(getterRan).toBe(false);
    expect(trapRan).toBe(false);
    expect(result.partial).toBe(false);
    rebuilt.add('findHolders');
  });

  it('says "partial" when a bound is hit, and unwraps the inspector\'s scope entries', () => {
    const { fn: findHolders } = rebuild(holderWalk.findHolders);
    const far = { end: true };
    let chain: any = { far };
    for (let i = 0; i < 30; i++) chain = { next: chain };
    const result = JSON.parse(findHolders([far], [{ chain }], () => false, 1000, 10_000, 10));
    expect(result.found).toEqual([]);
    const bounded = JSON.parse(findHolders([far], [{ chain }], () => false, 1000, 5, 100));
    expect(bounded.partial).toBe(true);
    const { fn: listOf } = rebuild(holderWalk.listOf);
    const variables = { client: 1 };
    expect(listOf({ description: 'Closure', object: variables }, variables)).toEqual([variables, variables]);
    expect(listOf({ description: 'Closure', object: variables, extra: 1 })[0]).toHaveProperty('extra');
    rebuilt.add('listOf');
  });

  it('appModuleFunctions lists one function of each app module, none of node_modules; proxyTest is util.types.isProxy', () => {
    // The console's require, as the command-line API gives it: a function with the module cache.
    const consoleRequire = Object.assign(() => undefined, { cache: {
      '/app/db.js': { exports: { connect() {}, url: 'x' } },
      '/app/main.js': { exports: {} },
      '/app/node_modules/mongodb/lib/index.js': { exports: { MongoClient: class {} } },
      '/app/handler.js': { exports: function handler() {} },
    } });
    const context = vm.createContext({ require: consoleRequire });
    const list = vm.runInContext(`(${holderWalk.appModuleFunctions.toString()})(10)`, context);
    expect(list.map((pair: any) => pair[0])).toEqual(['/app/db.js', '/app/handler.js']);
    const withUtil = vm.createContext({ require: createRequire(import.meta.url) });
    const isProxy = vm.runInContext(`(${holderWalk.proxyTest.toString()})()`, withUtil);
    expect(isProxy(new Proxy({}, {}))).toBe(true);
    rebuilt.add('appModuleFunctions').add('proxyTest');
  });

  it('esmAppModules reads the ESM loader\'s cache through Node\'s internal require; an unknown loader gives null', () => {
    const namespace = Object.freeze({ connect() {}, url: 'x' });
    const loadCache = new Map<string, any>([
      ['file:///app/db.mjs', { javascript: { module: { getNamespace: () => namespace } } }],
      ['file:///app/node_modules/mongodb/index.js', { javascript: { module: { getNamespace: () => ({}) } } }],
      ['node:os', { javascript: { module: { getNamespace: () => ({}) } } }],
    ]);
    const internalRequire = (id: string) => (id === 'internal/modules/esm/loader' ? { getOrInitializeCascadedLoader: () => ({ loadCache }) } : undefined);
    const { fn: esmAppModules } = rebuild(holderWalk.esmAppModules);
    const found = esmAppModules.call(internalRequire, 10)!;
    expect(found.map(([url]) => url)).toEqual(['file:///app/db.mjs']);
    expect(found[0]![1]).toBe(namespace);
    expect(found[0]![2]).toBe(namespace.connect);
    expect(esmAppModules.call(() => ({ getOrInitializeCascadedLoader: () => ({}) }), 10)).toBeNull();
    expect(esmAppModules.call(() => { throw new Error('no such module'); }, 10)).toBeNull();
    rebuilt.add('esmAppModules');
  });
});

describe('the owner inference, rebuilt', () => {
  it('findHolders with a sink: the objects on each path (the resource last), #private edges followed, a resource never a way to another', () => {
    const { fn: findHolders } = rebuild(holderWalk.findHolders);
    const socket = { fd: 3 };
    const other = { fd: 4 };
    const hidden = { pool: { socket: other } };
    const client = { pool: { conns: [socket] } };
    // A timer list links one resource to the next: the walk must not credit `first`'s holder with the second.
    const first = { _idleNext: other };
    const owner = { secret: true };
    const sink: unknown[] = [];
    const result = JSON.parse(findHolders([socket, other, first], [{ client, first, owner }], () => false, 1000, 10_000, 14, sink, new Map([[owner, [['#driver', hidden]]]])));
    const bySocket = result.found.find((f: any) => f[0] === 0);
    expect(bySocket.slice(0, 3)).toEqual([0, 0, ['client', 'pool', 'conns', '[0]']]);
    expect(bySocket[3].map((i: number) => sink[i])).toEqual([client, client.pool, client.pool.conns, socket]);
    expect(result.found.find((f: any) => f[0] === 1)[2]).toEqual(['owner', '#driver', 'pool', 'socket']);
  });

  it('describeOwners reads class, constructor and closing methods by descriptor (the nearest definition wins); a getter or a Proxy is never run', () => {
    const { fn: describeOwners, context } = rebuild(ownerFacts.describeOwners);
    class Base { close() {} destroy() {} }
    class Server extends Base { tryShutdown(callback: () => void) { callback(); } forceShutdown() {} override close() {} }
    let ran = false;
    Object.defineProperty(Server.prototype, 'end', { get() { ran = true; return () => {}; } });
    const server = new Server();
    const made = Object.assign(function sql() {}, { end: () => {} });
    const proxied = new Proxy(new Server(), { getPrototypeOf() { ran = true; return null; } });
    const { json, functions } = describeOwners([server, made, vm.runInContext('({ plain: true })', context), proxied], (v: unknown) => utilTypes.isProxy(v), 10);
    const [[className, ctor, closers], [fnName, fnCtor, fnClosers], [plainName, plainCtor, plainClosers], proxy] = JSON.parse(json);
    expect([className, functions[ctor]]).toEqual(['Server', Server]);
    expect(closers.map((c: any) => c[0]).sort()).toEqual(['close', 'destroy', 'forceShutdown', 'tryShutdown']);
    expect(functions[closers.find((c: any) => c[0] === 'close')[1]]).toBe(Server.prototype.close);
    expect(closers.find((c: any) => c[0] === 'tryShutdown')[2]).toBe(1);
    expect([fnName, functions[fnCtor], fnClosers.map((c: any) => c[0])]).toEqual(['', made, ['end']]);
    expect([plainName, plainCtor, plainClosers]).toEqual(['', -1, []]);
    expect(proxy).toEqual(['', -1, []]);
    expect(ran).toBe(false);
    rebuilt.add('describeOwners');
  });

  it('processListenerFunctions lists the process listeners from _events (a once() wrapper unwrapped); classInstancesIn and collectInstances list the open library objects; privateEdgeMap builds the walk\'s edges', () => {
    const onTerm = () => {};
    const onExit = () => {};
    process.on('SIGUSR2', onTerm);
    process.once('SIGUSR2', onExit);
    try {
      const listed = rebuild(holderWalk.processListenerFunctions).fn(100);
      expect(listed).toContain(onTerm);
      expect(listed).toContain(onExit);
    } finally {
      process.off('SIGUSR2', onTerm);
      process.off('SIGUSR2', onExit);
    }
    class Client { close() {} }
    const client = new Client();
    const sql = Object.assign(() => {}, { end: () => {} });
    const { fn: classInstancesIn, context } = rebuild(holderWalk.classInstancesIn);
    // A plain object of the target's own realm (the function runs in the target's).
    const plain = vm.runInContext('({ a: 1 })', context);
    const found = classInstancesIn([{ client, sql, plain, list: [client], helper: () => {} }], () => false, 10);
    expect(found).toEqual([[0, 'client', client], [0, 'sql', sql]]);
    const holder: { pathObjects?: unknown[] } = { pathObjects: ['x'] };
    expect(JSON.parse(rebuild(holderWalk.collectInstances).fn.call(holder, found))).toEqual([[0, 'client', 1], [0, 'sql', 2]]);
    expect(holder.pathObjects).toEqual(['x', client, sql]);
    const edges = rebuild(holderWalk.privateEdgeMap).fn(client, '#pool', sql, client, '#timer', 1);
    expect(edges.get(client)).toEqual([['#pool', sql], ['#timer', 1]]);
    const { fn: fieldsAreSmall } = rebuild(holderWalk.fieldsAreSmall);
    expect(fieldsAreSmall(client, Buffer.alloc(1024), { page: 'x'.repeat(20_000) }, Object.fromEntries([...Array(300).keys()].map((i) => [`k${i}`, i])), 'text'))
      .toEqual([true, false, false, false, false]);
    rebuilt.add('processListenerFunctions').add('classInstancesIn').add('collectInstances').add('privateEdgeMap').add('fieldsAreSmall');
  });
});

describe('coverage of src/in-target/', () => {
  it('every exported function was rebuilt and run above (tests of a file run in order)', () => {
    expect(exportedFunctions.filter((name) => !rebuilt.has(name))).toEqual([]);
  });
});
