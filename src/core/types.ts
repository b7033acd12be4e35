// The contracts between the stages: reach → probe → inspect → explain → report.
// Plain data only, so every stage can be tested and serialised on its own, and so that rule
// cases can replay snapshots recorded from real runs (test/snapshots/).

export type Runtime =
  | { kind: 'node'; version?: string }
  /** name: a JavaScript runtime that is not Node (Deno, Bun): read through /proc. */
  | { kind: 'other'; executable?: string; name?: string };

export interface Target {
  pid: number;
  /** Its pid inside its own pid namespace, when that differs (a container): 1 for a container's main process. */
  nsPid?: number;
  runtime: Runtime;
  command: string;
  cwd?: string;
  reachedBy: 'attach' | 'spawn';
}

export interface PackageRef {
  name: string;
  version?: string;
}

export interface SourceLocation {
  /** Absolute path or URL as the target knows it. */
  url: string;
  /** Path relative to the target's working directory when inside it, else the absolute path. */
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  functionName?: string;
  package?: PackageRef;
  /** Node's own code (node:...): not a place a user can fix. */
  internal: boolean;
}

export type HandleKind =
  | 'timer' | 'tcp-socket' | 'tcp-server' | 'pipe-server' | 'udp-socket' | 'pipe' | 'tty' | 'stdio'
  | 'child-process' | 'worker-thread' | 'message-port' | 'fs-watcher' | 'signal' | 'request'
  | 'os-thread' | 'other';

export interface Handle {
  kind: HandleKind;
  /** Keeps the event loop alive: referenced and active. */
  blocking: boolean;
  /** Node's own words for it, e.g. "Timeout every 1000 ms (next due in 512 ms)". */
  label: string;
  details: Record<string, string | number | boolean | null>;
  owner?: SourceLocation;
  /** Where it was created (`run` mode records creation stacks; attach mode cannot). */
  createdAt?: StackFrame[];
  /** The app's own line that created it: the first creation frame outside Node and node_modules. */
  createdIn?: SourceLocation;
  /** createdIn is the line that created its creator (it was made inside another resource's callback). */
  createdInherited?: boolean;
  /** Why it is not blocking, when it is not. */
  notBlockingBecause?: string;
  /** Its async id in the target (inspector snapshots): what the timeline's events name. */
  asyncId?: number;
  /** Attach mode: the app's variable from which it is reached (src/inspect/holders.ts). */
  heldBy?: Holder;
  /** What owns it, read from the live objects between the app's variable and it (src/inspect/owner-inference.ts). */
  inferredOwner?: InferredOwner;
}

/**
 * The outermost library (or Node module) object between the app's variable and a resource that
 * has a closing method: what the app made and must close (a `grpc.Server` over its HTTP/2
 * sessions, a `Kysely` over its pg pool).
 */
export interface InferredOwner {
  /** The npm package whose code made it; absent for Node's own objects (see `core`). */
  package?: PackageRef;
  /** The Node module whose code made it (http2, dgram, worker_threads, child_process…). */
  core?: string;
  /** Its class: `Server`, `Kysely`, `ClientHttp2Session`. */
  className: string;
  /** The app's expression that reaches it (`server`, `repository.client`); absent when no JS expression does (a Set's member). */
  expression?: string;
  /** The app's variable and the path from it (for words when there is no expression). */
  variable: string;
  /** Its closing call, as its prototype chain has it. */
  close: CloseCall;
  /** Where the app declares the variable (when no holder path says it). */
  at?: SourceLocation;
  /**
   * Found by elimination, not by a reference: the one open library object of the app that owns
   * nothing else, for a connection of Node's own fetch (an EventSource over fetch).
   */
  likely?: boolean;
  /** Other open objects of the same package the app holds (a gRPC client's open stream): closed too, first those that cancel. */
  alsoOpen?: Array<{ variable: string; className: string; close: CloseCall }>;
}

