#!/usr/bin/env node
// The command line: flags → the API's options (src/api/) → a rendered report → exit code.
// Errors are one line. Ctrl-C aborts the check, which closes what it opened first.
import { accessSync, appendFileSync, closeSync, constants, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { diagnose, diagnoseHandles } from './api/check.js';
import { parsePid, parseRate } from './api/options.js';
import { describeChain } from './core/debug.js';
import { makeDiagnosis, type Diagnosis } from './core/diagnosis.js';
import { formatDuration } from './core/duration.js';
import { AbortError, UsageError, messageOf } from './core/errors.js';
import { EXIT } from './core/exit-codes.js';
import type { UsageSample } from './core/types.js';
import { TOOL_VERSION as VERSION } from './core/version.js';
import { inert, inertDiagnosis } from './core/sanitize.js';
import { FORMATS, renderPieces, type Format } from './report/formats.js';
import { renderHtml } from './report/html.js';
import { renderTrace } from './report/trace.js';
import { renderMarkdownSummary } from './report/markdown.js';

/** The checkout CI runs in: annotations name files relative to it. */
const CI_WORKSPACE = process.env.GITHUB_WORKSPACE || process.env.CI_PROJECT_DIR || undefined;

/** Where GitHub shows a file of this commit, when the job runs on GitHub (its own variables, checked). */
function githubBlobUrl(): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_SHA: sha } = process.env;
  if (!server || !repository || !sha) return undefined;
  if (!/^https:\/\/[\w.-]+(:\d+)?$/.test(server) || !/^[\w.-]+\/[\w.-]+$/.test(repository) || !/^[0-9a-f]{40}$/.test(sha)) return undefined;
  return `${server}/${repository}/blob/${sha}`;
}

/** Aborted by Ctrl-C (or SIGTERM, SIGHUP to reload-doctor itself): the check cleans up, then we exit 128 + n. */
const interrupts = new AbortController();
let interruptedBy: { signal: string; exitCode: number } | undefined;

function abortOnInterrupt(): void {
  for (const [signal, exitCode] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      interruptedBy = { signal, exitCode };
      process.stderr.write(`\nreload-doctor: interrupted (${signal}); closing what we opened in the target\n`);
      interrupts.abort(signal);
    });
  }
}

interface OutputOptions { json?: boolean; color: boolean; inspector: boolean }

function print(diagnosis: Diagnosis, options: OutputOptions): void {
  const colored = options.color && process.stdout.isTTY === true && !process.env.NO_COLOR;
  for (const piece of renderPieces(options.json ? 'json' : 'text', diagnosis, { color: colored, toolVersion: VERSION, workspace: CI_WORKSPACE })) process.stdout.write(piece);
  process.exitCode = diagnosis.exitCode;
}

