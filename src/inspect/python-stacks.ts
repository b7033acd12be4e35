// --py-stacks: a stuck Python process's threads, greenlets and holders, read from inside it
// (src/in-target/python-stacks-payload.ts, run there by src/reach/python-injection.ts) and
// decoded as hostile data: every field checked, every list capped. When it cannot be read
// (no privileges, no gdb, not a verified CPython), one note says why and the /proc view stays.
import type { PythonFrame, PythonGreenlet, PythonHolder, PythonState, PythonThread, Snapshot } from '../core/types.js';
import { pythonStacksSource } from '../in-target/python-stacks-payload.js';
import { injectionUnavailable, runPythonInTarget } from '../reach/python-injection.js';
import { findPythonRuntime } from '../reach/python-runtime.js';

/** The payload's own walk inside the target (it stops early and says "truncated"). */
const WALK_BUDGET_S = 0.25;
const MAX_ITEMS = 2000;
const MAX_FRAMES = 40;

/** How long one process's read may take, gdb's start and a pending call's wait included. */
export const PYTHON_READ_BUDGET_MS = 3000;

export interface PythonRead {
  python?: PythonState;
  /** One line when it was not read (or read only in part). */
  note?: string;
}

export async function readPythonStacks(pid: number, budgetMs: number): Promise<PythonRead> {
  const unavailable = injectionUnavailable();
  if (unavailable) return { note: `--py-stacks: ${unavailable}; showing what /proc tells` };
  const lookup = findPythonRuntime(pid);
  if ('notPython' in lookup) return { note: '--py-stacks: no CPython interpreter is mapped in this process' };
  if ('unsupported' in lookup) return { note: `--py-stacks: ${lookup.unsupported}` };
  const deadlineEpochS = (Date.now() + budgetMs) / 1000;
  const injection = await runPythonInTarget(pid, lookup.runtime, {
    source: (outputPath) => pythonStacksSource({ outputPath, deadlineEpochS, walkBudgetS: WALK_BUDGET_S }),
  }, budgetMs);
  const decoded = injection.output === undefined ? undefined : decodePythonState(injection.output);
  if (!decoded) return { note: `--py-stacks: ${injection.note ?? 'its answer could not be read'}` };
  const python: PythonState = { ...decoded, version: lookup.runtime.version, readBy: injection.path!, pauseMs: injection.pauseMs };
  return { python, note: injection.note && `--py-stacks: ${injection.note}` };
}

/** The snapshot with what the read found, or its note. */
export function withPythonStacks(snapshot: Snapshot, read: PythonRead): Snapshot {
  return { ...snapshot, ...(read.python ? { python: read.python } : {}), notes: read.note ? [...snapshot.notes, read.note] : snapshot.notes };
}

type Raw = Record<string, unknown>;

const isRecord = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown, max = 300): string | undefined => (typeof value === 'string' ? value.slice(0, max) : undefined);
const int = (value: unknown): number | undefined => (typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined);
const list = (value: unknown, max = MAX_ITEMS): unknown[] => (Array.isArray(value) ? value.slice(0, max) : []);

/** The payload's JSON as PythonState (without what only the reader knows), or undefined. */
export function decodePythonState(text: string): Omit<PythonState, 'version' | 'readBy' | 'pauseMs'> | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(raw) || raw.v !== 1) return undefined;
  const wakers = new Set(list(raw.hubWatchers).filter(isRecord).map((w) => int(w.wakes)).filter((id): id is number => id !== undefined));
  const threads = list(raw.threads).filter(isRecord).map(threadOf).filter((t): t is PythonThread => t !== undefined);
  const greenlets = list(raw.greenlets).filter(isRecord).map((g) => greenletOf(g, wakers)).filter((g): g is PythonGreenlet => g !== undefined);
  // Under gevent's monkey-patching a threading.Thread is a greenlet (its ident is the greenlet's id): listed once, as the greenlet.
  const greenletIds = new Set(greenlets.map((g) => g.id));
  const osThreads = threads.filter((t) => !greenletIds.has(t.ident));
  const otherHubWatchers = list(raw.hubWatchers).filter(isRecord).filter((w) => int(w.wakes) === undefined)
    .map((w) => ({ type: str(w.type, 40) ?? 'watcher', callback: str(w.callback, 200) }));
  // One module under two names (__main__ and multiprocessing's __mp_main__): each holder once.
  const holders = [...new Map(list(raw.holders).filter(isRecord).map(holderOf).filter((h): h is PythonHolder => h !== undefined)
    .map((h) => [`${h.file}\u0000${h.name}`, h] as const)).values()];
  return {
    threads: osThreads, greenlets, otherHubWatchers, holders,
    walkMs: typeof raw.walkMs === 'number' && Number.isFinite(raw.walkMs) ? raw.walkMs : 0,
    truncated: raw.truncated === true,
  };
}

function framesOf(value: unknown): PythonFrame[] {
  return list(value, MAX_FRAMES).filter(isRecord).map((f) => ({
    file: str(f.file, 1000) ?? '?',
    line: int(f.line) ?? 0,
    function: str(f.function, 200) ?? '?',
    ...(str(f.code) ? { code: str(f.code)! } : {}),
  }));
}

function threadOf(raw: Raw): PythonThread | undefined {
  const ident = int(raw.ident);
  if (ident === undefined) return undefined;
  return {
    ident,
    name: str(raw.name, 200),
    daemon: typeof raw.daemon === 'boolean' ? raw.daemon : undefined,
    main: raw.main === true,
    stack: framesOf(raw.stack),
  };
}

function greenletOf(raw: Raw, wakers: Set<number>): PythonGreenlet | undefined {
  const id = int(raw.id);
  if (id === undefined) return undefined;
  return {
    id,
    type: str(raw.type, 100) ?? 'greenlet',
    name: str(raw.name, 200),
    thread: str(raw.thread, 200),
    main: raw.main === true,
    stack: framesOf(raw.stack),
    spawnedAt: framesOf(raw.spawnedAt),
    keepsHubAlive: wakers.has(id),
  };
}

function holderOf(raw: Raw): PythonHolder | undefined {
  const name = str(raw.name, 200);
  const type = str(raw.type, 300);
  if (!name || !type) return undefined;
  return {
    module: str(raw.module, 300) ?? '?',
    file: str(raw.file, 1000) ?? '?',
    name,
    type,
    ...(int(raw.line) ? { line: int(raw.line)! } : {}),
    ...(str(raw.code) ? { code: str(raw.code)! } : {}),
  };
}
