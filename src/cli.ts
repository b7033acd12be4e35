#!/usr/bin/env node
// The command line: options → stages → rendered report → exit code. Errors are one line.
import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { cleanUpOnInterrupt, interruption, onInterrupt } from './core/cleanups.js';
import { describeChain } from './core/debug.js';
import { makeDiagnosis, type Diagnosis } from './core/diagnosis.js';
import { formatDuration, parseDuration } from './core/duration.js';
import { UsageError, messageOf } from './core/errors.js';
import { EXIT } from './core/exit-codes.js';
import type { UsageSample } from './core/types.js';
import { probeByPid } from './modes/attach.js';
import { listHandles } from './modes/handles.js';
import { runService } from './modes/run.js';
import { parseReadySpec } from './probe/ready.js';
import { parseSignal } from './probe/signals.js';
import { parsePid } from './reach/target.js';
import { inert, inertDiagnosis } from './core/sanitize.js';
import { FORMATS, render, type Format } from './report/formats.js';
import { renderHtml } from './report/html.js';
import { renderTrace } from './report/trace.js';

/** The checkout CI runs in: annotations name files relative to it. */
const CI_WORKSPACE = process.env.GITHUB_WORKSPACE || process.env.CI_PROJECT_DIR || undefined;

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

interface OutputOptions { json?: boolean; color: boolean; inspector: boolean }

function print(diagnosis: Diagnosis, options: OutputOptions): void {
  if (interruption()) return; // the interrupt handler is ending the process: no verdict to claim
  const colored = options.color && process.stdout.isTTY === true && !process.env.NO_COLOR;
  process.stdout.write(render(options.json ? 'json' : 'text', diagnosis, { color: colored, toolVersion: VERSION, workspace: CI_WORKSPACE }));
  process.exitCode = diagnosis.exitCode;
}