/** A report file, written as it is rendered (a big JSON document is never one string). */
function writeReportFile(path: string, format: Format, diagnosis: Diagnosis): void {
  const fd = openSync(path, 'w');
  try {
    for (const piece of renderPieces(format, diagnosis, { color: false, toolVersion: VERSION, workspace: CI_WORKSPACE })) writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
}

/** A live countdown on an interactive terminal only; nothing in pipes or CI logs. */
function countdown(enabled: boolean): { onTick?: (ms: number, sample: UsageSample | undefined, mercyMs: number) => void; clear(): void } {
  if (!enabled || !process.stderr.isTTY || process.env.CI) return { clear() {} };
  return {
    onTick(ms, sample, mercyMs) {
      const usage = sample ? ` · CPU ${sample.cpuPercent} % · RSS ${Math.round(sample.rssBytes / 1048576)} MB` : '';
      process.stderr.write(`\r\x1b[K  waiting ${formatDuration(ms)} / ${formatDuration(mercyMs)}${usage}`);
    },
    clear: () => process.stderr.write('\r\x1b[K'),
  };
}

function addCommonOptions(command: Command): Command {
  return command
    .option('--json', 'print the versioned JSON document instead of text')
    .option('--no-color', 'plain text without colours')
    .option('--no-inspector', 'do not send SIGUSR1 to open the Node inspector; use /proc only');
}

/** The mercy and the signal: no commander defaults, so that run can take them from package.json. */
function addSignalOptions(command: Command): Command {
  return command
    .addOption(new Option('-s, --signal <name>', 'graceful signal to send (default: SIGTERM)'))
    .addOption(new Option('-m, --mercy <duration>', 'how long to wait for the exit: 500ms, 10s, 2m (default: 10s)'));
}

function addPythonOption(command: Command): Command {
  return command.option('--py-stacks', 'stuck Python processes (uWSGI workers, a Python pid): read their threads, greenlets and the app lines that spawned them from inside, with gdb. Pauses each for ~0.1 s; needs root or CAP_SYS_PTRACE and gdb; CPython 3.11');
}

/** Attach mode: the heap snapshot fallback for holders. */
function addHeapSnapshotOptions(command: Command): Command {
  return command
    .option('--heap-snapshot', 'also look for the app variables that hold library resources in a V8 heap snapshot (#private fields, WeakMap values): freezes the target for seconds (the estimate is printed first; refused above 10 s)')
    .option('--force', 'with --heap-snapshot: take it even above the 10 s estimate');
}

/** The heap snapshot's estimate, said before it freezes the target. */
const printEstimate = (line: string) => process.stderr.write(`reload-doctor: ${inert(line)}\n`);

function addTimelineOptions(command: Command): Command {
  return command
    .option('--html <file>', 'also write a self-contained HTML page: verdict, shutdown timeline, findings')
    .option('--trace <file>', 'also write the shutdown timeline as Chrome trace-event JSON (opens in Perfetto)')
    .option('--no-timeline', 'do not record what ends when during the shutdown');
}

export function buildProgram(): Command {
  const program = new Command('reload-doctor')
    .description('Tells you why a service does not shut down when asked to.')
    .version(VERSION)
    .argument('<pid>', 'process to probe');
  addHeapSnapshotOptions(addPythonOption(addSignalOptions(program)))
    .option('--kill', 'send SIGKILL after the report if it is still alive ("no mercy")');
  addTimelineOptions(program)
    .enablePositionalOptions()
    .addHelpText('after', `
Exit codes:
  0    exited within the mercy
  1    still alive at the mercy, exited only after it, or not graceful (no handler)
  2    usage or input error (bad pid, signal or duration)
  3    could not reach or inspect the target (not permitted, gone while attaching)
  4    run: the service exited, crashed or was not ready before the signal
  130  interrupted (Ctrl-C); the target's inspector is closed first`)
    .showHelpAfterError('(run reload-doctor --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .action(async (pidText: string, options: OutputOptions & TimelineFiles & { signal?: string; mercy?: string; kill?: boolean; timeline: boolean; pyStacks?: boolean; heapSnapshot?: boolean; force?: boolean }) => {
      const pid = parsePid(pidText);
      const files = checkTimelineFiles(options);
      const ticker = countdown(!options.json);
      let diagnosis: Diagnosis;
      try {
        diagnosis = await diagnose(
          { pid, signal: options.signal, mercy: options.mercy, kill: options.kill === true, inspector: options.inspector, timeline: options.timeline, pyStacks: options.pyStacks === true, heapSnapshot: options.heapSnapshot === true, force: options.force === true, onEstimate: printEstimate, abortSignal: interrupts.signal },
          { onTick: ticker.onTick },
        );
      } finally {
        ticker.clear();
      }
      writeTimelineFiles(diagnosis, files);
      print(diagnosis, options);
    });
  addCommonOptions(program);
  const handles = program
    .command('handles')
    .description('list what keeps the process alive right now (sends no graceful signal)')
    .argument('<pid>', 'process to inspect')
    .exitOverride()
    .action(async (pidText: string, options: OutputOptions & { heapSnapshot?: boolean; force?: boolean }) => {
      const heap = { heapSnapshot: options.heapSnapshot === true, force: options.force === true, onEstimate: printEstimate };
      print(await diagnoseHandles(parsePid(pidText), { inspector: options.inspector, abortSignal: interrupts.signal, ...heap }), options);
    });
  addHeapSnapshotOptions(addCommonOptions(handles));
  program.addCommand(buildRunCommand());
  return program;
}

