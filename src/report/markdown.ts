// A Markdown summary of a diagnosis, for a CI job's summary page ($GITHUB_STEP_SUMMARY): the
// verdict, then a table of the culprits with links to their lines. Every string from the
// target is escaped for Markdown and HTML (GitHub renders both), so none can add a link, an
// image or markup of its own.
import type { Diagnosis } from '../core/diagnosis.js';
import { formatDuration } from '../core/duration.js';
import type { Finding } from '../core/types.js';
import { ciFile, ciFindings, stableTitle } from './ci-places.js';
import { describeVerdict } from './verdict.js';

export interface SummaryPlace {
  /** The checkout the job runs in: files are linked relative to it. */
  workspace?: string;
  /** Where a file of the checkout is shown: "https://github.com/o/r/blob/<sha>". */
  blobUrl?: string;
}

const SEVERITY: Record<Finding['severity'], string> = { blocks: '✖ blocks', warning: '⚠ may block', harmless: 'harmless' };

export function renderMarkdownSummary(diagnosis: Diagnosis, place: SummaryPlace): string {
  const lines: string[] = [];
  const command = `\`${code(diagnosis.target.command)}\``;
  if (diagnosis.verdict) {
    lines.push(`### reload-doctor: ${escape(describeVerdict(diagnosis.verdict).text)}`, '', `${command}${diagnosis.target.pid ? ` · pid ${diagnosis.target.pid}` : ''}`);
  } else {
    lines.push(`### reload-doctor: ✖ no verdict`, '', `${command}: ${escape(diagnosis.unfinished ?? 'the check did not finish')}`);
  }
  const shown = ciFindings(diagnosis).filter((finding) => finding.severity !== 'harmless');
  if (shown.length > 0) {
    lines.push('', '| | What kept it alive | Where | Fix |', '| --- | --- | --- | --- |');
    for (const finding of shown) {
      const owner = finding.owner ? ` (${escape(finding.owner.name)})` : '';
      lines.push(`| ${SEVERITY[finding.severity]} | ${escape(stableTitle(finding.title))}${owner} | ${where(finding, place)} | ${escape(finding.fix)} |`);
    }
    lines.push('', '<details><summary>Why</summary>', '');
    for (const finding of shown) lines.push(`- **${escape(stableTitle(finding.title))}**: ${escape(finding.why)}`);
    lines.push('', '</details>');
  }
  const load = diagnosis.run?.load;
  if (load) {
    const { afterSignal } = load;
    lines.push('', `Load: ${afterSignal.sent} requests after the signal, ${afterSignal.completed} completed, ${afterSignal.failed} failed${load.lastServedMs === null ? '' : `, the last served ${formatDuration(load.lastServedMs)} after it`}.`);
  }
  if (diagnosis.warnings.length > 0) {
    lines.push('', ...diagnosis.warnings.map((warning) => `> ⚠ ${escape(warning)}`));
  }
  return `${lines.join('\n')}\n\n`;
}

function where(finding: Finding, place: SummaryPlace): string {
  const location = finding.location;
  if (!location) return '';
  const file = ciFile(location, place.workspace);
  const label = escape(`${file ?? location.file}:${location.line}`);
  if (!file || !place.blobUrl || file.startsWith('/')) return label;
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `[${label}](${place.blobUrl}/${path}#L${location.line})`;
}

/** Text in a table cell: Markdown and HTML inert, one line. */
function escape(text: string): string {
  return text
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    .replace(/[\\`*_{}[\]()#+\-.!|~]/g, (character) => `\\${character}`)
    .replace(/\r?\n|\r/g, '<br>');
}

/** Inside `code`: no backtick may end it, no line break. */
function code(text: string): string {
  return text.replace(/`/g, 'ˋ').replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|');
}
