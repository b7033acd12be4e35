// The timeline in a terminal: one line per owner of what held the loop at the signal, a bar
// from the signal to when it let go, the deadline marked; then the moments that matter.
import type { ChalkInstance } from 'chalk';
import { formatDuration } from '../core/duration.js';
import type { Timeline } from '../core/types.js';

const BAR_WIDTH = 40;
const NAME_WIDTH = 38;

export function waterfallLines(timeline: Timeline, signal: string, c: ChalkInstance): string[] {
  if (timeline.lanes.length === 0 && timeline.events.length === 0) return [];
  const exit = timeline.events.find((event) => event.kind === 'exit');
  // The axis runs to the deadline, or past it to a late exit.
  const axisMs = Math.max(timeline.deadlineMs, exit?.atMs ?? 0, 1);
  const column = (ms: number) => Math.min(BAR_WIDTH, Math.max(0, Math.round((ms / axisMs) * BAR_WIDTH)));
  const deadlineAt = column(timeline.deadlineMs);
  const lines = ['', c.bold(`Shutdown timeline (from ${signal}; │ = the deadline at ${formatDuration(timeline.deadlineMs)}):`)];
  for (const lane of timeline.lanes) {
    const open = lane.endMs === null;
    const length = open ? deadlineAt : Math.max(1, column(lane.endMs!));
    const filled = '█'.repeat(length).padEnd(BAR_WIDTH, ' ');
    const bar = `${filled.slice(0, deadlineAt)}│${filled.slice(deadlineAt + 1)}`;
    const when = open ? c.red('still open') : c.green(formatDuration(lane.endMs!));
    lines.push(`  ${fit(lane.name, NAME_WIDTH)} ${open ? c.red(bar) : c.green(bar)} ${when}`);
  }
  for (const event of timeline.events) {
    if (event.kind === 'handler' || event.kind === 'loop-empty' || event.kind === 'exit' || event.kind === 'request') {
      lines.push(c.dim(`  ${formatDuration(Math.max(0, event.atMs)).padStart(8)}  ${event.what}`));
    }
  }
  for (const note of timeline.notes) lines.push(c.dim(`  note: ${note}`));
  return lines;
}

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width, ' ');
}
