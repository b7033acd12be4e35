// Runs a short Python source once inside a live CPython process, with gdb, and brings back the
// one file it writes. The guards (../shared/DESIGN.md, "Python workers"):
// - gdb calls addresses we resolved ourselves (python-runtime.ts), with symbol reading (--readnever: 0.07 s
//   attach and detach on python3.11, not 0.37 s), shared-library loading, auto-load
//   scripts and debuginfod off: the process is stopped ~65-100 ms, not ~0.5 s, and nothing the
//   target ships is run as our user;
// - the source is put in an mmap'd buffer (no malloc inside a process that may hold malloc's lock);
// - a -x command file stops at the first error (an -ex chain would carry on);
// - the GIL free (`_PyThreadState_UncheckedGet()` is NULL): Ensure, run, Release, on the main
//   thread with the others held still; else `Py_AddPendingCall`: the main thread runs it at its
//   next bytecode, and a second short stop unmaps the buffer once it has;
// - gdb is never killed (killing it mid-call killed the worker with SIGTRAP): it runs in its own
//   session, deaf to our Ctrl-C, and past the time budget it is left to finish on its own;
// - the output directory is ours, made inside the target's /tmp for its user; the file is created
//   there with O_EXCL | O_NOFOLLOW, read back as hostile (regular, capped, not followed), and
//   removed with its directory on every path.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { addCleanup } from '../core/cleanups.js';
import { readStat, readStatusFields } from './proc.js';
import { createDropBoxInTargetTmp } from './drop-box.js';
import type { PythonRuntime } from './python-runtime.js';

const CAP_SYS_PTRACE = 19;
const MAX_OUTPUT_BYTES = 8 << 20;
/** How often the target's state is read while gdb holds it (its pause is measured, not guessed). */
const PAUSE_POLL_MS = 4;
const OUTPUT_POLL_MS = 20;

export interface InjectionSource {
  /** Python source; it must write its result to `outputPath` (as the target sees it) and nothing else. */
  source: (outputPath: string) => string;
}

export interface Injection {
  /** The file the source wrote, or undefined (see note). */
  output?: string;
  /** How it ran: at once with the GIL free, or as a pending call at the main thread's next bytecode. */
  path?: 'gil-free' | 'pending-call';
  /** How long the target was seen stopped by gdb, in all (both stops on the pending path). */
  pauseMs: number;
  /** From gdb's start to the output read back. */
  totalMs: number;
  /** Why there is no output, or what was left behind. */
  note?: string;
}

/** Why --py-stacks cannot run at all from here, or undefined when it can. */
export function injectionUnavailable(): string | undefined {
  if (!hasPtraceCapability()) return 'it needs root or CAP_SYS_PTRACE to attach gdb';
  if (!findGdb()) return 'it needs gdb (Debian package gdb)';
  return undefined;
}

export async function runPythonInTarget(pid: number, runtime: PythonRuntime, what: InjectionSource, budgetMs: number): Promise<Injection> {
  const started = performance.now();
  const gdb = findGdb()!;
  const ours = mkdtempSync(join(tmpdir(), 'reload-doctor-py-'));
  const box = createDropBoxInTargetTmp(pid, 'state.json', MAX_OUTPUT_BYTES);
  const cleanup = () => {
    rmSync(ours, { recursive: true, force: true });
    box?.remove();
  };
  const unregister = addCleanup(async () => cleanup());
  try {
    if (!box) return { pauseMs: 0, totalMs: 0, note: "no private directory could be made in the target's /tmp for its answer" };
    const source = Buffer.from(what.source(box.path), 'utf8');
    // Zero-filled by mmap: one spare byte at least, the C string's NUL.
    const size = Math.ceil((source.length + 1) / 4096) * 4096;
    const payloadFile = join(ours, 'payload.py');
    writeFileSync(payloadFile, source, { mode: 0o600 });
    const commands = join(ours, 'read.gdb');
    writeFileSync(commands, readCommands(runtime, payloadFile, size), { mode: 0o600 });

    const first = await runGdb(gdb, pid, commands, ours, started + budgetMs);
    let pauseMs = first.pauseMs;
    if (!first.exited) return { pauseMs, totalMs: elapsed(started), note: `gdb did not finish within ${budgetMs} ms; it was left to finish on its own (pid ${first.gdbPid}), never killed mid-call` };
    const done = /RD-DONE gil-free (-?\d+)/.exec(first.output);
    const pending = /RD-PENDING (-?\d+) (0x[0-9a-f]+)/.exec(first.output);
    if (done) {
      const output = box.read();
      return { output, path: 'gil-free', pauseMs, totalMs: elapsed(started), note: output === undefined ? `the Python code ran but wrote nothing (PyRun_SimpleString returned ${done[1]})` : undefined };
    }
    if (!pending) return { pauseMs, totalMs: elapsed(started), note: `gdb could not run it: ${lastGdbError(first.output)}` };
    if (pending[1] !== '0') return { pauseMs, totalMs: elapsed(started), note: 'the interpreter refused the pending call (its queue is full)' };

    // The main thread runs it at its next bytecode: wait for the answer, within the budget.
    let output = box.read();
    while (output === undefined && performance.now() < started + budgetMs) {
      await sleep(OUTPUT_POLL_MS);
      output = box.read();
    }
    if (output === undefined) {
      return { pauseMs, path: 'pending-call', totalMs: elapsed(started), note: `the main thread held the GIL and did not reach its next bytecode within ${budgetMs} ms; the read stays queued (its ${size / 1024} KiB buffer stays mapped) and does nothing once it runs late` };
    }
    // It has run (the source was compiled before it wrote): the buffer can go.
    writeFileSync(commands, unmapCommands(runtime, pending[2]!, size), { mode: 0o600 });
    const second = await runGdb(gdb, pid, commands, ours, performance.now() + budgetMs);
    pauseMs += second.pauseMs;
    const unmapped = second.exited && /RD-UNMAPPED 0\b/.test(second.output);
    return { output, path: 'pending-call', pauseMs, totalMs: elapsed(started), note: unmapped ? undefined : `its ${size / 1024} KiB buffer could not be unmapped afterwards` };
  } finally {
    unregister();
    cleanup();
  }
}

