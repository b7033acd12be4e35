// GitHub Actions workflow commands: one annotation per finding, placed on the app line that
// created (or owns) the handles, so the pull request shows it next to the code.
// https://docs.github.com/actions/reference/workflow-commands-for-github-actions
import type { Diagnosis } from '../core/diagnosis.js';
import { formatHeldBy } from '../core/format.js';
import { ciFindings, ciPlace, stableTitle } from './ci-places.js';
import { describeVerdict } from './verdict.js';
import type { Finding } from '../core/types.js';

export function renderGithubAnnotations(diagnosis: Diagnosis, workspace?: string): string {
  const lines: string[] = [];
  const { verdict } = diagnosis;
  if (verdict) {
    const { ok, text } = describeVerdict(verdict);
    lines.push(command(ok ? 'notice' : 'error', { title: 'reload-doctor' }, text.replace(/^[✔✖] /, '')));
  } else if (diagnosis.unfinished) {
    lines.push(command('error', { title: 'reload-doctor' }, diagnosis.unfinished));
  }
  for (const finding of ciFindings(diagnosis)) {
    if (finding.severity === 'harmless') continue;
    lines.push(annotation(finding, workspace));
  }
  return lines.join('\n');
}

function annotation(finding: Finding, workspace: string | undefined): string {
  const level = finding.severity === 'blocks' ? 'error' : 'warning';
  const properties: Record<string, string | number> = { title: stableTitle(finding.title).slice(0, 200) };
  const place = ciPlace(finding, workspace);
  if (place) {
    properties.file = place.file;
    properties.line = place.location.line;
    properties.col = place.location.column;
  }
  const held = finding.heldBy ? `\n${formatHeldBy(finding.heldBy)}` : '';
  return command(level, properties, `${finding.why}${held}\nFix: ${finding.fix}`);
}

function command(level: 'error' | 'warning' | 'notice', properties: Record<string, string | number>, message: string): string {
  const props = Object.entries(properties).map(([key, value]) => `${key}=${escapeProperty(String(value))}`).join(',');
  return `::${level}${props ? ` ${props}` : ''}::${escapeData(message)}`;
}

export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
