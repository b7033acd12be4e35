// Runs INSIDE the target (sent as its source text with Runtime.callFunctionOn): lists every
// live resource. It only reads: it creates no handle, keeps no reference after it returns,
// and restores the one setting it touches (process.report.excludeNetwork).
// Self-contained, like everything in this folder (test/unit/in-target.test.ts proves it).

/** What one raw resource looks like when it leaves the target (JSON). */
export interface RawItem {
  type: string;
  refed: boolean;
  fd?: number;
  /** Callbacks that tell its owner, most telling first: each a function group's index… */
  owners: number[];
  /** …and the callback's place in that group (parallel to `owners`). */
  members: number[];
  details: Record<string, string | number | boolean | null | undefined>;
  /** Creation stacks (its own, or its creator's), when `run` installed the hook. */
  created?: { own?: string; via?: string };
  /** Its async id: the timeline's events name resources by it. */
  asyncId?: number;
}

/**
 * How an item travels (JSON): a tuple, not an object with its field names 100,000 times
 * over (a third less to serialise in the target and parse here). Read back by itemOf().
 */
export type RawTuple = [type: string, refed: 0 | 1, fd: number | null, owners: number[], members: number[], details: RawItem['details'], created: RawItem['created'] | null, asyncId: number | null];

export interface RawCollection {
  items: RawTuple[];
  libuv: Array<{ type: string; active: boolean; refed: boolean; fd?: number; pid?: number; local?: string; remote?: string }>;
  /** The libuv view was left out (too many resources): nothing unref'd is listed, every socket counts as active. */
  libuvSkipped?: boolean;
  /** How many resources are described: `items` holds the first chunk's, the other chunks come from `next`. */
  total: number;
  /** How many resources the process holds: more than `total` when only a sample of them is described. */
  seen: number;
  /** Per function group: its callbacks' name and how many callbacks it holds (with the last chunk). */
  functionNames: string[];
  groupSizes: number[];
  cwd: string;
  nodeVersion: string;
  /** A Node cluster worker (round-robin servers show as a placeholder timer there). */
  clusterWorker: boolean;
  /** The creation-stack hook is installed (run mode), and whether its record cap was reached. */
  creationStacks?: 'on' | 'full';
  /** Node source-maps its own stack traces (--enable-source-maps, or tsx turned it on). */
  stacksMapped: boolean;
}