export interface CloseCall {
  /** `destroy`, `tryShutdown` */
  method: string;
  /** It returns a promise (an async function, or one that builds a Promise). */
  awaits: boolean;
  /** It takes a callback (its first parameter is named like one) and returns no promise. */
  callback: boolean;
  /** A second call the same object needs after it (generic-pool: `drain()` then `clear()`). */
  then?: string;
  /** A harder way the object also offers (`forceShutdown`). */
  alternative?: string;
}

/** --heap-snapshot: the explicit fallback for holders the walk cannot see. */
export interface HeapSnapshotRequest {
  /** Take it even above the budget (the estimated freeze). */
  force: boolean;
  /** Told the estimate before the snapshot is taken (the CLI prints it at once). */
  onEstimate?: (line: string) => void;
}

/** An app variable that holds a resource (or the library object that owns it). */
export interface Holder {
  /** `client`, `repository`, `jobs` */
  variable: string;
  /** From the variable to the resource, its first steps: `client.topology.s.servers…` */
  path: string;
  /** Where the variable is declared: the app's file, and its line when found in the source. */
  location: SourceLocation;
  /** A module's variable, or one a function's closure captured (a route handler a factory made). */
  scope: 'module' | 'closure';
  /** The function whose closure holds it (scope "closure"). */
  closureOf?: string;
  /** The callback through whose closure it was found (scope "closure"). */
  via?: SourceLocation;
}

export interface StackFrame {
  functionName: string;
  location?: SourceLocation;
}

export interface Snapshot {
  source: 'inspector' | 'proc';
  /** process.version of a Node target, for advice that depends on it. */
  nodeVersion?: string;
  takenAtMs: number;
  handles: Handle[];
  /** The JS stack of a busy main thread (taken with Debugger.pause). */
  busyStack?: StackFrame[];
  /** A busy main thread sampled more than once: the frames more than half of the samples passed through (`seen`: in how many), innermost first. */
  busyCommon?: { frames: Array<StackFrame & { seen: number }>; samples: number };
  /** What the process is part of, for rules that depend on it (a uWSGI worker's master options). */
  context?: SnapshotContext;
  /** OS-level view: always present for non-Node targets and when the inspector fails. */
  threads?: Array<{ tid: number; name: string; state: string; wchan?: string; syscall?: string }>;
  /** A Python process's own view of itself (--py-stacks): its threads, greenlets and holders. */
  python?: PythonState;
  notes: string[];
}

export interface PythonFrame {
  file: string;
  line: number;
  function: string;
  /** The source line, as the target's own file has it. */
  code?: string;
}

export interface PythonThread {
  ident: number;
  name?: string;
  /** undefined: not a threading.Thread (a C extension's or gevent's own thread). */
  daemon?: boolean;
  main: boolean;
  /** Outermost first. */
  stack: PythonFrame[];
}

export interface PythonGreenlet {
  id: number;
  /** Its class: Greenlet (gevent), greenlet, Hub, ... */
  type: string;
  name?: string;
  /** The threading.Thread it runs, under gevent's monkey-patching (pymongo's monitor "threads"). */
  thread?: string;
  main: boolean;
  stack: PythonFrame[];
  /** gevent's record of the stack that spawned it (10 frames at most). */
  spawnedAt: PythonFrame[];
  /** An active, referenced hub watcher wakes it: it keeps the gevent hub (and the worker) alive. */
  keepsHubAlive: boolean;
}

/** A module global of the app (or one attribute of one) that holds a library's object. */
export interface PythonHolder {
  module: string;
  file: string;
  /** `client`, or `db.client` */
  name: string;
  /** The object's class, module-qualified: pymongo.mongo_client.MongoClient */
  type: string;
  /** Where the module assigns it. */
  line?: number;
  code?: string;
}

