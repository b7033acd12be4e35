// The timeline from its raw record: each event the target recorded, named after what it was at
// the signal (the handles of the snapshot taken just before it, grouped by the findings the
// rules made of them), on a time axis that starts at the signal. Pure: unit-tested on data.
import type { Finding, Handle, LoadReport, PackageRef, RunInfo, Snapshot, Timeline, TimelineEvent, TimelineLane } from '../core/types.js';
import type { RawTimelineEvent } from '../inspect/timeline-record.js';

export interface TimelineInput {
  raw: RawTimelineEvent[] | undefined;
  source: Timeline['source'];
  /** Our clock's wall time of the signal (performance.timeOrigin + signalledAt). */
  signalWallMs: number;
  signal: string;
  deadlineMs: number;
  /** What held the loop just before the signal, and what the rules made of it (laneSources). */
  before: Snapshot;
  lanes: readonly LaneSource[];
  notes: string[];
}

/**
 * What the timeline keeps of a finding made before the signal, through the mercy: its name and
 * counts, and only the handles the recorder follows (not the 100,000 of a big one).
 */
export interface LaneSource {
  name: string;
  owner?: PackageRef;
  /** A generic finding: a small one gets a lane per resource. */
  generic: boolean;
  /** How many resources the finding had, and whether any of them held the loop. */
  resources: number;
  blocking: boolean;
  handles: readonly Handle[];
}

/** The findings' lane sources, keeping of their handles those that are followed (all when `followed` is not given). */
export function laneSources(findings: readonly Finding[], followed?: ReadonlySet<number>): LaneSource[] {
  return findings.map((finding) => ({
    name: laneName(finding),
    owner: finding.owner,
    generic: finding.id.startsWith('generic/'),
    resources: finding.handles.length,
    blocking: finding.handles.some((h) => h.blocking),
    handles: followed ? finding.handles.filter((h) => h.asyncId === undefined || followed.has(h.asyncId)) : finding.handles,
  }));
}

export function buildTimeline(input: TimelineInput): Timeline {
  const { raw, before } = input;
  const notes = [...input.notes];
  const byId = new Map<number, Handle>();
  for (const handle of before.handles) if (handle.blocking && handle.asyncId !== undefined) byId.set(handle.asyncId, handle);
  // One lane per library finding; a small generic one per resource (two forgotten timers of
  // the same file are two things to clear, closed at different times), a big one as one lane.
  const groups = input.lanes.flatMap((lane): LaneSource[] => (lane.generic && lane.resources <= LANE_PER_RESOURCE_MAX
    ? lane.handles.map((handle) => ({ name: handle.label.replace(TIMES, ''), owner: lane.owner, generic: true, resources: 1, blocking: handle.blocking, handles: [handle] }))
    : [lane]));
  const laneOf = new Map<Handle, string>();
  for (const group of groups) for (const handle of group.handles) laneOf.set(handle, group.name);

  const events: TimelineEvent[] = [];
  const endedAt = new Map<Handle, number>();
  let exitMs: number | undefined;
  for (const [wall, what, id] of raw ?? []) {
    const atMs = Math.round((wall - input.signalWallMs) * 10) / 10;
    if (what === 'handler') events.push({ atMs, kind: 'handler', what: `the app's ${input.signal} handler ran` });
    else if (what === 'loop-empty') events.push({ atMs, kind: 'loop-empty', what: 'the event loop became empty' });
    else if (what === 'exit') {
      exitMs = atMs;
      events.push({ atMs, kind: 'exit', what: `the process exited (code ${id ?? '?'})` });
    } else if (what === 'end' && id !== undefined && byId.has(id)) {
      const handle = byId.get(id)!;
      if (atMs < 0 || endedAt.has(handle)) continue; // ended before the signal (or twice): not the shutdown's
      endedAt.set(handle, atMs);
      events.push({ atMs, kind: 'closed', what: endedText(handle), lane: laneOf.get(handle) });
    }
  }
  // What never ended: still there at the deadline (or gone with the process: its exit says so).
  for (const handle of byId.values()) {
    if (endedAt.has(handle)) continue;
    if (exitMs === undefined) events.push({ atMs: input.deadlineMs, kind: 'remained', what: `${handle.label.replace(TIMES, '')} was still open`, lane: laneOf.get(handle) });
  }
  events.sort((a, b) => a.atMs - b.atMs);
  const shown = summariseCrowdedLanes(events);

  const lanes: TimelineLane[] = groups.filter((group) => group.blocking).map((group) => {
    const handles = group.handles.filter((h) => byId.get(h.asyncId ?? -1) === h);
    const all = handles.length > 0 && handles.every((h) => endedAt.has(h));
    return {
      name: group.name,
      package: group.owner,
      resources: group.resources,
      endMs: all ? handles.reduce((latest, h) => Math.max(latest, endedAt.get(h)!), 0) : exitMs !== undefined ? exitMs : null,
    };
  }).sort((a, b) => (a.endMs ?? Infinity) - (b.endMs ?? Infinity));
  if (raw === undefined) notes.push('no record came back from the target: only what was open at the signal is known');
  return { source: raw === undefined ? 'none' : input.source, deadlineMs: input.deadlineMs, events: shown, lanes, notes };
}

