// JUnit XML for GitLab, Jenkins and friends: one test case for the shutdown itself, and one
// failing case per culprit (with file and line, which GitLab shows).
import type { Diagnosis } from '../core/diagnosis.js';
import { xmlChars } from '../core/sanitize.js';
import { formatDuration } from '../core/duration.js';
import { formatHeldBy } from '../core/format.js';
import { ciFindings, ciPlace, stableTitle } from './ci-places.js';
import { describeVerdict } from './verdict.js';

export function renderJunit(diagnosis: Diagnosis, textReport: string, workspace?: string): string {
  const { verdict } = diagnosis;
  const seconds = ((verdict?.exitedAfterMs ?? verdict?.mercyMs ?? 0) / 1000).toFixed(3);
  const shutdownName = verdict
    ? `shuts down within ${formatDuration(verdict.mercyMs)} of ${verdict.signal}`
    : 'shuts down gracefully';
  const cases: string[] = [];
  const shutdownFailed = diagnosis.exitCode !== 0;
  cases.push(testCase('reload-doctor', shutdownName, seconds, {},
    shutdownFailed ? failure(verdict?.outcome ?? (diagnosis.unfinished ? 'unfinished' : 'failed'), verdict ? describeVerdict(verdict).text.replace(/^[✔✖] /, '') : diagnosis.unfinished ?? 'failed', textReport) : ''));
  for (const finding of ciFindings(diagnosis).filter((f) => f.severity === 'blocks')) {
    const place = ciPlace(finding, workspace);
    const where: Record<string, string> = place ? { file: place.file, line: String(place.location.line) } : {};
    const held = finding.heldBy ? `\n${formatHeldBy(finding.heldBy)}` : '';
    cases.push(testCase('reload-doctor.culprits', stableTitle(finding.title), '0', where,
      failure(finding.id, finding.why, `${finding.why}${held}\nFix: ${finding.fix}\n${finding.handles.map((h) => `- ${h.label}`).join('\n')}`)));
  }
  const failures = (shutdownFailed ? 1 : 0) + cases.length - 1;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="reload-doctor" tests="${cases.length}" failures="${failures}" time="${seconds}">`,
    `  <testsuite name="graceful shutdown: ${xml(diagnosis.run?.command ?? diagnosis.target.command)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${seconds}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function testCase(classname: string, name: string, time: string, attributes: Record<string, string>, body: string): string {
  const extra = Object.entries(attributes).map(([key, value]) => ` ${key}="${xml(value)}"`).join('');
  const open = `    <testcase classname="${xml(classname)}" name="${xml(name)}" time="${time}"${extra}`;
  return body ? `${open}>\n${body}\n    </testcase>` : `${open}/>`;
}

function failure(type: string, message: string, text: string): string {
  return `      <failure type="${xml(type)}" message="${xml(message)}">${xml(text)}</failure>`;
}

/** Escapes text for an XML 1.0 attribute or element: markup escaped, characters XML forbids replaced. */
export function xml(text: string): string {
  return xmlChars(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
