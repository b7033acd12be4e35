// `run` mode's reach: start the service with a small file loaded before the first line of every
// Node process in it (--require; through NODE_OPTIONS for wrappers such as npm start). That
// file (in-target/run-preload.ts) reports each process to us, installs the creation-stack hook
// in the app, and makes any later SIGUSR1 open the inspector on an ephemeral port. No
// inspector is open while the service runs: reload-doctor opens one only at the deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { RUN_DIR_PREFIX } from '../core/format.js';
import { StringDecoder } from 'node:string_decoder';
import { bestEffort } from '../core/debug.js';
import { ReachError } from '../core/errors.js';
import { CREATION_KEY, installCreationHook } from '../in-target/creation-hook.js';
import { WINDOW_KEY, quietClusterDebugging } from '../in-target/inspector-window.js';
import { emptyPromiseHookLists } from '../in-target/promise-hook-lists.js';
import { isAppRunner, startUnderRun, type RunPreloadConfig } from '../in-target/run-preload.js';
import { descendantsOf, groupMembers, killTree } from './descendants.js';
import { isAlive, processesWithEnvironment } from './proc.js';
import { isNodeExecutable } from './target.js';

/** The environment variable the service's processes carry (read by run-preload.ts). */
const MARKER = 'RELOAD_DOCTOR_RUN';

/** What Node's inspector prints on stderr when our windows open and close: ours, not the service's. */
const INSPECTOR_NOISE = [
  /^Debugger listening on ws:\/\//, /^For help, see: https:\/\/nodejs\.org\/en\/docs\/inspector/,
  /^Debugger attached\.$/, /^Waiting for the debugger to disconnect\.\.\.$/, /^Debugger ending on ws:\/\//,
];

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() of the exit. */
  at: number;
}

/** A Node process of the service, as its preload reported it. */
export interface ServiceProcess {
  pid: number;
  ppid: number;
  argv: string[];
  /** npm, npx, yarn, pnpm, corepack: they run the app, they are not it. */
  manager: boolean;
  /** The creation-stack hook: "installed", "off", or why it failed. */
  hook: string;
}

export interface ServiceOptions {
  command: string[];
  /** Where it runs (default: ours). */
  cwd?: string;
  /** Added to our environment (a value of undefined removes that variable). */
  env?: Record<string, string | undefined>;
  /** Install the creation-stack hook (default true); off, the service runs at full speed. */
  creationStacks?: boolean;
  /** Every line the service writes (the inspector's own lines left out). */
  onLine(stream: 'stdout' | 'stderr', line: string): void;
}

export class Service {
  readonly child: ChildProcess;
  readonly exited: Promise<ServiceExit>;
  private readonly dir: string;
  private readonly reportFile: string;
  private reportOffset = 0;
  private reportRest = '';
  private readonly processes: ServiceProcess[] = [];
  private exit?: ServiceExit;

