// The options of a check, as a user gives them (the API's object, the CLI's flags, the
// `reloadDoctor` key of package.json), checked once and turned into a mode's request. Every
// mistake is a UsageError naming the option, thrown before anything is started or signalled.
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDuration } from '../core/duration.js';
import { UsageError, messageOf } from '../core/errors.js';
import type { HeapSnapshotRequest, UsageSample } from '../core/types.js';
import type { AttachRequest } from '../modes/attach.js';
import type { RunRequest } from '../modes/run.js';
import { parseReadySpec } from '../probe/ready.js';
import { parseSignal } from '../probe/signals.js';
import { readTargetFile } from '../reach/target-files.js';

/** A duration: "500ms", "10s", "2m" (a bare number in a string is seconds), or a number of milliseconds. */
export type Duration = string | number;

interface CommonOptions {
  /** How long to wait for the exit after the signal (default "10s"). */
  mercy?: Duration;
  /** The graceful signal: "SIGTERM" (default), "SIGINT", "SIGHUP", "TERM", 15… */
  signal?: string;
  /** Record what ends when during the shutdown (default true). */
  timeline?: boolean;
  /**
   * Stuck Python processes (uWSGI workers, or the Python process itself): read their threads,
   * greenlets and holders from inside with gdb (default false). Each is paused ~0.1 s; needs
   * root or CAP_SYS_PTRACE and gdb.
   */
  pyStacks?: boolean;
  /** Stops the check: what it opened is closed (a service it started is killed), then it rejects with an AbortError. */
  abortSignal?: AbortSignal;
}

