// `toShutDownWithin`: the shutdown check as a test-runner matcher (Vitest and Jest share the
// expect.extend contract). It passes when the service (run mode, `{ command }`) or the process
// (attach mode, `{ pid }`) exits within the mercy after the graceful signal; otherwise its
// message is the text report, each culprit with the line of the service's code that made it.
import { diagnose } from '../api/check.js';
import type { CheckOptions, Duration } from '../api/options.js';
import { UsageError } from '../core/errors.js';
import { inertDiagnosis } from '../core/sanitize.js';
import { renderText } from '../report/text.js';
import { describeVerdict } from '../report/verdict.js';

/** What `expect(...)` may hold: the check's options without the mercy (the matcher's argument). */
export type ShutdownSubject = Omit<CheckOptions, 'mercy'>;

/** The part of the runner's matcher context we read. */
interface MatcherContext { isNot?: boolean }

export interface MatcherResult { pass: boolean; message: () => string }

export async function toShutDownWithin(this: MatcherContext | undefined, received: unknown, mercy: Duration, options: Partial<CheckOptions> = {}): Promise<MatcherResult> {
  if (received === null || typeof received !== 'object' || Array.isArray(received)) {
    throw new UsageError('toShutDownWithin: expect() takes the check\'s options, e.g. expect({ command: ["node", "server.js"] })');
  }
  const diagnosis = await diagnose({ ...(received as CheckOptions), ...options, mercy } as CheckOptions);
  const safe = inertDiagnosis(diagnosis);
  const what = safe.target.command || `pid ${safe.target.pid}`;
  const verdict = safe.verdict ? describeVerdict(safe.verdict).text : safe.unfinished ?? 'no verdict';
  const pass = diagnosis.exitCode === 0;
  return {
    pass,
    message: () => pass
      ? `expected ${what} not to shut down within ${String(mercy)}, but: ${verdict}`
      : `expected ${what} to shut down within ${String(mercy)}\n\n${asMessage(renderText(safe, false))}`,
  };
}

/** Jest takes any line that starts with "at " for a stack frame and cuts it out: the culprit's line would go. */
function asMessage(report: string): string {
  return report.replace(/^(\s*)at (?=\S)/gm, '$1in ');
}