interface RunOptions extends TimelineFiles {
  signal?: string; mercy?: string; ready?: string; readyTimeout?: string; hold?: string; exercise?: string; load?: string;
  format?: Format; reportFile?: string; summaryFile?: string; color: boolean; creationStacks?: boolean; timeline?: boolean; pyStacks?: boolean;
}

interface TimelineFiles { html?: string; trace?: string }

/** Both must be writable before anything starts (not found out after the check). */
function checkTimelineFiles(options: TimelineFiles): TimelineFiles {
  return {
    html: options.html === undefined ? undefined : checkReportFile(options.html, 'the --html file'),
    trace: options.trace === undefined ? undefined : checkReportFile(options.trace, 'the --trace file'),
  };
}

function writeTimelineFiles(diagnosis: Diagnosis, files: TimelineFiles): void {
  if (files.html) writeFileSync(files.html, renderHtml(inertDiagnosis(diagnosis), VERSION));
  if (files.trace) writeFileSync(files.trace, renderTrace(diagnosis));
}

function buildRunCommand(): Command {
  const run = new Command('run')
    .description('start a service, wait until it is ready, signal it, and fail (exit 1) if it does not shut down within the mercy; defaults come from the "reloadDoctor" key of ./package.json')
    .argument('[command...]', 'the service to start, after --, e.g. -- node server.js or -- npm start (default: "command" in package.json\'s reloadDoctor key)');
  addPythonOption(addSignalOptions(run))
    .option('--ready <spec>', 'when it is ready: port:<n>, http://…/health (2xx), log:<regex>, delay:<duration> (default: its first listening TCP port, else 2 s)')
    .option('--ready-timeout <duration>', 'give up (exit 4) if it is not ready by then (default: 60s)')
    .option('--hold <duration>', 'keep it running this long once ready, before the signal (time for your own traffic or tests)')
    .option('--exercise <url>', 'before the signal, send requests over keep-alive connections and keep one in flight during the shutdown')
    .option('--load <rate>', 'with --exercise: keep sending this many requests per second across the signal; any that fails fails the run')
    .addOption(new Option('--format <format>', 'report format (default: github when GITHUB_ACTIONS=true, else text)').choices(FORMATS))
    .option('--report-file <path>', 'write the report in --format to this file; the terminal still gets text')
    .option('--summary-file <path>', 'append a Markdown summary (verdict, culprits with links) to this file, e.g. $GITHUB_STEP_SUMMARY');
  addTimelineOptions(run)
    .option('--no-creation-stacks', 'do not record where handles are created (the service runs at full speed; findings point at callbacks only)')
    .option('--no-color', 'plain text without colours')
    .passThroughOptions()
    .exitOverride()
    .action(async (command: string[], options: RunOptions) => {
      const format: Format = options.format ?? (process.env.GITHUB_ACTIONS === 'true' ? 'github' : 'text');
      const reportFile = options.reportFile === undefined ? undefined : checkReportFile(options.reportFile, 'the report file');
      const summaryFile = options.summaryFile === undefined ? undefined : checkReportFile(options.summaryFile, 'the summary file');
      const files = checkTimelineFiles(options);
      const ticker = countdown(format === 'text');
      const prefix = options.color && process.stderr.isTTY && !process.env.NO_COLOR ? '\x1b[2m[service]\x1b[0m ' : '[service] ';
      // The report files are written once, whatever happens: the verdict, or why there is none.
      const writeReports = (diagnosis: Diagnosis) => {
        if (reportFile) writeReportFile(reportFile, format, diagnosis);
        if (summaryFile) appendFileSync(summaryFile, renderMarkdownSummary(inertDiagnosis(diagnosis), { workspace: CI_WORKSPACE, blobUrl: githubBlobUrl() }));
      };
      let diagnosis: Diagnosis;
      try {
        diagnosis = await diagnose({
          command: command.length > 0 ? command : undefined,
          signal: options.signal, mercy: options.mercy, ready: options.ready, readyTimeout: options.readyTimeout, hold: options.hold,
          exercise: options.exercise, load: options.load === undefined ? undefined : parseRate(options.load),
          // Flags given only: commander's negatable defaults would hide package.json's.
          timeline: options.timeline === false ? false : undefined, creationStacks: options.creationStacks === false ? false : undefined,
          pyStacks: options.pyStacks === true ? true : undefined,
          abortSignal: interrupts.signal,
          // The service's output stays visible, on stderr, so stdout carries only the report.
          onOutput: (line) => { ticker.clear(); process.stderr.write(`${prefix}${inert(line)}\n`); },
        }, { onTick: ticker.onTick });
      } catch (error) {
        if (error instanceof AbortError && interruptedBy) {
          writeReports(unfinishedRun(command, `interrupted by ${interruptedBy.signal} before the verdict: the shutdown was not checked (the service was killed)`, interruptedBy.exitCode));
        } else {
          writeReports(unfinishedRun(command, messageOf(error), (error as { exitCode?: number }).exitCode ?? EXIT.unreachable));
        }
        throw error;
      } finally {
        ticker.clear();
      }
      const color = options.color && process.stdout.isTTY === true && !process.env.NO_COLOR;
      writeReports(diagnosis);
      writeTimelineFiles(diagnosis, files);
      for (const piece of renderPieces(reportFile || format === 'text' ? 'text' : format, diagnosis, { color: color && (reportFile !== undefined || format === 'text'), toolVersion: VERSION, workspace: CI_WORKSPACE })) process.stdout.write(piece);
      process.exitCode = diagnosis.exitCode;
    });
  return run;
}