/** A live countdown on an interactive terminal only; nothing in pipes or CI logs. */
function countdown(mercyMs: number, enabled: boolean): { onTick?: (ms: number, s?: UsageSample) => void; clear(): void } {
  if (!enabled || !process.stderr.isTTY || process.env.CI) return { clear() {} };
  return {
    onTick(ms, sample) {
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

export function buildProgram(): Command {
  const program = new Command('reload-doctor')
    .description('Tells you why a service does not shut down when asked to.')
    .version(VERSION)
    .argument('<pid>', 'process to probe')
    .addOption(new Option('-s, --signal <name>', 'graceful signal to send').default('SIGTERM'))
    .addOption(new Option('-m, --mercy <duration>', 'how long to wait for the exit (500ms, 10s, 2m)').default('10s'))
    .option('--kill', 'send SIGKILL after the report if it is still alive ("no mercy")')
    .option('--html <file>', 'also write a self-contained HTML page: verdict, shutdown timeline, findings')
    .option('--trace <file>', 'also write the shutdown timeline as Chrome trace-event JSON (opens in Perfetto)')
    .option('--no-timeline', 'do not record what ends when during the shutdown')
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
    .action(async (pidText: string, options: OutputOptions & TimelineFiles & { signal: string; mercy: string; kill?: boolean; timeline: boolean }) => {
      const pid = parsePid(pidText);
      const signal = parseSignal(options.signal);
      const mercyMs = parseDuration(options.mercy);
      const files = checkTimelineFiles(options);
      const ticker = countdown(mercyMs, !options.json);
      let diagnosis: Diagnosis;
      try {
        diagnosis = await probeByPid({ pid, signal, mercyMs, kill: options.kill === true, useInspector: options.inspector, timeline: options.timeline, onTick: ticker.onTick });
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
    .action(async (pidText: string, options: OutputOptions) => {
      print(await listHandles(parsePid(pidText), options.inspector), options);
    });
  addCommonOptions(handles);
  program.addCommand(buildRunCommand());
  return program;
}


interface RunOptions extends TimelineFiles {
  signal: string; mercy: string; ready?: string; readyTimeout: string; hold?: string; exercise?: string; load?: string;
  format?: Format; reportFile?: string; color: boolean; creationStacks: boolean; timeline: boolean;
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
  return new Command('run')
    .description('start a service, wait until it is ready, signal it, and fail (exit 1) if it does not shut down within the mercy')
    .argument('<command...>', 'the service to start, after --, e.g. -- node server.js or -- npm start')
    .addOption(new Option('-s, --signal <name>', 'graceful signal to send').default('SIGTERM'))
    .addOption(new Option('-m, --mercy <duration>', 'how long to wait for the exit (500ms, 10s, 2m)').default('10s'))
    .option('--ready <spec>', 'when it is ready: port:<n>, http://…/health (2xx), log:<regex>, delay:<duration> (default: its first listening TCP port, else 2 s)')
    .addOption(new Option('--ready-timeout <duration>', 'give up (exit 4) if it is not ready by then').default('60s'))
    .option('--hold <duration>', 'keep it running this long once ready, before the signal (time for your own traffic or tests)')
    .option('--exercise <url>', 'before the signal, send requests over keep-alive connections and keep one in flight during the shutdown')
    .option('--load <rate>', 'with --exercise: keep sending this many requests per second across the signal; any that fails fails the run')
    .addOption(new Option('--format <format>', 'report format (default: github when GITHUB_ACTIONS=true, else text)').choices(FORMATS))
    .option('--report-file <path>', 'write the report in --format to this file; the terminal still gets text')
    .option('--html <file>', 'also write a self-contained HTML page: verdict, shutdown timeline, findings')
    .option('--trace <file>', 'also write the shutdown timeline as Chrome trace-event JSON (opens in Perfetto)')
    .option('--no-timeline', 'do not record what ends when during the shutdown')
    .option('--no-creation-stacks', 'do not record where handles are created (the service runs at full speed; findings point at callbacks only)')
    .option('--no-color', 'plain text without colours')
    .passThroughOptions()
    .exitOverride()
    .action(async (command: string[], options: RunOptions) => {
      if (command.length === 0 || command[0]!.trim() === '') throw new UsageError('no command to run: give it after --, e.g. reload-doctor run -- node server.js');
      const signal = parseSignal(options.signal);
      const mercyMs = parseDuration(options.mercy);
      const ready = parseReadySpec(options.ready);
      const readyTimeoutMs = parseDuration(options.readyTimeout, '--ready-timeout');
      const exercise = options.exercise === undefined ? undefined : parseUrl(options.exercise);
      const loadRate = options.load === undefined ? undefined : parseRate(options.load, exercise);
      const holdMs = options.hold === undefined ? undefined : parseDuration(options.hold, '--hold');
      const format: Format = options.format ?? (process.env.GITHUB_ACTIONS === 'true' ? 'github' : 'text');
      const reportFile = options.reportFile === undefined ? undefined : checkReportFile(options.reportFile, 'the report file');
      const files = checkTimelineFiles(options);
      const ticker = countdown(mercyMs, format === 'text');
      const prefix = options.color && process.stderr.isTTY && !process.env.NO_COLOR ? '\x1b[2m[service]\x1b[0m ' : '[service] ';
      // The report file is written once, whatever happens: the verdict, or why there is none.
      const writeReport = (diagnosis: Diagnosis) => {
        if (reportFile) writeFileSync(reportFile, render(format, diagnosis, { color: false, toolVersion: VERSION, workspace: CI_WORKSPACE }));
      };
      const unfinished = (why: string, exitCode: number) => unfinishedRun(command, why, exitCode);
      const forget = onInterrupt((interrupt) => writeReport(unfinished(`interrupted by ${interrupt} before the verdict: the shutdown was not checked (the service was killed)`, interrupt === 'SIGINT' ? 130 : 143)));
      let diagnosis: Diagnosis;
      try {
        diagnosis = await runService({
          command, signal, mercyMs, ready, readyTimeoutMs, exercise, loadRate, holdMs, timeline: options.timeline, creationStacks: options.creationStacks, onTick: ticker.onTick,
          // The service's output stays visible, on stderr, so stdout carries only the report.
          onServiceLine: (_stream, line) => { ticker.clear(); process.stderr.write(`${prefix}${inert(line)}\n`); },
        });
      } catch (error) {
        if (!interruption()) writeReport(unfinished(messageOf(error), (error as { exitCode?: number }).exitCode ?? EXIT.unreachable));
        throw error;
      } finally {
        ticker.clear();
        // Interrupted: the handler still has to write the report, after its cleanups.
        if (!interruption()) forget();
      }
      // Interrupted meanwhile: the interrupt handler writes the report; nothing here may claim a verdict.
      if (interruption()) return;
      const color = options.color && process.stdout.isTTY === true && !process.env.NO_COLOR;
      writeReport(diagnosis);
      writeTimelineFiles(diagnosis, files);
      process.stdout.write(render(reportFile || format === 'text' ? 'text' : format, diagnosis, { color: color && (reportFile !== undefined || format === 'text'), toolVersion: VERSION, workspace: CI_WORKSPACE }));
      process.exitCode = diagnosis.exitCode;
    });
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

/** Requests per second: a number from 1 to 2000 (a CI runner, not a load tester). */
function parseRate(text: string, exercise: URL | undefined): number {
  if (!exercise) throw new UsageError('--load needs --exercise <url>: the URL the requests go to');
  const rate = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(rate >= 1 && rate <= 2000)) throw new UsageError(`invalid --load "${text}": requests per second, from 1 to 2000`);
  return rate;
}

function parseUrl(text: string): URL {
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch (error) {
    throw new UsageError(`invalid --exercise "${text}": use an http:// or https:// URL`, { cause: error });
  }
  throw new UsageError(`invalid --exercise "${text}": use an http:// or https:// URL`);
}

async function main(): Promise<void> {
  cleanUpOnInterrupt();
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is usage.
      process.exitCode = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
      return;
    }
    if (interruption()) return; // what failed failed because we were interrupted
    const exitCode = (error as { exitCode?: number }).exitCode;
    process.stderr.write(`reload-doctor: ${inert(messageOf(error))}\n`);
    if (process.env.RELOAD_DOCTOR_DEBUG) process.stderr.write(`${(error as Error).stack}\ncaused by: ${describeChain(error)}\n`);
    process.exitCode = typeof exitCode === 'number' ? exitCode : EXIT.unreachable;
  }
}

await main();