/** A generic finding with more resources than this is one lane, not one per resource. */
const LANE_PER_RESOURCE_MAX = 5;
/** Per lane, at most this many of its resources' ends are told one by one. */
const LANE_EVENTS_MAX = 4;

/**
 * Thousands of like resources make a lane's events a summary: its first few ends, the last one
 * ("the last of 9,900 …"), and one line for all that remained, so that a report stays readable
 * at any size. The lanes keep their counts.
 */
function summariseCrowdedLanes(events: TimelineEvent[]): TimelineEvent[] {
  const perLane = new Map<string, { closed: TimelineEvent[]; remained: TimelineEvent[] }>();
  for (const event of events) {
    if (event.lane === undefined || (event.kind !== 'closed' && event.kind !== 'remained')) continue;
    const lane = perLane.get(event.lane) ?? { closed: [], remained: [] };
    lane[event.kind].push(event);
    perLane.set(event.lane, lane);
  }
  const dropped = new Set<TimelineEvent>();
  const replaced = new Map<TimelineEvent, TimelineEvent>();
  for (const [name, { closed, remained }] of perLane) {
    if (closed.length > LANE_EVENTS_MAX) {
      const last = closed.at(-1)!;
      for (const event of closed.slice(LANE_EVENTS_MAX - 1, -1)) dropped.add(event);
      replaced.set(last, { ...last, what: `the last of ${closed.length.toLocaleString('en-US')} (${name}) closed` });
    }
    if (remained.length > LANE_EVENTS_MAX) {
      for (const event of remained.slice(1)) dropped.add(event);
      replaced.set(remained[0]!, { ...remained[0]!, what: `${remained.length.toLocaleString('en-US')} (${name}) were still open` });
    }
  }
  return events.filter((event) => !dropped.has(event)).map((event) => replaced.get(event) ?? event);
}

/** Times in a title or label change from run to run: "(next due in 512 ms)". */
const TIMES = / \((?:next )?due in [^)]*\)/g;

/** A finding's title up to its handle summary: "PostgreSQL client (pg@8.13.1): pool never ended". */
function laneName(finding: Finding): string {
  return finding.title.replace(TIMES, '').split(' — ')[0]!;
}

function endedText(handle: Handle): string {
  const label = handle.label.replace(TIMES, '');
  switch (handle.kind) {
    case 'tcp-server':
    case 'pipe-server':
      return `${label} stopped listening`;
    case 'tcp-socket':
    case 'pipe':
      return `${label} closed`;
    case 'timer':
      return handle.details.repeat ? `${label} was cleared` : `${label} fired or was cleared`;
    case 'child-process':
      return `${label} exited`;
    case 'worker-thread':
      return `${label} ended`;
    default:
      return `${label} closed`;
  }
}

/** What reload-doctor's own traffic saw (run mode): the request in flight, the load's last answer, readiness. */
export function withTraffic(timeline: Timeline, exercise: RunInfo['exercise'], load: LoadReport | undefined): Timeline {
  const events: TimelineEvent[] = [];
  const flight = exercise?.inFlight;
  if (flight?.afterSignalMs !== undefined && (flight.outcome === 'completed' || flight.outcome === 'dropped')) {
    events.push({ atMs: flight.afterSignalMs, kind: 'request', what: flight.outcome === 'completed' ? `the request in flight completed (${flight.status})` : `the request in flight was dropped (${flight.error})` });
  }
  if (load?.readiness?.lostMs !== null && load?.readiness?.lostMs !== undefined) events.push({ atMs: load.readiness.lostMs, kind: 'request', what: 'readiness stopped answering 2xx' });
  if (load && load.lastServedMs !== null) events.push({ atMs: load.lastServedMs, kind: 'request', what: 'the last request of the load was served' });
  if (events.length === 0) return timeline;
  return { ...timeline, events: [...timeline.events, ...events].sort((a, b) => a.atMs - b.atMs) };
}
