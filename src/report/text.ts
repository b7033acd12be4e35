// The report for a person: verdict first, then what blocks shutdown, grouped by owner,
// each with why and the usual fix; harmless handles summarised on one line at the end.
import { Chalk, type ChalkInstance } from 'chalk';
import type { Diagnosis } from '../core/diagnosis.js';
import { describePid, describeRuntime, formatHeldBy, formatLocation, greenletName, packageLabel } from '../core/format.js';
import { formatDuration } from '../core/duration.js';
import { describeVerdict } from './verdict.js';
import { waterfallLines } from './waterfall.js';
import type { Finding, Handle, LoadReport, PythonFrame, PythonState, SourceLocation, Verdict } from '../core/types.js';
import { basename } from 'node:path';

export function renderText(diagnosis: Diagnosis, color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const lines: string[] = [];
  const { target, verdict, snapshot } = diagnosis;
  const runtime = describeRuntime(target.runtime);
  const mode = diagnosis.mode === 'run' ? ' run' : '';
  lines.push(c.bold(`reload-doctor${mode} · ${describePid(target)} · ${runtime} · ${truncate(target.command, 80)}`));
  for (const warning of diagnosis.warnings) lines.push(c.yellow(`! ${warning}`));
  if (diagnosis.run) lines.push(`ready after ${formatDuration(diagnosis.run.readyAfterMs)}: ${diagnosis.run.readyBy}`);
  if (verdict) lines.push(verdictLine(verdict, diagnosis.exitCode, c));
  if (diagnosis.unfinished) lines.push(c.red(`✖ ${diagnosis.unfinished}`));
  if (diagnosis.run?.exercise) lines.push(exerciseLine(diagnosis.run.exercise, verdict?.signal ?? 'the signal', c));
  if (diagnosis.run?.load) lines.push(loadLine(diagnosis.run.load, verdict?.signal ?? 'the signal', c));

  if (snapshot) {
    const blocking = diagnosis.findings;
    lines.push('');
    if (blocking.length === 0 && snapshot.source === 'proc') {
      lines.push('/proc shows no sockets or child processes (timers and other in-process resources cannot be seen from outside).');
    } else if (blocking.length === 0) {
      lines.push(c.green('Nothing keeps the event loop alive.'));
    } else {
      lines.push(c.bold(snapshot.source === 'inspector' ? 'Resources keeping the event loop alive:' : 'What /proc shows the process holding:'));
      for (const finding of shownFindings(blocking)) lines.push('', ...findingLines(finding, c));
      if (blocking.length > MAX_FINDINGS_SHOWN) {
        const rest = blocking.length - MAX_FINDINGS_SHOWN;
        const handles = [...blocking].sort(byWeight).slice(MAX_FINDINGS_SHOWN).reduce((sum, finding) => sum + finding.handles.length, 0);
        lines.push('', c.dim(`  … and ${rest} more finding${rest === 1 ? '' : 's'} (${handles.toLocaleString('en-US')} handle${handles === 1 ? '' : 's'}): every one is in --json`));
      }
    }
    if (snapshot.busyStack && snapshot.busyStack.length > 0) {
      lines.push('', c.bold('JS stack of the busy main thread:'));
      for (const frame of snapshot.busyStack.slice(0, 8)) {
        lines.push(`    at ${frame.functionName}${frame.location ? ` (${formatLocation(frame.location)})` : ''}`);
      }
    }
    if (snapshot.threads && snapshot.threads.length > 0) {
      lines.push('', c.bold(`Threads (${snapshot.threads.length}):`));
      for (const t of snapshot.threads.slice(0, 12)) {
        lines.push(`    ${String(t.tid).padEnd(8)} ${t.name.padEnd(16)} ${t.state}${t.syscall ? `  in ${t.syscall}` : ''}${t.wchan ? ` (${t.wchan})` : ''}`);
      }
    }
    if (snapshot.python) lines.push('', ...pythonLines(snapshot.python, c, ''));
    const harmless = snapshot.handles.filter((h) => !h.blocking);
    if (harmless.length > 0) lines.push('', c.dim(`Not keeping it alive: ${summarise(harmless)}`));
    for (const note of snapshot.notes) lines.push(c.dim(`note: ${note}`));
  }
  if (diagnosis.timeline) lines.push(...waterfallLines(diagnosis.timeline, verdict?.signal ?? 'the signal', c));
  if (diagnosis.tree) lines.push(...treeLines(diagnosis, c));
  const run = diagnosis.run;
  for (const left of run?.leftBehind ?? []) lines.push(c.yellow(`! left behind after the service exited: pid ${left.pid} (${truncate(left.command, 60)}); killed`));
  if (verdict?.killed && run) {
    lines.push('', c.red(`Killed the service's process tree with no mercy (${run.killedPids.length} process${run.killedPids.length === 1 ? '' : 'es'}: ${run.killedPids.join(', ')}).`));
  } else if (verdict?.killed) {
    lines.push('', c.red(`Sent SIGKILL (--kill): pid ${target.pid} was killed with no mercy.`));
  }
  return lines.join('\n');
}

