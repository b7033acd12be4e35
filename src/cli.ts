#!/usr/bin/env node
// The command line: options → stages → rendered report → exit code. Errors are one line.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { cleanUpOnInterrupt } from './core/cleanups.js';
import { describeChain } from './core/debug.js';
import type { Diagnosis } from './core/diagnosis.js';
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
import { renderGithubAnnotations } from './report/github.js';
import { toJsonDocument } from './report/json.js';
import { renderJunit } from './report/junit.js';
import { renderText } from './report/text.js';

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

interface OutputOptions { json?: boolean; color: boolean; inspector: boolean }

function print(diagnosis: Diagnosis, options: OutputOptions): void {
  const colored = options.color && process.stdout.isTTY === true && !process.env.NO_COLOR;
  process.stdout.write(options.json ? `${JSON.stringify(toJsonDocument(diagnosis, VERSION), null, 2)}\n` : `${renderText(diagnosis, colored)}\n`);
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
    .action(async (pidText: string, options: OutputOptions & { signal: string; mercy: string; kill?: boolean }) => {
      const pid = parsePid(pidText);
      const signal = parseSignal(options.signal);
      const mercyMs = parseDuration(options.mercy);
      const ticker = countdown(mercyMs, !options.json);
      let diagnosis: Diagnosis;
      try {
        diagnosis = await probeByPid({ pid, signal, mercyMs, kill: options.kill === true, useInspector: options.inspector, onTick: ticker.onTick });
      } finally {
        ticker.clear();
      }
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

const FORMATS = ['text', 'json', 'github', 'junit'] as const;
type Format = (typeof FORMATS)[number];

interface RunOptions {
  signal: string; mercy: string; ready?: string; readyTimeout: string; hold?: string; exercise?: string;
  format?: Format; reportFile?: string; color: boolean; creationStacks: boolean;
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
    .addOption(new Option('--format <format>', 'report format (default: github when GITHUB_ACTIONS=true, else text)').choices(FORMATS))
    .option('--report-file <path>', 'write the report in --format to this file; the terminal still gets text')
    .option('--no-creation-stacks', 'do not record where handles are created (the service runs at full speed; findings point at callbacks only)')
    .option('--no-color', 'plain text without colours')
    .passThroughOptions()
    .exitOverride()
    .action(async (command: string[], options: RunOptions) => {
      const signal = parseSignal(options.signal);
      const mercyMs = parseDuration(options.mercy);
      const ready = parseReadySpec(options.ready);
      const readyTimeoutMs = parseDuration(options.readyTimeout, '--ready-timeout');
      const exercise = options.exercise === undefined ? undefined : parseUrl(options.exercise);
      const holdMs = options.hold === undefined ? undefined : parseDuration(options.hold, '--hold');
      const format: Format = options.format ?? (process.env.GITHUB_ACTIONS === 'true' ? 'github' : 'text');
      const ticker = countdown(mercyMs, format === 'text');
      const prefix = options.color && process.stderr.isTTY && !process.env.NO_COLOR ? '\x1b[2m[service]\x1b[0m ' : '[service] ';
      let diagnosis: Diagnosis;
      try {
        diagnosis = await runService({
          command, signal, mercyMs, ready, readyTimeoutMs, exercise, holdMs, creationStacks: options.creationStacks, onTick: ticker.onTick,
          // The service's output stays visible, on stderr, so stdout carries only the report.
          onServiceLine: (_stream, line) => { ticker.clear(); process.stderr.write(`${prefix}${line}\n`); },
        });
      } finally {
        ticker.clear();
      }
      const colored = options.color && process.stdout.isTTY === true && !process.env.NO_COLOR;
      const text = renderText(diagnosis, false);
      const rendered = renderAs(format, diagnosis, text);
      if (options.reportFile) {
        writeFileSync(options.reportFile, rendered);
        process.stdout.write(`${renderText(diagnosis, colored)}\n`);
      } else {
        process.stdout.write(format === 'text' ? `${renderText(diagnosis, colored)}\n` : rendered);
      }
      process.exitCode = diagnosis.exitCode;
    });
}

function renderAs(format: Format, diagnosis: Diagnosis, text: string): string {
  switch (format) {
    case 'text': return `${text}\n`;
    case 'json': return `${JSON.stringify(toJsonDocument(diagnosis, VERSION), null, 2)}\n`;
    case 'junit': return renderJunit(diagnosis, text);
    // The annotations, then the text report for the log.
    case 'github': return `${renderGithubAnnotations(diagnosis)}\n${text}\n`;
  }
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
    const exitCode = (error as { exitCode?: number }).exitCode;
    process.stderr.write(`reload-doctor: ${messageOf(error)}\n`);
    if (process.env.RELOAD_DOCTOR_DEBUG) process.stderr.write(`${(error as Error).stack}\ncaused by: ${describeChain(error)}\n`);
    process.exitCode = typeof exitCode === 'number' ? exitCode : EXIT.unreachable;
  }
}

await main();
