// Where CI puts a finding (GitHub annotations, JUnit test cases): names that stay the same
// from run to run (no "next due in 123 ms", no delays until a job's next run), and files
// relative to the repository, never inside node_modules.
import { relative, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnosis } from '../core/diagnosis.js';
import type { Finding, SourceLocation } from '../core/types.js';

/** A finding's title without the times that change on every run. */
export function stableTitle(title: string): string {
  return title
    .replace(/ \(next due in [^)]*\)/g, '')
    .replace(/\b(timers?) \((?:[\d.]+ (?:ms|s|min|h))(?: [\d.]+ (?:s|min))?\)/g, '$1');
}

/**
 * The file a CI annotation may point at: the app's own, relative to the workspace when it is
 * inside it; none for Node's own code or a file under node_modules (nothing to fix there).
 */
export function ciFile(location: SourceLocation | undefined, workspace: string | undefined): string | undefined {
  if (!location || location.internal || location.package || location.file.includes('node_modules/')) return undefined;
  const path = location.url.startsWith('file://') ? safePath(location.url) : location.url;
  if (workspace && isAbsolute(path)) {
    const inside = relative(workspace, path);
    if (!inside.startsWith('..') && !isAbsolute(inside)) return inside;
  }
  return location.file;
}

/**
 * Where CI puts a finding: its own line when that is the app's, else (a library's finding in
 * attach mode) the line that declares the app variable holding it.
 */
export function ciPlace(finding: Finding, workspace: string | undefined): { file: string; location: SourceLocation } | undefined {
  const own = ciFile(finding.location, workspace);
  if (own) return { file: own, location: finding.location! };
  const holder = finding.heldBy && ciFile(finding.heldBy.location, workspace);
  return holder ? { file: holder, location: finding.heldBy!.location } : undefined;
}

function safePath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return url; // not a file URL after all: shown as it is
  }
}

/**
 * The findings CI shows: the target's own, then its stuck workers' (a uWSGI master's), each
 * finding once however many workers share it, its title saying how many.
 */
export function ciFindings(diagnosis: Diagnosis): Finding[] {
  const fromWorkers = new Map<string, { finding: Finding; workers: number }>();
  for (const member of diagnosis.tree?.members ?? []) {
    if (!member.stuck) continue;
    for (const finding of member.findings ?? []) {
      const key = `${finding.id}\u0000${stableTitle(finding.title)}`;
      const seen = fromWorkers.get(key);
      if (seen) seen.workers += 1;
      else fromWorkers.set(key, { finding, workers: 1 });
    }
  }
  const workers = [...fromWorkers.values()].map(({ finding, workers: n }) => ({ ...finding, title: `${n} stuck worker${n === 1 ? '' : 's'}: ${finding.title}` }));
  return [...diagnosis.findings, ...workers];
}
