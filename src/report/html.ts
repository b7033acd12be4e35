// `--html <file>`: one self-contained page — the verdict, the shutdown's waterfall, every
// timeline event and the findings. No network fetch: inline CSS only, no scripts needed.
// Every string from the target is escaped for HTML (and was made inert before).
import type { Diagnosis } from '../core/diagnosis.js';
import { formatDuration } from '../core/duration.js';
import { describePid, formatHeldBy, formatLocation, packageLabel } from '../core/format.js';
import type { Timeline } from '../core/types.js';
import { describeVerdict } from './verdict.js';

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2433;max-width:70rem}
h1{font-size:1.3rem;margin:0 0 .3rem} h2{font-size:1.05rem;margin:1.6rem 0 .5rem}
.verdict{font-weight:600;padding:.5rem .8rem;border-radius:6px;display:inline-block}
.fail{background:#fde8e8;color:#8a1c1c} .pass{background:#e4f6ea;color:#17623a}
.lane{display:grid;grid-template-columns:22rem 1fr 7rem;align-items:center;gap:.6rem;margin:.2rem 0}
.name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.track{position:relative;height:1.1rem;background:#f1f3f7;border-radius:3px}
.bar{position:absolute;left:0;top:0;bottom:0;border-radius:3px;background:#3c9d63}
.bar.open{background:#d2453f}
.deadline{position:absolute;top:-3px;bottom:-3px;width:2px;background:#1d2433}
.when{font-variant-numeric:tabular-nums} .open-text{color:#b3261e}
table{border-collapse:collapse;width:100%} td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e3e6ec;vertical-align:top}
td.t{font-variant-numeric:tabular-nums;white-space:nowrap;width:6rem}
.finding{border-left:3px solid #d2453f;padding:.3rem .8rem;margin:.6rem 0;background:#fafbfc}
.finding.warning{border-color:#d99a1a} code{font:13px ui-monospace,monospace}
.muted{color:#5b6478}`;

export function renderHtml(diagnosis: Diagnosis, toolVersion: string): string {
  const { verdict, timeline, target } = diagnosis;
  const failed = diagnosis.exitCode !== 0;
  const parts: string[] = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>reload-doctor · ${esc(describePid(target))}</title><style>${STYLE}</style></head><body>`,
    `<h1>reload-doctor${diagnosis.mode === 'run' ? ' run' : ''} · ${esc(describePid(target))}</h1>`,
    `<p class="muted"><code>${esc(target.command)}</code></p>`,
  ];
  // The mark follows the exit code: an exit in time that dropped a request still failed.
  if (verdict) parts.push(`<p id="verdict" class="verdict ${failed ? 'fail' : 'pass'}">${failed ? '✖' : '✔'} ${esc(describeVerdict(verdict).text.replace(/^[✔✖] /, ''))}</p>`);
  if (diagnosis.unfinished) parts.push(`<p id="verdict" class="verdict fail">✖ ${esc(diagnosis.unfinished)}</p>`);
  for (const warning of diagnosis.warnings) parts.push(`<p class="muted">! ${esc(warning)}</p>`);
  const load = diagnosis.run?.load;
  if (load) {
    const after = load.afterSignal;
    parts.push(`<p id="load">Load: ${load.ratePerSecond} req/s; after the signal ${after.sent} sent, ${after.completed} completed, <strong>${after.failed} failed</strong>`,
      Object.keys(after.failures).length > 0 ? ` (${esc(Object.entries(after.failures).map(([reason, n]) => `${n} × ${reason}`).join(', '))})` : '',
      load.lastServedMs === null ? '' : `; the last served at ${esc(formatDuration(load.lastServedMs))}`,
      load.readiness?.lostMs === null || !load.readiness ? '' : `; readiness stopped answering 2xx at ${esc(formatDuration(load.readiness.lostMs))}`, '</p>');
  }
  if (timeline) parts.push(...timelineSection(timeline, verdict?.signal ?? 'the signal'));
  if (diagnosis.findings.length > 0) {
    parts.push('<h2>What kept the event loop alive</h2>');
    for (const finding of diagnosis.findings) {
      parts.push(`<div class="finding ${esc(finding.severity)}" data-finding="${esc(finding.id)}"><strong>${esc(finding.title)}</strong>`,
        finding.owner ? ` <span class="muted">[${esc(packageLabel(finding.owner))}]</span>` : '',
        finding.location ? `<br><code>${esc(formatLocation(finding.location))}</code>` : '',
        finding.heldBy ? `<br>${esc(formatHeldBy(finding.heldBy))}` : '',
        `<br>why: ${esc(finding.why)}<br>fix: ${esc(finding.fix)}</div>`);
    }
  }
  parts.push(`<p class="muted">reload-doctor ${esc(toolVersion)}</p></body></html>\n`);
  return parts.join('');
}

function timelineSection(timeline: Timeline, signal: string): string[] {
  const exit = timeline.events.find((event) => event.kind === 'exit');
  const axisMs = Math.max(timeline.deadlineMs, exit?.atMs ?? 0, 1);
  const percent = (ms: number) => `${Math.min(100, Math.max(0, (ms / axisMs) * 100)).toFixed(2)}%`;
  const parts = [`<h2>Shutdown timeline <span class="muted">(ms after ${esc(signal)}; the black line is the deadline, ${esc(formatDuration(timeline.deadlineMs))})</span></h2>`, '<div id="waterfall">'];
  for (const lane of timeline.lanes) {
    const open = lane.endMs === null;
    parts.push(`<div class="lane" data-lane="${esc(lane.name)}"><span class="name" title="${esc(lane.name)}">${esc(lane.name)}</span>`,
      `<span class="track"><span class="bar${open ? ' open' : ''}" style="width:${open ? percent(timeline.deadlineMs) : percent(lane.endMs!)}"></span>`,
      `<span class="deadline" style="left:${percent(timeline.deadlineMs)}"></span></span>`,
      `<span class="when${open ? ' open-text' : ''}">${open ? 'still open' : esc(formatDuration(lane.endMs!))}</span></div>`);
  }
  parts.push('</div><h2>Events</h2><table id="events"><tr><th>ms</th><th>what</th><th>owner</th></tr>');
  for (const event of timeline.events) {
    parts.push(`<tr data-kind="${event.kind}"><td class="t">${event.atMs.toFixed(1)}</td><td>${esc(event.what)}</td><td class="muted">${esc(event.lane ?? '')}</td></tr>`);
  }
  parts.push('</table>');
  for (const note of timeline.notes) parts.push(`<p class="muted">note: ${esc(note)}</p>`);
  return parts;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
