// The report for a person: verdict first, then what blocks shutdown, grouped by owner,
// each with why and the usual fix; harmless handles summarised on one line at the end.
import { Chalk, type ChalkInstance } from 'chalk';
import type { Diagnosis } from '../diagnose.js';
import { packageLabel } from '../explain/summary.js';
import { formatLocation } from '../inspect/locations.js';
import { formatDuration } from '../probe/duration.js';
import type { Finding, Handle, SourceLocation, Verdict } from '../types.js';

export function renderText(diagnosis: Diagnosis, color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const lines: string[] = [];
  const { target, verdict, snapshot } = diagnosis;
  const runtime = target.runtime.kind === 'node' ? `node ${target.runtime.version ?? ''}`.trim() : 'not Node.js';
  lines.push(c.bold(`reload-doctor · pid ${target.pid} · ${runtime} · ${truncate(target.command, 80)}`));
  for (const warning of diagnosis.warnings) lines.push(c.yellow(`! ${warning}`));
  if (verdict) lines.push(verdictLine(verdict, c));

  if (snapshot) {
    const blocking = diagnosis.findings;
    lines.push('');
    if (blocking.length === 0 && snapshot.source === 'proc') {
      lines.push('/proc shows no sockets or child processes (timers and other in-process resources cannot be seen from outside).');
    } else if (blocking.length === 0) {
      lines.push(c.green('Nothing keeps the event loop alive.'));
    } else {
      lines.push(c.bold(snapshot.source === 'inspector' ? 'Resources keeping the event loop alive:' : 'What /proc shows the process holding:'));
      for (const finding of blocking) lines.push('', ...findingLines(finding, c));
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
    const harmless = snapshot.handles.filter((h) => !h.blocking);
    if (harmless.length > 0) lines.push('', c.dim(`Not keeping it alive: ${summarise(harmless)}`));
    for (const note of snapshot.notes) lines.push(c.dim(`note: ${note}`));
  }
  if (verdict?.killed) lines.push('', c.red(`Sent SIGKILL (--kill): pid ${target.pid} was killed with no mercy.`));
  return lines.join('\n');
}

function verdictLine(verdict: Verdict, c: ChalkInstance): string {
  const mercy = `mercy ${formatDuration(verdict.mercyMs)}`;
  const last = verdict.samples[verdict.samples.length - 1];
  const usage = last ? ` · CPU ${last.cpuPercent} % · RSS ${Math.round(last.rssBytes / 1048576)} MB` : '';
  switch (verdict.outcome) {
    case 'exited':
      return c.green(`✔ exited ${formatDuration(verdict.exitedAfterMs ?? 0)} after ${verdict.signal} (${mercy})`);
    case 'not-graceful':
      return c.red(`✖ not graceful: died ${formatDuration(verdict.exitedAfterMs ?? 0)} after ${verdict.signal} with no handler for it (Node's default action; in-flight work was dropped)`);
    case 'exited-late':
      return c.red(`✖ exited only ${formatDuration(verdict.exitedAfterMs ?? 0)} after ${verdict.signal}, past the ${mercy}`);
    case 'ignored':
      return c.red(`✖ ignores ${verdict.signal}: still alive after the ${mercy}${usage}`);
    case 'still-alive':
      return c.red(`✖ ${verdict.busy ? 'busy and ' : ''}still alive ${formatDuration(verdict.mercyMs)} after ${verdict.signal} (${mercy})${usage}`);
  }
}

function findingLines(finding: Finding, c: ChalkInstance): string[] {
  const owner = finding.owner ? packageLabel(finding.owner) : finding.location && !finding.location.internal ? 'your code' : '';
  const lines = [`  ${c.red('●')} ${c.bold(finding.title)}${owner ? c.cyan(`  [${owner}]`) : ''}`];
  if (finding.location) lines.push(`      at ${describeLocation(finding.location)}`);
  for (const handle of finding.handles.slice(1, 6)) lines.push(c.dim(`      · ${handle.label}${handle.owner ? ` @ ${formatLocation(handle.owner)}` : ''}`));
  if (finding.handles.length > 6) lines.push(c.dim(`      · … ${finding.handles.length - 6} more`));
  lines.push(`      ${c.yellow('why')}  ${finding.why}`);
  lines.push(`      ${c.green('fix')}  ${finding.fix}`);
  return lines;
}

function describeLocation(location: SourceLocation): string {
  return `${location.functionName ? `${location.functionName} ` : ''}(${formatLocation(location)})`;
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