export interface PythonState {
  version: string;
  /** With the GIL free at once, or as a pending call at the main thread's next bytecode. */
  readBy: 'gil-free' | 'pending-call';
  /** How long the process was held stopped (measured from /proc while gdb held it). */
  pauseMs: number;
  /** The payload's own walk, inside the target. */
  walkMs: number;
  threads: PythonThread[];
  greenlets: PythonGreenlet[];
  /** The gevent hub's active referenced watchers that wake no greenlet (a callback). */
  otherHubWatchers: Array<{ type: string; callback?: string }>;
  holders: PythonHolder[];
  /** A cap or the payload's time budget was hit: lists are partial. */
  truncated: boolean;
}

export interface PoolState {
  package: string;
  min: number;
  size: number;
  inUse: number;
  idleTimeoutMs: number;
  /** When its last idle connection is reaped and its timer stops; null: never (min > 0, or a connection in use). */
  lettingGoInMs: number | null;
}

export interface SnapshotContext {
  /** The peers (address:port) of reload-doctor's own --exercise connections. */
  exerciseClients?: string[];
  /** npm packages the process has loaded (from its scripts' paths): which libraries it uses. */
  loadedPackages?: PackageRef[];
  /** Pools that reap their own idle connections (tarn, sequelize-pool): whether and when they let go. */
  pools?: PoolState[];
  uwsgi?: { gevent: boolean; waitForHub: boolean; workerReloadMercyMs: number; options: Record<string, string> };
  /** Wake-ups per second over the mercy window (voluntary context switches). */
  wakeupsPerSecond?: number;
  /** A Node cluster worker. */
  clusterWorker?: boolean;
  /** Its child processes still alive after the signal (they have a report of their own). */
  stuckChildren?: number[];
}

export interface UsageSample {
  atMs: number;
  cpuPercent: number;
  rssBytes: number;
}

export type Outcome =
  /** Exited before the mercy ran out. */
  | 'exited'
  /** Still alive at the mercy deadline. */
  | 'still-alive'
  /** Exited, but only after the mercy (the snapshot was being taken). */
  | 'exited-late'
  /** Died at once: no listener for the signal, so Node's default action killed it. */
  | 'not-graceful'
  /** Ignores the signal entirely (SIG_IGN, or a Node process running as PID 1). */
  | 'ignored'
  /** Still alive, as a master should be on a reload signal, and every worker was replaced in time. */
  | 'reloaded';

export interface Verdict {
  outcome: Outcome;
  signal: string;
  mercyMs: number;
  /**
   * When the verdict was taken, ms after the signal: the mercy, or earlier for a master that
   * kills its own stuck workers first (uWSGI's worker-reload-mercy).
   */
  deadlineMs: number;
  /** Time from the signal to the exit, when it exited. */
  exitedAfterMs?: number;
  /** CPU was near 100 % at the deadline. */
  busy: boolean;
  hadListener?: boolean;
  samples: UsageSample[];
  killed: boolean;
  /** A master's workers that outlived the mercy (the tree's report has them). */
  stuckWorkers?: number;
}

export type Severity = 'blocks' | 'warning' | 'harmless';

export interface Finding {
  id: string;
  title: string;
  severity: Severity;
  owner?: PackageRef;
  /** Where in the app (or library) the handles come from. */
  location?: SourceLocation;
  why: string;
  fix: string;
  handles: Handle[];
  /**
   * Attach mode, a library's finding: the app variable that holds it. "held by": the app keeps
   * it; "captured by its callback": only the culprit's own callback's closure does.
   */
  heldBy?: Holder & { how: 'held by' | 'captured by its callback' };
}

