// The timeline's raw record, in and out of the target: armed in the last window before the
// signal, brought out at the deadline's window, or read from the file the target wrote as it
// exited. What comes back is the target's word: checked field by field, capped.
import { bestEffort } from '../core/debug.js';
import { globalObject } from '../in-target/process-facts.js';
import { TIMELINE_KEY, startTimeline, stopTimeline } from '../in-target/timeline-recorder.js';
import type { CdpClient } from '../reach/cdp-client.js';
import { callInTarget, referenceInTarget } from '../reach/in-target-call.js';
import { findTimerInternals } from './node-snapshot.js';

/** [wall-clock ms, what, async id or exit code] (see timeline-recorder.ts). */
export type RawTimelineEvent = [number, string, number | undefined];

/** The recorder records one end per resource and a few moments: more is not its. */
const MAX_EVENTS = 100_000;
/** How late an end may be recorded (the recorder's poll, see timeline-recorder.ts). */
const PULSE_MS = 5;
const GROUP = 'reload-doctor.timeline';
const TIMEOUT_MS = 3000;
const KINDS = new Set(['armed', 'handler', 'end', 'loop-empty', 'exit']);

export async function armTimeline(client: CdpClient, signal: string, asyncIds: number[], exitFile: string | undefined): Promise<boolean> {
  try {
    const timers = await findTimerInternals(client);
    const anchor = timers?.timerListMap ?? (await referenceInTarget(client, globalObject, [], GROUP, TIMEOUT_MS)).objectId!;
    const reply = await client.send('Runtime.callFunctionOn', {
      functionDeclaration: startTimeline.toString(),
      objectId: anchor,
      arguments: [{ value: TIMELINE_KEY }, { value: signal }, { value: asyncIds }, timers ? { objectId: timers.timerListMap } : { value: null }, { value: exitFile ?? null }, { value: PULSE_MS }],
      returnByValue: true,
    }, TIMEOUT_MS);
    return !reply.exceptionDetails && String(reply.result.value).startsWith('recording');
  } catch (error) {
    return bestEffort('arming the timeline', false)(error);
  } finally {
    await client.send('Runtime.releaseObjectGroup', { objectGroup: GROUP }, TIMEOUT_MS).catch(bestEffort('releasing the timeline references'));
  }
}

export async function collectTimeline(client: CdpClient): Promise<RawTimelineEvent[] | undefined> {
  const json = await callInTarget(client, stopTimeline, [TIMELINE_KEY]).catch(bestEffort('collecting the timeline', undefined));
  return typeof json === 'string' ? parseRecord(json) : undefined;
}

/** A record the target wrote (its own words): malformed entries are dropped, the rest capped. */
export function parseRecord(json: string): RawTimelineEvent[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const events: RawTimelineEvent[] = [];
  for (const entry of value.slice(0, MAX_EVENTS + 2)) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'number' || !Number.isFinite(entry[0]) || !KINDS.has(entry[1])) continue;
    const id = typeof entry[2] === 'number' && Number.isFinite(entry[2]) ? entry[2] : undefined;
    events.push([entry[0], entry[1], id]);
  }
  return events;
}