/** A report stays readable however many owners there are: the findings that block most, then a count of the rest. */
const MAX_FINDINGS_SHOWN = 10;
const SEVERITY_RANK = { blocks: 0, warning: 1, harmless: 2 } as const;
const byWeight = (a: Finding, b: Finding) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.handles.length - a.handles.length;

/** All of them in the rules' order when few; else the ones that block most. */
function shownFindings(findings: readonly Finding[]): readonly Finding[] {
  return findings.length <= MAX_FINDINGS_SHOWN ? findings : [...findings].sort(byWeight).slice(0, MAX_FINDINGS_SHOWN);
}

/** In time, but failed anyway (a request in flight was dropped): no ✔ on a failing run. */
function verdictLine(verdict: Verdict, exitCode: number, c: ChalkInstance): string {
  const { ok, text } = describeVerdict(verdict);
  if (ok && exitCode === 0) return c.green(text);
  return c.red(ok ? text.replace(/^✔/, '✖') : text);
}

function findingLines(finding: Finding, c: ChalkInstance): string[] {
  const owner = finding.owner ? packageLabel(finding.owner) : finding.location && !finding.location.internal && !finding.location.package ? 'your code' : '';
  const lines = [`  ${c.red('●')} ${c.bold(finding.title)}${owner ? c.cyan(`  [${owner}]`) : ''}`];
  if (finding.location) {
    const creator = finding.handles.find((h) => h.createdIn === finding.location);
    const how = !creator ? 'at' : creator.createdInherited ? 'started by' : 'created at';
    lines.push(`      ${how} ${describeLocation(finding.location)}`);
  }
  if (finding.heldBy) lines.push(`      ${formatHeldBy(finding.heldBy)}`);
  for (const handle of finding.handles.slice(1, 6)) lines.push(c.dim(`      · ${handle.label}${handle.owner ? ` @ ${formatLocation(handle.owner)}` : ''}`));
  if (finding.handles.length > 6) lines.push(c.dim(`      · … ${finding.handles.length - 6} more`));
  lines.push(`      ${c.yellow('why')}  ${finding.why}`);
  lines.push(`      ${c.green('fix')}  ${finding.fix}`);
  return lines;
}

function treeLines(diagnosis: Diagnosis, c: ChalkInstance): string[] {
  const tree = diagnosis.tree!;
  const signal = diagnosis.verdict?.signal ?? 'the signal';
  const heading = tree.kind === 'uwsgi'
    ? `Workers of pid ${diagnosis.target.pid} (uWSGI master${tree.masterMercyMs ? `, worker-reload-mercy ${formatDuration(tree.masterMercyMs)}` : ''}):`
    : `Child processes of pid ${diagnosis.target.pid}:`;
  const lines = ['', c.bold(heading)];
  for (const m of tree.members) {
    const wakes = `${m.cpuPercent !== undefined ? ` · CPU ${m.cpuPercent} %` : ''}${m.wakeupsPerSecond !== undefined ? ` · wakes ${m.wakeupsPerSecond}×/s` : ''}`;
    const state = m.stuck
      ? c.red(`stuck: still alive ${m.snapshot ? `${formatDuration(m.snapshot.takenAtMs)} ` : ''}after ${signal}${wakes}`)
      : m.original
        ? m.exitedAfterMs !== undefined ? c.green(`exited ${formatDuration(m.exitedAfterMs)} after ${signal}`) : 'alive'
        : `new: started ${formatDuration(m.appearedAfterMs ?? 0)} after ${signal}${m.exitedAfterMs !== undefined ? `, exited at ${formatDuration(m.exitedAfterMs)}` : ''}`;
    lines.push(`    pid ${String(m.pid).padEnd(8)} ${truncate(m.command, 48).padEnd(48)} ${state}`);
  }
  for (const m of tree.members.filter((member) => member.stuck)) {
    lines.push('', c.bold(`pid ${m.pid} (${truncate(m.command, 60)}), still alive:`));
    for (const finding of m.findings ?? []) lines.push(...findingLines(finding, c));
    if ((m.findings ?? []).length === 0) lines.push(m.snapshot?.source === 'proc' ? '  /proc shows no sockets or children.' : '  nothing keeps its event loop alive.');
    if (m.snapshot?.python) lines.push(...pythonLines(m.snapshot.python, c, '  '));
    for (const t of (m.snapshot?.threads ?? []).slice(0, 8)) {
      lines.push(c.dim(`    thread ${String(t.tid).padEnd(8)} ${t.name.padEnd(16)} ${t.state}${t.syscall ? `  in ${t.syscall}` : ''}${t.wchan ? ` (${t.wchan})` : ''}`));
    }
    for (const note of m.snapshot?.notes ?? []) lines.push(c.dim(`    note: ${note}`));
  }
  return lines;
}