/** `reload-doctor run`: what happened to the service besides the verdict. */
export interface RunInfo {
  command: string;
  /** The process we started (npm, a shell, or the app itself): its process group is the tree. */
  servicePid: number;
  /** The service's own Node process (not npm), when there is one. */
  appPid?: number;
  readyAfterMs: number;
  /** What made it count as ready. */
  readyBy: string;
  /** The creation-stack hook ran in the app: findings point at the line that created them. */
  creationStacks: boolean;
  exit?: { code: number | null; signal: string | null };
  exercise?: {
    url: string;
    warmup: { sent: number; answered: number };
    keepAliveConnections: number;
    inFlight: { outcome: 'completed' | 'completed-before-signal' | 'dropped' | 'unanswered'; status?: number; afterSignalMs?: number; error?: string };
  };
  /** `--load`: the steady stream of requests across the signal. */
  load?: LoadReport;
  /** Processes of the tree still alive after the service exited (killed by us). */
  leftBehind: Array<{ pid: number; command: string }>;
  /** Processes killed at the end (the whole tree, when it did not exit in time). */
  killedPids: number[];
}

/** One process of the target's tree (`reload-doctor <master pid>`). */
export interface TreeMember {
  pid: number;
  ppid: number;
  command: string;
  /** There at the signal (an old worker), or appeared after it (a replacement). */
  original: boolean;
  exitedAfterMs?: number;
  appearedAfterMs?: number;
  wakeupsPerSecond?: number;
  /** CPU over the window, % of one core. */
  cpuPercent?: number;
  /** An original still alive at the mercy. */
  stuck: boolean;
  runtime?: 'node' | 'other';
  snapshot?: Snapshot;
  findings?: Finding[];
}

export interface TreeReport {
  /** uwsgi, a Node cluster primary, or any parent of worker processes. */
  kind: 'uwsgi' | 'node' | 'other';
  members: TreeMember[];
  /** The master kills stuck workers itself after this long (uWSGI worker-reload-mercy). */
  masterMercyMs?: number;
}

/**
 * The shutdown as it happened, from the signal to the exit or the deadline: recorded inside the
 * target with its own clock (src/in-target/timeline-recorder.ts), times in ms after the signal.
 */
export interface Timeline {
  /** Where the record came from: brought out at the deadline, written by the target as it exited, or none. */
  source: 'deadline' | 'exit' | 'none';
  /** The mercy's end, ms after the signal. */
  deadlineMs: number;
  events: TimelineEvent[];
  /** One per owner of what held the loop at the signal (a finding's owner), with when it let go. */
  lanes: TimelineLane[];
  notes: string[];
}

export interface TimelineEvent {
  atMs: number;
  /** request: what reload-doctor's own traffic saw (--exercise, --load), by its clock. */
  kind: 'handler' | 'closed' | 'loop-empty' | 'exit' | 'remained' | 'request';
  /** What happened, in words ("server 127.0.0.1:8080 stopped listening"). */
  what: string;
  /** The lane it belongs to, when it belongs to one. */
  lane?: string;
}

export interface TimelineLane {
  /** The owner's name: a finding's title without times ("pg pool never ended", "Timeout every 1000 ms"). */
  name: string;
  package?: PackageRef;
  /** How many of its resources were open at the signal. */
  resources: number;
  /** When the last of them ended (ms after the signal); null: some were still open at the deadline (or the exit). */
  endMs: number | null;
}

export interface LoadReport {
  url: string;
  ratePerSecond: number;
  /** Requests sent in all (before and after the signal), and how many got an answer. */
  sent: number;
  answered: number;
  /** Requests sent after the signal and before the exit. */
  afterSignal: {
    sent: number;
    /** Answered with a status below 500. */
    completed: number;
    /** Refused, reset, timed out, or answered 5xx. */
    failed: number;
    /** Neither answered nor failed when the check ended. */
    unanswered: number;
    /** Failures by reason: "ECONNREFUSED", "ECONNRESET", "HTTP 503", … */
    failures: Record<string, number>;
  };
  /** When the last request sent after the signal was answered (ms after the signal). */
  lastServedMs: number | null;
  /** With an HTTP readiness URL: when it stopped answering 2xx (ms after the signal), or null if it never did. */
  readiness: { url: string; lostMs: number | null } | null;
}