  constructor(options: ServiceOptions) {
    const [file, ...args] = options.command;
    // Ours alone (mode 0700): the preload and the processes' reports.
    this.dir = mkdtempSync(join(tmpdir(), RUN_DIR_PREFIX));
    this.reportFile = join(this.dir, 'processes.jsonl');
    writeFileSync(this.reportFile, '');
    const preload = join(this.dir, 'preload.cjs');
    writeFileSync(preload, preloadSource(), { mode: 0o600 });
    const config: RunPreloadConfig = { report: this.reportFile, creationStacks: options.creationStacks !== false, creationKey: CREATION_KEY };
    // Every process of the service inherits it: the preload's config, and the marker by which
    // even a daemon that left the tree and the process group is found at the end.
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, [MARKER]: JSON.stringify(config) };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
    const direct = isNodeExecutable(file!);
    if (!direct) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${quoteForNodeOptions(preload)}`.trim();
    // Its own process group, so the whole tree can be killed at once.
    this.child = spawn(file!, direct ? ['--require', preload, ...args] : args, { env, cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', (error) => reject(new ReachError(`could not start ${file}: ${(error as NodeJS.ErrnoException).code ?? error.message}`, { cause: error })));
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: performance.now() };
        resolve(this.exit);
      });
    });
    this.exited.catch(bestEffort('starting the service (reported where the exit is awaited)'));
    for (const stream of ['stdout', 'stderr'] as const) {
      splitLines(this.child[stream]!, (line) => {
        if (stream === 'stdout' || !INSPECTOR_NOISE.some((noise) => noise.test(line))) options.onLine(stream, line);
      });
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  get hasExited(): ServiceExit | undefined {
    return this.exit;
  }

  /** The service's Node processes that have started their first line, in the order they did. */
  nodeProcesses(): ServiceProcess[] {
    this.readReports();
    return this.processes;
  }

  /** The app: the first Node process of the tree that is not a package manager, still alive. */
  app(): ServiceProcess | undefined {
    return this.nodeProcesses().find((entry) => !entry.manager && isAlive(entry.pid));
  }

  /** Problems preparing the app (the creation hook could not go in). */
  warnings(): string[] {
    return this.nodeProcesses().filter((entry) => !entry.manager && /^failed/.test(entry.hook))
      .map((entry) => `creation stacks are off in pid ${entry.pid}: ${entry.hook}`);
  }

  /**
   * Every process the service started that is still alive: its tree, its process group, and
   * those that left both (a daemon that forked twice and called setsid) but still carry the
   * environment marker every process of the service inherits.
   */
  allProcesses(): number[] {
    if (this.child.pid === undefined) return [];
    const marked = processesWithEnvironment(MARKER, (value) => value.includes(this.dir));
    return [...new Set([this.pid, ...descendantsOf(this.pid), ...groupMembers(this.pid), ...marked])].filter(isAlive);
  }

  /** SIGKILL everything the service started; returns pids that survived (none, normally). */
  async kill(): Promise<number[]> {
    const others = this.allProcesses().filter((pid) => pid !== this.pid);
    const survivors = this.child.pid === undefined ? [] : await killTree(this.pid, this.pid, others);
    rmSync(this.dir, { recursive: true, force: true });
    return survivors;
  }

  private readReports(): void {
    let fd: number;
    try {
      fd = openSync(this.reportFile, 'r');
    } catch (error) {
      bestEffort('reading the service processes report')(error);
      return;
    }
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (let read = readSync(fd, buffer, 0, buffer.length, this.reportOffset); read > 0; read = readSync(fd, buffer, 0, buffer.length, this.reportOffset)) {
        this.reportOffset += read;
        this.reportRest += buffer.subarray(0, read).toString('utf8');
      }
    } finally {
      closeSync(fd);
    }
    const lines = this.reportRest.split('\n');
    this.reportRest = lines.pop() ?? '';
    for (const line of lines) {
      try {
        this.processes.push(JSON.parse(line) as ServiceProcess);
      } catch (error) {
        bestEffort('a line of the service processes report')(error);
      }
    }
  }
}

/** Longer lines are cut: a service may write megabytes without a newline. */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * The stream's lines, each at most MAX_LINE_CHARS (the rest of a longer one is dropped, and the
 * cut is said); memory stays bounded whatever the service writes.
 */
export function splitLines(stream: Readable, onLine: (line: string) => void): void {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let cut = false;
  const take = (text: string) => {
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      const line = cut ? pending : (pending + text.slice(start, newline)).replace(/\r$/, '');
      onLine(cut || line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… (line cut at ${MAX_LINE_CHARS} characters)` : line);
      pending = '';
      cut = false;
      start = newline + 1;
    }
    if (cut) return;
    pending += text.slice(start);
    if (pending.length > MAX_LINE_CHARS) {
      pending = pending.slice(0, MAX_LINE_CHARS);
      cut = true;
    }
  };
  stream.on('data', (chunk: Buffer) => take(decoder.write(chunk)));
  stream.on('end', () => {
    take(decoder.end());
    if (pending || cut) onLine(cut ? `${pending}… (line cut at ${MAX_LINE_CHARS} characters)` : pending);
  });
}

/** The file loaded with --require: the in-target functions, as their own source text. */
function preloadSource(): string {
  const load = "(id) => (typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule(id) : require(id))";
  return [
    "'use strict';",
    '// Written by reload-doctor run; loaded before the first line of each Node process of the service.',
    `(${startUnderRun.toString()})(${load}, ${installCreationHook.toString()}, ${emptyPromiseHookLists.toString()}, ${quietClusterDebugging.toString()}, ${isAppRunner.toString()}, ${JSON.stringify(WINDOW_KEY)});`,
    '',
  ].join('\n');
}

/** NODE_OPTIONS splits on spaces; a path with spaces or quotes goes in double quotes. */
function quoteForNodeOptions(path: string): string {
  return /[\s"\\]/.test(path) ? `"${path.replace(/["\\]/g, '\\$&')}"` : path;
}