/** Run mode: start the service, wait until it is ready, signal it. */
export interface RunOptions extends CommonOptions {
  /** The service's command and arguments, run without a shell: ["node", "server.js"] (default: "command" in package.json's reloadDoctor key). */
  command?: string[];
  /** Where it runs (default: the current directory). Its package.json's `reloadDoctor` key gives defaults. */
  cwd?: string;
  /** Added to the current environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** "port:3000", "http://127.0.0.1:3000/health", "log:<regex>", "delay:2s" (default: its first listening port). */
  ready?: string;
  /** Give up (ServiceNotReadyError) if it is not ready by then (default "60s"). */
  readyTimeout?: Duration;
  /** Keep it running this long once ready, before the signal. */
  hold?: Duration;
  /** An http(s) URL: requests over keep-alive connections, one in flight at the signal. */
  exercise?: string;
  /** With `exercise`: requests per second kept going across the signal (1 to 2000). */
  load?: number;
  /** Record where handles are created (default true). */
  creationStacks?: boolean;
  /** Read defaults from the `reloadDoctor` key of package.json in `cwd` (default true). */
  packageDefaults?: boolean;
  /** Each line the service writes (default: dropped). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** Attach mode: a process that is already running. */
export interface AttachOptions extends CommonOptions {
  pid: number;
  /** Open the Node inspector with SIGUSR1 (default true); false: /proc only. */
  inspector?: boolean;
  /** SIGKILL it after the report if it is still alive (default false). */
  kill?: boolean;
  /**
   * Look for the holders the walk cannot see (#private fields, WeakMap values) in a heap snapshot
   * (default false). It freezes the target for seconds: refused above the budget unless `force`.
   */
  heapSnapshot?: boolean;
  /** With heapSnapshot: take it even above the budget. */
  force?: boolean;
  /** Told the heap snapshot's estimated freeze and memory before it is taken. */
  onEstimate?: (line: string) => void;
}

export type CheckOptions = RunOptions | AttachOptions;

/** What the CLI adds that the API does not offer (a live countdown). */
export interface Progress {
  onTick?: (elapsedMs: number, latest: UsageSample | undefined, mercyMs: number) => void;
}

export type ModeRequest =
  | { mode: 'attach'; request: AttachRequest }
  | { mode: 'run'; request: RunRequest };

const DEFAULT_MERCY = '10s';
const DEFAULT_READY_TIMEOUT = '60s';

/** The keys package.json's `reloadDoctor` may hold: run's options, by the API's names. */
const PACKAGE_KEYS = ['command', 'mercy', 'signal', 'ready', 'readyTimeout', 'hold', 'exercise', 'load', 'timeline', 'creationStacks', 'pyStacks'] as const;

export function resolveOptions(options: CheckOptions, progress: Progress = {}): ModeRequest {
  if (options === null || typeof options !== 'object') throw new UsageError('the options must be an object: { command: [...] } or { pid }');
  const hasPid = 'pid' in options && options.pid !== undefined;
  const hasCommand = 'command' in options && options.command !== undefined;
  if (hasPid && hasCommand) throw new UsageError('give either a command (run mode) or a pid (attach mode), not both');
  if (hasPid) return { mode: 'attach', request: attachRequest(options as AttachOptions, progress) };
  return { mode: 'run', request: runRequest(options as RunOptions, progress) };
}

function attachRequest(options: AttachOptions, progress: Progress): AttachRequest {
  const { pid } = options;
  if (!Number.isSafeInteger(pid) || pid < 1) throw new UsageError(`pid: "${String(pid)}" is not a process id (a positive whole number)`);
  return {
    pid,
    signal: parseSignal(text(options.signal, 'signal') ?? 'SIGTERM'),
    mercyMs: duration(options.mercy ?? DEFAULT_MERCY, 'mercy'),
    kill: options.kill === true,
    useInspector: options.inspector !== false,
    timeline: flag(options.timeline, 'timeline'),
    pyStacks: flag(options.pyStacks, 'pyStacks') && options.pyStacks === true,
    heapSnapshot: heapSnapshotRequest(options),
    onTick: ticking(progress, options.mercy ?? DEFAULT_MERCY),
  };
}

/** --heap-snapshot and --force, checked. */
export function heapSnapshotRequest(options: { heapSnapshot?: unknown; force?: unknown; onEstimate?: (line: string) => void }): HeapSnapshotRequest | undefined {
  const wanted = flag(options.heapSnapshot, 'heapSnapshot') && options.heapSnapshot === true;
  const force = flag(options.force, 'force') && options.force === true;
  if (force && !wanted) throw new UsageError('force goes with heapSnapshot (--force with --heap-snapshot)');
  return wanted ? { force, onEstimate: options.onEstimate } : undefined;
}

function runRequest(given: RunOptions, progress: Progress): RunRequest {
  const cwd = checkDirectory(given.cwd);
  const options = given.packageDefaults === false ? given : { ...packageDefaults(cwd), ...definedOnly(given) };
  const command = checkCommand(options.command);
  const exercise = options.exercise === undefined ? undefined : parseUrl(options.exercise);
  if (options.load !== undefined && !exercise) throw new UsageError('load needs exercise: the URL the requests go to (--load needs --exercise <url>)');
  return {
    command,
    cwd,
    env: checkEnv(options.env),
    signal: parseSignal(text(options.signal, 'signal') ?? 'SIGTERM'),
    mercyMs: duration(options.mercy ?? DEFAULT_MERCY, 'mercy'),
    ready: parseReadySpec(text(options.ready, 'ready')),
    readyTimeoutMs: duration(options.readyTimeout ?? DEFAULT_READY_TIMEOUT, '--ready-timeout'),
    exercise,
    loadRate: options.load === undefined ? undefined : parseRate(options.load),
    holdMs: options.hold === undefined ? undefined : duration(options.hold, '--hold'),
    timeline: flag(options.timeline, 'timeline'),
    creationStacks: flag(options.creationStacks, 'creationStacks'),
    pyStacks: flag(options.pyStacks, 'pyStacks') && options.pyStacks === true,
    onServiceLine: (stream, line) => options.onOutput?.(line, stream),
    onTick: ticking(progress, options.mercy ?? DEFAULT_MERCY),
  };
}

function ticking(progress: Progress, mercy: Duration): ((elapsedMs: number, latest: UsageSample | undefined) => void) | undefined {
  const { onTick } = progress;
  if (!onTick) return undefined;
  const mercyMs = duration(mercy, 'mercy');
  return (elapsedMs, latest) => onTick(elapsedMs, latest, mercyMs);
}

function text(value: unknown, what: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw new UsageError(`${what} must be a string`);
  return value;
}

/** On unless false. */
function flag(value: unknown, what: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new UsageError(`${what} must be true or false`);
  return value !== false;
}

/** "10s" as the CLI reads it; a number is milliseconds. */
function duration(value: Duration, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new UsageError(`invalid ${what} ${value}: a number of milliseconds from 1 to 24 h`);
    return parseDuration(`${value}ms`, what);
  }
  if (typeof value !== 'string') throw new UsageError(`invalid ${what}: a duration such as "3s", or a number of milliseconds`);
  return parseDuration(value, what);
}