/** What --py-stacks read: how, and each greenlet that keeps the hub alive or thread that is waited for, where it is. */
function pythonLines(python: PythonState, c: ChalkInstance, indent: string): string[] {
  const how = python.readBy === 'gil-free' ? 'with the GIL free' : 'as a pending call';
  const lines = [c.bold(`${indent}  Python ${python.version}, read from inside ${how} (paused ${formatDuration(python.pauseMs)})${python.truncated ? ', partial' : ''}:`)];
  const where = (stack: PythonFrame[]) => {
    const top = stack.at(-1);
    return top ? `${top.function} (${basename(top.file)}:${top.line})` : 'no Python frame';
  };
  const shown = [
    ...python.greenlets.filter((g) => g.keepsHubAlive).map((g) => `greenlet ${greenletName(g)}  ${where(g.stack)}  keeps the hub alive`),
    ...python.threads.map((t) => `thread ${t.name ?? t.ident}${t.main ? ' (main)' : t.daemon ? ' (daemon)' : t.daemon === false ? ' (not daemon)' : ''}  ${where(t.stack)}`),
  ];
  for (const line of shown.slice(0, 12)) lines.push(`${indent}    ${line}`);
  if (shown.length > 12) lines.push(c.dim(`${indent}    … ${shown.length - 12} more: every one is in --json`));
  return lines;
}

type ExerciseReport = NonNullable<NonNullable<Diagnosis['run']>['exercise']>;

function loadLine(load: LoadReport, signal: string, c: ChalkInstance): string {
  const after = load.afterSignal;
  const failed = after.failed === 0 ? c.green('none failed')
    : c.red(`${after.failed} failed (${Object.entries(after.failures).map(([reason, n]) => `${n} × ${reason}`).join(', ')})`);
  const last = load.lastServedMs === null ? 'none served after it' : `the last served ${formatDuration(load.lastServedMs)} after it`;
  const readiness = !load.readiness ? '' : load.readiness.lostMs === null ? '; readiness never stopped answering 2xx' : `; readiness stopped answering 2xx ${formatDuration(load.readiness.lostMs)} after it`;
  return `load: ${load.ratePerSecond} req/s; after ${signal}: ${after.sent} sent, ${after.completed} completed, ${failed}; ${last}${readiness}`;
}

function exerciseLine(exercise: ExerciseReport, signal: string, c: ChalkInstance): string {
  const warmup = `exercise: ${exercise.warmup.answered}/${exercise.warmup.sent} warm-up requests answered, ${exercise.keepAliveConnections} keep-alive connection${exercise.keepAliveConnections === 1 ? '' : 's'} held open`;
  const flight = exercise.inFlight;
  switch (flight.outcome) {
    case 'completed':
      return `${warmup}; ${c.green(`the in-flight request completed (${flight.status}) ${formatDuration(flight.afterSignalMs ?? 0)} after ${signal}`)}`;
    case 'completed-before-signal':
      return `${warmup}; the in-flight request finished before ${signal} (the URL answers too fast to be in flight: point --exercise at a slower endpoint)`;
    case 'dropped':
      return `${warmup}; ${c.red(`the in-flight request was dropped ${formatDuration(flight.afterSignalMs ?? 0)} after ${signal}: ${flight.error}`)}`;
    case 'unanswered':
      return `${warmup}; ${c.red('the in-flight request got no answer')}`;
  }
}

function describeLocation(location: SourceLocation): string {
  return `${location.functionName || '<anonymous>'} (${formatLocation(location)})`;
}

function summarise(handles: Handle[]): string {
  const counts = new Map<string, number>();
  for (const handle of handles) {
    const key = `${handle.kind}${handle.notBlockingBecause ? ` (${handle.notBlockingBecause})` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => (n > 1 ? `${n} × ${key}` : key)).join(', ');
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
