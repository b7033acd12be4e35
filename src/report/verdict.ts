// The verdict in one sentence, shared by every output format.
import { formatDuration } from '../core/duration.js';
import type { Verdict } from '../core/types.js';


export function describeVerdict(verdict: Verdict): { ok: boolean; text: string } {
  const mercy = `mercy ${formatDuration(verdict.mercyMs)}`;
  const last = verdict.samples[verdict.samples.length - 1];
  const usage = last ? ` · CPU ${last.cpuPercent} % · RSS ${Math.round(last.rssBytes / 1048576)} MB` : '';
  const after = formatDuration(verdict.exitedAfterMs ?? 0);
  switch (verdict.outcome) {
    case 'exited':
      return { ok: true, text: `✔ exited ${after} after ${verdict.signal} (${mercy})` };
    case 'not-graceful':
      return { ok: false, text: `✖ not graceful: died ${after} after ${verdict.signal} with no handler for it (Node's default action; in-flight work was dropped)` };
    case 'exited-late':
      return { ok: false, text: `✖ exited only ${after} after ${verdict.signal}, past the ${mercy}` };
    case 'ignored':
      return { ok: false, text: `✖ ignores ${verdict.signal}: still alive after the ${mercy}${usage}` };
    case 'still-alive':
      if (verdict.stuckWorkers) {
        // Looked at when the verdict was taken: at the mercy, or before a master's own kill.
        const when = verdict.exitedAfterMs === undefined ? `${formatDuration(verdict.deadlineMs)} ` : '';
        return { ok: false, text: `✖ ${verdict.stuckWorkers} worker${verdict.stuckWorkers === 1 ? '' : 's'} still alive ${when}after ${verdict.signal} (${mercy})` };
      }
      return { ok: false, text: `✖ ${verdict.busy ? 'busy and ' : ''}still alive ${formatDuration(verdict.deadlineMs)} after ${verdict.signal} (${mercy})${usage}` };
    case 'reloaded':
      return { ok: true, text: `✔ reloaded: every worker was replaced, the last old one gone ${after} after ${verdict.signal} (${mercy})` };
  }
}
