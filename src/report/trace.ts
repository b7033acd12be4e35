// `--trace <file>`: the timeline as Chrome trace events (the JSON Object Format), which
// Perfetto and chrome://tracing open: one track per owner (a complete event from the signal to
// when it let go, or to the deadline), and instant events for the rest. Times in µs.
import type { Diagnosis } from '../core/diagnosis.js';

interface TraceEvent {
  name: string; ph: 'X' | 'i' | 'M'; ts: number; pid: number; tid: number;
  dur?: number; s?: 'g' | 'p' | 't'; cat?: string; args?: Record<string, unknown>;
}

export function renderTrace(diagnosis: Diagnosis): string {
  const timeline = diagnosis.timeline;
  const pid = diagnosis.target.pid;
  const events: TraceEvent[] = [{ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: `${diagnosis.target.command} (pid ${pid})` } }];
  if (timeline) {
    const us = (ms: number) => Math.round(ms * 1000);
    timeline.lanes.forEach((lane, index) => {
      const tid = index + 1;
      events.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name: lane.name } });
      const end = lane.endMs ?? timeline.deadlineMs;
      events.push({ name: lane.endMs === null ? `${lane.name} (still open)` : lane.name, cat: 'owner', ph: 'X', ts: 0, dur: us(Math.max(end, 0.001)), pid, tid,
        args: { resources: lane.resources, endMs: lane.endMs, package: lane.package ?? null } });
    });
    const laneIndex = new Map(timeline.lanes.map((lane, index) => [lane.name, index + 1]));
    for (const event of timeline.events) {
      events.push({ name: event.what, cat: event.kind, ph: 'i', s: event.lane ? 't' : 'p', ts: us(event.atMs), pid, tid: event.lane ? laneIndex.get(event.lane) ?? 0 : 0 });
    }
    events.push({ name: 'deadline', cat: 'deadline', ph: 'i', s: 'g', ts: us(timeline.deadlineMs), pid, tid: 0 });
  }
  return `${JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms', otherData: { tool: 'reload-doctor', verdict: diagnosis.verdict?.outcome ?? null } })}\n`;
}
