#!/usr/bin/env node
// The command line: options → stages → rendered report → exit code. Errors are one line.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { cleanUpOnInterrupt } from './cleanup.js';
import { listHandles, probePid, type Diagnosis } from './diagnose.js';
import { EXIT } from './errors.js';
import { formatDuration, parseDuration } from './probe/duration.js';
import { parseSignal } from './probe/signals.js';
import { parsePid } from './reach/target.js';
import { toJsonDocument } from './report/json.js';
import { renderText } from './report/text.js';
import type { UsageSample } from './types.js';

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
        diagnosis = await probePid({ pid, signal, mercyMs, kill: options.kill === true, useInspector: options.inspector, onTick: ticker.onTick });
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
  return program;
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
    process.stderr.write(`reload-doctor: ${(error as Error).message}\n`);
    if (process.env.RELOAD_DOCTOR_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    process.exitCode = typeof exitCode === 'number' ? exitCode : EXIT.unreachable;
  }
}

await main();