/** A run that ended before its verdict, for the report file. */
function unfinishedRun(command: string[], why: string, exitCode: number): Diagnosis {
  return makeDiagnosis({
    mode: 'run', target: { pid: 0, runtime: { kind: 'other' }, command: command.join(' '), reachedBy: 'spawn' },
    findings: [], warnings: [], exitCode, unfinished: why,
  });
}

/** The report file must be writable before the service starts, not found out after the run. */
function checkReportFile(path: string, what: string): string {
  const where = resolve(path);
  try {
    const stat = statSync(where, { throwIfNoEntry: false });
    if (stat && !stat.isFile()) throw new Error('it exists and is not a regular file');
    accessSync(stat ? where : dirname(where), constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write ${what} "${path}": ${messageOf(error)}`, { cause: error });
  }
  return where;
}

async function main(): Promise<void> {
  abortOnInterrupt();
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is usage.
      process.exitCode = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
      return;
    }
    if (interruptedBy) {
      // What failed failed because we were interrupted; the check has closed what it opened.
      // Exit now: nothing the aborted check still runs may outlive the interrupt.
      process.exit(interruptedBy.exitCode);
    }
    const exitCode = (error as { exitCode?: number }).exitCode;
    process.stderr.write(`reload-doctor: ${inert(messageOf(error))}\n`);
    if (process.env.RELOAD_DOCTOR_DEBUG) process.stderr.write(`${(error as Error).stack}\ncaused by: ${describeChain(error)}\n`);
    process.exitCode = typeof exitCode === 'number' ? exitCode : EXIT.unreachable;
  }
}

await main();