/* eslint-disable */
export function collectInTarget(this: unknown, timerListMap: any, timersBinding: any, creationKey: string, watchdogKey: string, libuvViewMax: number, chunkSize: number, describedMax: number): { json: string; groups: Function[][]; next: (() => string) | null; resources: unknown[] } {
  // Written for speed as well as clarity: it runs once per resource, up to 100,000 times, in
  // code compiled afresh at each call. No spreads or rest arguments, symbols looked up once.
  // Callbacks are grouped by their name and source text: the closures one line of code makes
  // (a listener per connection, a timer per job) are one group, whose place reload-doctor
  // looks up once or a few times instead of once per closure (a round trip each).
  const groups: Function[][] = [];
  const groupOfKey = new Map<string, number>();
  // A callback's place, group * 2^32 + member in one number (exact below 2^53): 100,000 callbacks
  // would hold 100,000 small arrays (6 MB of the target's memory), numbers a quarter of that.
  const placeOf = new Map<Function, number>();
  const PER_GROUP = 2 ** 32;
  const sourceText = Function.prototype.toString;
  const remember = (fn: unknown, owners: { owners: number[]; members: number[] }): void => {
    if (typeof fn !== 'function') return;
    let place = placeOf.get(fn);
    if (place === undefined) {
      let text = '';
      try { text = sourceText.call(fn); } catch {}
      // Head, tail and length: enough to tell code apart without copying a long body.
      const key = `${fn.name}\u0000${text.length}\u0000${text.slice(0, 160)}\u0000${text.slice(-160)}`;
      let group = groupOfKey.get(key);
      if (group === undefined) {
        group = groups.length;
        groups.push([]);
        groupOfKey.set(key, group);
      }
      place = group * PER_GROUP + groups[group]!.length;
      groups[group]!.push(fn);
      placeOf.set(fn, place);
    }
    const group = Math.floor(place / PER_GROUP);
    owners.owners.push(group);
    owners.members.push(place - group * PER_GROUP);
  };
  const ownersOf = (callbacks: unknown[]) => {
    const found = { owners: [] as number[], members: [] as number[] };
    for (const fn of callbacks) remember(fn, found);
    return found;
  };
  /** An emitter's listeners for these events, once-wrappers unwrapped (as listeners() does), into `into`. */
  const listenersOf = (emitter: any, events: string[], into: unknown[] = []): unknown[] => {
    if (!emitter || typeof emitter.listeners !== 'function') return into;
    // Node's EventEmitter keeps them in _events: read there, without listeners()' copy per event.
    const table = emitter._events !== null && typeof emitter._events === 'object' ? emitter._events : undefined;
    for (const event of events) {
      const held = table ? table[event] : emitter.listeners(event);
      if (typeof held === 'function') into.push(held.listener ?? held);
      else if (Array.isArray(held)) for (const listener of held) into.push(listener?.listener ?? listener);
    }
    return into;
  };
  const listenerOwners = (emitter: any, events: string[]) => ownersOf(listenersOf(emitter, events));
  /** A symbol-keyed field Node sets on every object of a class (net's kTimeout, timers' async_id_symbol): found once by name. */
  const symbols = new Map<string, symbol | null>();
  const symbolField = (object: any, description: string): any => {
    let symbol = symbols.get(description);
    if (symbol === undefined || (symbol !== null && !(symbol in object))) {
      symbol = Object.getOwnPropertySymbols(object).find((s) => s.description === description) ?? null;
      if (symbol !== null) symbols.set(description, symbol);
    }
    return symbol === null ? undefined : object[symbol];
  };
  const endpoint = (address: unknown, port: unknown) =>
    address === undefined || address === null ? undefined : `${String(address).includes(':') ? `[${address}]` : address}:${port}`;

  // The creation-stack hook `run` installs (creation-hook.ts); absent when attached by pid.
  const creation = (globalThis as any)[Symbol.for(creationKey)];
  // Async ids: a libuv wrap tells its own; a Timeout keeps it under Node's async_id_symbol (Symbol('asyncId')).
  const asyncIdOf = (resource: any): number | undefined => {
    if (typeof resource?.getAsyncId === 'function') return resource.getAsyncId();
    return resource !== null && typeof resource === 'object' ? symbolField(resource, 'asyncId') : undefined;
  };
  const stacksOf = (resource: any): { own?: string; via?: string } | undefined => {
    const asyncId = creation && resource ? asyncIdOf(resource) : undefined;
    return asyncId === undefined ? undefined : creation.stacksOf(asyncId);
  };
  /**
   * A socket's own or peer address, asked of its wrap into an object of ours: the public getters
   * (localAddress, remoteAddress) would leave an object cached on each of the app's sockets.
   * What the socket cached already is used as it is.
   */
  const addressOf = (socket: any, ask: 'getsockname' | 'getpeername', cache: '_sockname' | '_peername'): string | undefined => {
    let address = socket[cache];
    if (!address && typeof socket._handle?.[ask] === 'function' && !socket.connecting) {
      address = {};
      try { if (socket._handle[ask](address) !== 0) address = undefined; } catch { address = undefined; }
    }
    return address ? endpoint(address.address, address.port) : undefined;
  };
  /** A dgram Socket's state, which holds its wrap (its `_handle` getter is deprecated: DEP0112 printed in the target). */
  const dgramState = (handle: any): any => {
    if (handle === null || typeof handle !== 'object') return undefined;
    const key = Object.getOwnPropertySymbols(handle).find((symbol) => symbol.description === 'state symbol');
    return key ? handle[key] : undefined;
  };
  /** The libuv wrap an async resource was created for: _handle, or dgram's state.handle. */
  const wrapOf = (handle: any): any => {
    const state = dgramState(handle);
    if (state) return state.handle ?? handle;
    if (handle?._handle) return handle._handle;
    for (const symbol of Object.getOwnPropertySymbols(handle ?? {})) {
      if (handle[symbol]?.handle) return handle[symbol].handle;
    }
    return handle;
  };

  // libuv's "now", which timers count from; Node 18 keeps no binding in that closure, and
  // performance.now() (ms since the process started) is the same clock within a few ms.
  const now = typeof timersBinding?.getLibuvNow === 'function' ? timersBinding.getLibuvNow()
    : typeof (globalThis as any).performance?.now === 'function' ? (globalThis as any).performance.now() : undefined;
  /** When a socket's own timeout (keepAliveTimeout, socket.setTimeout) fires: it closes the socket then. */
  const timeoutDueIn = (socket: any): number | undefined => {
    const timer = socket !== null && typeof socket === 'object' ? symbolField(socket, 'timeout') : undefined;
    if (!timer || now === undefined || typeof timer._idleStart !== 'number' || !(timer._idleTimeout > 0)) return undefined;
    return Math.max(0, Math.round(timer._idleStart + timer._idleTimeout - now));
  };

  const handles: any[] = (process as any)._getActiveHandles();
  const childStdio = new Map<unknown, number>();
  for (const handle of handles) {
    if (handle && handle.constructor && handle.constructor.name === 'ChildProcess') {
      for (const stream of handle.stdio ?? []) if (stream) childStdio.set(stream, handle.pid);
    }
  }
  const serverAddresses = new Map<unknown, any>();
  const stdio = new Map<unknown, string>([[process.stdin, 'stdin'], [process.stdout, 'stdout'], [process.stderr, 'stderr']].filter(([s]) => s) as any);

  /** An item as it travels (RawTuple); its creation stacks and async id are filled in after. */
  const tuple = (type: string, fd: number | undefined, found: { owners: number[]; members: number[] }, details: RawItem['details']): RawTuple =>
    [type, 1, fd ?? null, found.owners, found.members, details, null, null];

  /** One handle of _getActiveHandles() as it leaves the target. */
  const describeHandle = (handle: any): RawTuple => {
    let item: RawTuple;
    const ctor = handle?.constructor?.name ?? typeof handle;
    const inner = dgramState(handle) ? dgramState(handle).handle : handle?._handle;
    const wrap = inner?.constructor?.name;
    const fd = typeof inner?.fd === 'number' && inner.fd >= 0 ? inner.fd : undefined;
    if (ctor === 'ChildProcess') {
      item = tuple('child-process', undefined, listenerOwners(handle, ['exit', 'close', 'error']), { pid: handle.pid, command: (handle.spawnargs ?? []).join(' ') });
    } else if (ctor === 'FSWatcher' || ctor === 'StatWatcher') {
      item = tuple('fs-watcher', undefined, listenerOwners(handle, ['change', 'rename']), { watcher: ctor });
    } else if (wrap === 'UDP' || (ctor === 'Socket' && typeof handle.address === 'function' && handle.type)) {
      let address: any = {};
      try { address = handle.address(); } catch {}
      item = tuple('udp-socket', fd, listenerOwners(handle, ['message', 'listening']), { local: endpoint(address.address, address.port) });
    } else if (typeof handle?.listen === 'function' && typeof handle?.address === 'function') {
      let address: any = null;
      try { address = handle.address(); } catch {}
      const local = typeof address === 'string' ? address : address ? endpoint(address.address, address.port) : undefined;
      item = tuple(wrap === 'Pipe' ? 'pipe-server' : 'tcp-server', fd,
        listenerOwners(handle, ['request', 'upgrade', 'connection', 'listening', 'close']),
        // close() was called (its handle is gone): it finishes when the loop gets a turn and its connections end.
        { local, connections: handle._connections, server: ctor, closing: handle._handle == null ? true : undefined });
    } else if (wrap === 'TCP' || wrap === 'Pipe' || wrap === 'TTY' || ctor === 'Socket' || ctor === 'TLSSocket' || ctor === 'WriteStream' || ctor === 'ReadStream') {
      const server = handle.server;
      // One getsockname per server, not per connection (a server may have thousands).
      let serverAddress: any = server ? serverAddresses.get(server) : null;
      if (server && serverAddress === undefined) {
        try { serverAddress = server.address?.() ?? null; } catch { serverAddress = null; }
        serverAddresses.set(server, serverAddress);
      }
      const stream = stdio.get(handle);
      // An HTTP server's connection (a plain net.Server has no keepAliveTimeout, and never a parser).
      const http = server ? typeof server.keepAliveTimeout === 'number' : undefined;
      // An upgraded connection (WebSocket) has left HTTP: its parser is gone, its data goes to
      // the upgrade library's listeners, and server.close() no longer waits for it... nor closes it.
      const upgraded = http && !handle.parser && !handle._httpMessage;
      const message = handle._httpMessage;
      item = tuple(stream ? 'stdio' : wrap === 'TCP' ? 'tcp-socket' : wrap === 'TTY' ? 'tty' : 'pipe', fd,
        upgraded
          ? ownersOf(listenersOf(server, ['upgrade'], listenersOf(handle, ['data', 'close', 'end'])))
          : server
          ? listenerOwners(server, ['request', 'upgrade', 'connection'])
          : ownersOf(listenersOf(message, ['response', 'socket', 'error'], listenersOf(handle, ['connect', 'data', 'readable', 'end', 'close', 'error', 'timeout']))),
        {
          stdio: stream,
          local: addressOf(handle, 'getsockname', '_sockname'),
          remote: addressOf(handle, 'getpeername', '_peername'),
          // Accepted by a server of this process (the server may be closed already: no address).
          accepted: server ? true : undefined,
          // Only said when false: a connection of a plain net.Server, not HTTP.
          http: http === false ? false : undefined,
          upgraded: upgraded ? true : undefined,
          server: serverAddress ? (typeof serverAddress === 'string' ? serverAddress : endpoint(serverAddress.address, serverAddress.port)) : undefined,
          // An idle connection the server closes by itself (keepAliveTimeout), in this many ms.
          closesIn: server && !message ? timeoutDueIn(handle) : undefined,
          // A response (server side) or request (client side) still in flight on this socket.
          inFlight: message ? (server ? `response to ${message.req?.method} ${message.req?.url}` : `request ${message.method} ${message.path}`) : undefined,
          childPid: childStdio.get(handle),
          reading: handle.readableFlowing === true || handle._readableState?.reading === true,
        });
    } else if (ctor === 'MessagePort') {
      item = tuple('message-port', undefined, listenerOwners(handle, ['message']), {});
    } else {
      // A bare Pipe in a child with an IPC channel is that channel (fork(), cluster workers).
      const ipc = ctor === 'Pipe' && typeof (process as any).send === 'function' ? true : undefined;
      item = tuple('other', fd, { owners: [], members: [] }, { constructor: ctor, wrap, ipc });
    }
    const resource = wrapOf(handle);
    item[6] = stacksOf(resource) ?? null;
    item[7] = asyncIdOf(resource) ?? null;
    return item;
  };

  // Timers live in the timer lists, one list per duration; all of them share one libuv timer.
  // reload-doctor's own watchdog (inspector-window.ts) is not the target's: left out.
  const ourWatchdog = (globalThis as any)[Symbol.for(watchdogKey)]?.tick;
  const ourPulse = (globalThis as any)[Symbol.for(`${watchdogKey}.timeline`)]?.tick; // timeline-recorder.ts
  const describeTimer = (timer: any): RawTuple => {
    const delay = timer._idleTimeout;
    const callback = timer._onTimeout;
    const found = { owners: [] as number[], members: [] as number[] };
    remember(callback, found);
    return [
      'timer', typeof timer.hasRef === 'function' && !timer.hasRef() ? 0 : 1, null, found.owners, found.members,
      { delay, repeat: timer._repeat ?? null, dueIn: now === undefined ? undefined : Math.max(0, Math.round(timer._idleStart + delay - now)), callback: callback?.name || undefined },
      stacksOf(timer) ?? null, asyncIdOf(timer) ?? null,
    ];
  };
  const describeRequest = (request: any): RawTuple => tuple('request', undefined, ownersOf([request?.oncomplete]),
    { request: request?.constructor?.name, hostname: request?.hostname });

  // Every resource first (references only); described a chunk at a time, so that a process
  // with 100,000 of them never holds them all as objects and one string at once.
  const timerLists: any[][] = [];
  if (timerListMap && typeof timerListMap === 'object') {
    for (const key of Object.keys(timerListMap)) {
      const list = timerListMap[key];
      const timers: any[] = [];
      for (let timer = list?._idleNext; timer && timer !== list; timer = timer._idleNext) {
        const callback = timer._onTimeout;
        if (callback !== undefined && (callback === ourWatchdog || callback === ourPulse)) continue;
        timers.push(timer);
      }
      timerLists.push(timers);
    }
  }
  const requests: any[] = (process as any)._getActiveRequests();
  const seen = handles.length + timerLists.reduce((sum, timers) => sum + timers.length, 0) + requests.length;
  // Past describedMax, a sample (one in `stride`), so that neither side's memory nor the
  // target's time grows without bound. Kept whatever the stride: every handle that is not a
  // connection (servers, children, watchers) and, when durations are few, the first timer of
  // each duration's list (a lone forgotten interval).
  const stride = seen > describedMax ? Math.ceil(seen / describedMax) : 1;
  let counted = 0;
  const sampled = () => counted++ % stride === 0;
  const connection = (handle: any) => handle?.constructor?.name === 'Socket' || handle?.constructor?.name === 'TLSSocket';
  const resources: any[] = handles.filter((handle) => sampled() || !connection(handle));
  const handlesEnd = resources.length;
  const keepListHeads = timerLists.length <= 1000;
  for (const timers of timerLists) timers.forEach((timer, at) => { if (sampled() || (keepListHeads && at === 0)) resources.push(timer); });
  const timersEnd = resources.length;
  for (const request of requests) if (sampled()) resources.push(request);
  let cursor = 0;
  const describeNext = (): RawTuple[] => {
    const described: RawTuple[] = [];
    for (const end = Math.min(resources.length, cursor + chunkSize); cursor < end; cursor++) {
      const resource = resources[cursor];
      described.push(cursor < handlesEnd ? describeHandle(resource) : cursor < timersEnd ? describeTimer(resource) : describeRequest(resource));
    }
    return described;
  };
  const items = describeNext();
  const groupsDone = () => ({ functionNames: groups.map((group) => group[0]!.name), groupSizes: groups.map((group) => group.length) });

  // The libuv view: the only place that shows unref'd handles, and whether each one is active.
  // It is a whole diagnostic report: past a few thousand resources its cost grows with them
  // (70 ms at 10,000), so a big process goes without it, and is told so.
  const report = (process as any).report;
  const previous = report.excludeNetwork;
  report.excludeNetwork = true; // skip reverse DNS of every endpoint
  let libuv: RawCollection['libuv'] = [];
  const libuvSkipped = resources.length > libuvViewMax;
  try {
    if (libuvSkipped) throw 'skipped';
    const describe = (e: any) => (e ? endpoint(e.ip4 ?? e.ip6 ?? e.host, e.port) : undefined);
    libuv = report.getReport().libuv
      .filter((h: any) => h.type !== 'loop')
      .map((h: any) => ({ type: h.type, active: !!h.is_active, refed: !!h.is_referenced, fd: h.fd ?? undefined,
        pid: h.pid ?? undefined, local: describe(h.localEndpoint), remote: describe(h.remoteEndpoint) }));
  } catch (error) {
    if (error !== 'skipped') throw error;
  } finally {
    report.excludeNetwork = previous;
  }

  const result: RawCollection = {
    items, libuv, libuvSkipped: libuvSkipped || undefined, cwd: process.cwd(), nodeVersion: process.version,
    // A cluster worker: cluster.isWorker, or on Node 18 (no getBuiltinModule) the internal
    // module only a worker loads.
    clusterWorker: typeof (process as any).getBuiltinModule === 'function'
      ? (process as any).getBuiltinModule('node:cluster')?.isWorker === true
      : ((process as any).moduleLoadList ?? []).includes('NativeModule internal/cluster/child'),
    creationStacks: creation ? (creation.full() ? 'full' : 'on') : undefined,
    stacksMapped: (process as any).sourceMapsEnabled === true || process.execArgv.includes('--enable-source-maps')
      || /(^|\s)--enable-source-maps(\s|$)/.test(process.env.NODE_OPTIONS ?? ''),
    total: resources.length,
    seen,
    ...(cursor >= resources.length ? groupsDone() : { functionNames: [], groupSizes: [] }),
  };
  // The rest, a chunk per call; the last one says what the function groups hold.
  const next = cursor >= resources.length ? null : (): string => {
    const more = describeNext();
    return JSON.stringify(cursor >= resources.length ? { items: more, ...groupsDone() } : { items: more });
  };
  // resources: what the holder walk looks for, in the same call (src/inspect/holders.ts).
  return { json: JSON.stringify(result), groups, next, resources };
}

/** The callbacks at the given places of the collector's function groups (called on the groups). */
export function callbacksAt(this: Function[][], places: Array<[number, number]>): Array<Function | undefined> {
  return places.map(([group, member]) => this[group]?.[member]);
}

/** The collector's next chunk (called on its `next`). */
export function nextChunk(this: () => string): string {
  return this();
}
