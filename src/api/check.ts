// The one way into a check, for the CLI, the API and the test-runner matchers alike: options
// checked, the mode chosen by what was given (a pid, or a command), the check run as one
// abortable unit (an abort closes what it opened, as Ctrl-C does).
import type { Diagnosis } from '../core/diagnosis.js';
import { runAbortable } from '../core/cleanups.js';
import { UsageError } from '../core/errors.js';
import { TOOL_VERSION } from '../core/version.js';
import { probeByPid } from '../modes/attach.js';
import { listHandles } from '../modes/handles.js';
import { runService } from '../modes/run.js';
import { toJsonDocument, type ShutdownDocument } from '../report/json.js';
import { heapSnapshotRequest, resolveOptions, type CheckOptions, type Progress } from './options.js';

/** The check, as a Diagnosis (what every report renders). */
export async function diagnose(options: CheckOptions, progress: Progress = {}): Promise<Diagnosis> {
  const abortSignal = abortSignalOf(options);
  return runAbortable(abortSignal, async () => {
    const resolved = resolveOptions(options, progress);
    return resolved.mode === 'attach' ? probeByPid(resolved.request) : runService(resolved.request);
  });
}

/** `reload-doctor handles <pid>`: what keeps it alive now, no signal sent. */
export async function diagnoseHandles(pid: number, options: { inspector?: boolean; abortSignal?: AbortSignal; heapSnapshot?: boolean; force?: boolean; onEstimate?: (line: string) => void } = {}): Promise<Diagnosis> {
  const heapSnapshot = heapSnapshotRequest(options);
  return runAbortable(abortSignalOf(options), () => listHandles(pid, options.inspector !== false, heapSnapshot));
}

/**
 * Checks that a service shuts down within the mercy and says why not. Resolves to the versioned
 * document `--json` prints (a stuck service is a result: `exitCode` 1, its culprits in
 * `findings`); rejects with a UsageError, ReachError, ServiceNotReadyError or AbortError, whose
 * `exitCode` is the CLI's for the same failure.
 */
export async function checkShutdown(options: CheckOptions): Promise<ShutdownDocument> {
  return toJsonDocument(await diagnose(options), TOOL_VERSION);
}

function abortSignalOf(options: unknown): AbortSignal | undefined {
  const signal = (options as { abortSignal?: unknown } | null)?.abortSignal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new UsageError('abortSignal must be an AbortSignal (from an AbortController)');
  return signal;
}