const elapsed = (since: number) => Math.round(performance.now() - since);

const hex = (address: bigint) => `0x${address.toString(16)}`;

/** The first stop: map a buffer, fill it, then run it now (GIL free) or queue it (GIL held). */
function readCommands(runtime: PythonRuntime, payloadFile: string, size: number): string {
  const { python: py, libc } = runtime;
  return [
    'set scheduler-locking on',
    'thread 1',
    `set $tstate = ((void *(*)(void)) ${hex(py._PyThreadState_UncheckedGet)})()`,
    `set $buf = ((void *(*)(void *, unsigned long, int, int, int, long)) ${hex(libc.mmap)})(0, ${size}, 3, 0x22, -1, 0)`,
    'if $buf == (void *) -1',
    '  echo RD-MMAP-FAILED\\n',
    'else',
    `  restore ${payloadFile} binary $buf`,
    '  if $tstate == 0',
    `    set $gil = ((int (*)(void)) ${hex(py.PyGILState_Ensure)})()`,
    `    set $rc = ((int (*)(const char *)) ${hex(py.PyRun_SimpleString)})((const char *) $buf)`,
    `    call ((void (*)(int)) ${hex(py.PyGILState_Release)})($gil)`,
    `    call ((int (*)(void *, unsigned long)) ${hex(libc.munmap)})($buf, ${size})`,
    '    printf "RD-DONE gil-free %d\\n", $rc',
    '  else',
    // The GIL's holder may need the pending-calls lock to go on: let every thread run during this call.
    '    set scheduler-locking off',
    `    set $rc = ((int (*)(void *, void *)) ${hex(py.Py_AddPendingCall)})((void *) ${hex(py.PyRun_SimpleString)}, $buf)`,
    '    printf "RD-PENDING %d 0x%lx\\n", $rc, $buf',
    '  end',
    'end',
    'detach',
    '',
  ].join('\n');
}

function unmapCommands(runtime: PythonRuntime, buffer: string, size: number): string {
  return [
    'set scheduler-locking on',
    'thread 1',
    `set $rc = ((int (*)(void *, unsigned long)) ${hex(runtime.libc.munmap)})((void *) ${buffer}, ${size})`,
    'printf "RD-UNMAPPED %d\\n", $rc',
    'detach',
    '',
  ].join('\n');
}

interface GdbRun { exited: boolean; output: string; pauseMs: number; gdbPid?: number }

/**
 * One gdb session, waited for until `deadline`; past it gdb is left running (never killed: it may
 * be inside a call in the target). Its output goes to a file, so that it outlives us if need be.
 */
async function runGdb(gdb: string, pid: number, commands: string, dir: string, deadline: number): Promise<GdbRun> {
  const logPath = join(dir, `gdb-${performance.now().toFixed(0)}.log`);
  const log = openSync(logPath, 'w', 0o600);
  const args = [
    '-nx', '-batch', '-q', '--readnever',
    '-iex', 'set auto-load off', '-iex', 'set auto-solib-add off', '-iex', 'set debuginfod enabled off',
    '-iex', 'set pagination off', '-iex', 'set confirm off',
    '-p', String(pid), '-x', commands,
  ];
  const child = spawn(gdb, args, { detached: true, stdio: ['ignore', log, log], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } });
  closeSync(log);
  const exited = new Promise<boolean>((resolve) => {
    child.once('exit', () => resolve(true));
    child.once('error', () => resolve(true));
  });
  let stoppedMs = 0;
  let last = performance.now();
  let finished = false;
  void exited.then(() => { finished = true; });
  while (!finished && performance.now() < deadline) {
    await Promise.race([sleep(PAUSE_POLL_MS), exited]);
    const now = performance.now();
    if (readStat(pid)?.state === 't') stoppedMs += now - last;
    last = now;
  }
  if (!finished) child.unref();
  const output = (() => { try { return readFileSync(logPath, 'utf8').slice(-64 * 1024); } catch { return ''; } })();
  return { exited: finished, output, pauseMs: Math.round(stoppedMs), gdbPid: child.pid };
}

function lastGdbError(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line && !/^\[|^Reading symbols|^warning: /.test(line));
  return (lines.find((line) => /ptrace|Operation not permitted|No such process|Cannot access memory|error/i.test(line)) ?? lines.at(-1) ?? 'no output').slice(0, 300);
}

function hasPtraceCapability(): boolean {
  const effective = readStatusFields(process.pid).get('CapEff');
  if (!effective) return process.getuid?.() === 0;
  return (BigInt(`0x${effective}`) >> BigInt(CAP_SYS_PTRACE)) % 2n === 1n;
}

/** gdb from the system's directories first, then PATH. */
function findGdb(): string | undefined {
  const dirs = ['/usr/bin', '/bin', '/usr/local/bin', ...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir.startsWith('/'))];
  for (const dir of dirs) {
    const file = join(dir, 'gdb');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}