function checkCommand(command: unknown): string[] {
  if (command === undefined) {
    throw new UsageError('no command to run: give it after --, e.g. reload-doctor run -- node server.js (or as "command" in the reloadDoctor key of package.json)');
  }
  if (!Array.isArray(command) || command.some((word) => typeof word !== 'string')) {
    throw new UsageError('command must be an array of strings, e.g. ["node", "server.js"] (it runs without a shell)');
  }
  if (command.length === 0 || command[0]!.trim() === '') throw new UsageError('no command to run: give it after --, e.g. reload-doctor run -- node server.js');
  return command as string[];
}

function checkDirectory(cwd: string | undefined): string | undefined {
  if (cwd === undefined) return undefined;
  if (typeof cwd !== 'string') throw new UsageError('cwd must be a path');
  const where = resolve(cwd);
  if (!statSync(where, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`cwd "${cwd}" is not a directory`);
  return where;
}

function checkEnv(env: unknown): Record<string, string | undefined> | undefined {
  if (env === undefined) return undefined;
  const valid = env !== null && typeof env === 'object' && Object.values(env).every((value) => value === undefined || typeof value === 'string');
  if (!valid) throw new UsageError('env must be an object of strings, e.g. { PORT: "0" }');
  return env as Record<string, string | undefined>;
}

/** A pid as the command line gives it (text): a positive whole number. */
export function parsePid(text: string): number {
  const pid = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(pid) || pid < 1) throw new UsageError(`"${text}" is not a process id (a positive whole number)`);
  return pid;
}

/** Requests per second: a number from 1 to 2000 (a CI runner, not a load tester). */
export function parseRate(rate: unknown): number {
  const value = typeof rate === 'string' && /^\d+(\.\d+)?$/.test(rate) ? Number(rate) : rate;
  if (typeof value !== 'number' || !(value >= 1 && value <= 2000)) throw new UsageError(`invalid --load "${String(rate)}": requests per second, from 1 to 2000`);
  return value;
}

function parseUrl(text: unknown): URL {
  const problem = `invalid --exercise "${String(text)}": use an http:// or https:// URL`;
  if (typeof text !== 'string') throw new UsageError(problem);
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new UsageError(problem, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(problem);
  return url;
}

/** An option the caller left undefined does not hide the package's default. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** The `reloadDoctor` key of the service's package.json: run's options, checked like the caller's. */
function packageDefaults(cwd: string | undefined): Partial<RunOptions> {
  const path = join(cwd ?? process.cwd(), 'package.json');
  const text = readTargetFile(path);
  if (text === undefined) return {};
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`cannot read the reloadDoctor defaults in ${path}: ${messageOf(error)}`, { cause: error });
  }
  const defaults = (manifest as { reloadDoctor?: unknown } | null)?.reloadDoctor;
  if (defaults === undefined) return {};
  if (defaults === null || typeof defaults !== 'object' || Array.isArray(defaults)) throw new UsageError(`"reloadDoctor" in ${path} must be an object of run's options`);
  const unknown = Object.keys(defaults).filter((key) => !(PACKAGE_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new UsageError(`"reloadDoctor" in ${path} has unknown keys: ${unknown.join(', ')} (known: ${PACKAGE_KEYS.join(', ')})`);
  const found = defaults as Record<string, unknown>;
  // A command may be written as one string of words ("node server.js"): split on spaces, no shell.
  if (typeof found.command === 'string') return { ...found, command: found.command.trim().split(/\s+/) } as Partial<RunOptions>;
  return found as Partial<RunOptions>;
}
