// The timeline from its raw record: a pure function of what was open at the signal, the rules'
// findings on it and the events the target recorded (its own clock).
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { buildTimeline, laneSources, withTraffic } from '../../src/check/timeline.js';
import type { Handle, LoadReport, Snapshot } from '../../src/core/types.js';
import { explain } from '../../src/explain/engine.js';
import { parseRecord } from '../../src/inspect/timeline-record.js';
import { waterfallLines } from '../../src/report/waterfall.js';

const handle = (asyncId: number, kind: Handle['kind'], label: string, details: Handle['details'] = {}): Handle => ({ kind, blocking: true, label, details, asyncId });
const before: Snapshot = {
  source: 'inspector', nodeVersion: 'v22.1.0', takenAtMs: 0, notes: [],
  handles: [
    handle(11, 'tcp-server', 'TCPServerWrap (listening on 127.0.0.1:8080, 0 open connections)', { local: '127.0.0.1:8080' }),
    handle(12, 'timer', 'Timeout every 1000 ms (next due in 500 ms)', { delay: 1000, repeat: 1000, dueIn: 500 }),
    handle(13, 'timer', 'Timeout every 5000 ms (next due in 100 ms)', { delay: 5000, repeat: 5000, dueIn: 100 }),
  ],
};
const signalWallMs = 1_700_000_000_000;
const at = (ms: number) => signalWallMs + ms;

describe('buildTimeline', () => {
  it('names each end after what it was at the signal; what never ended remained at the deadline', () => {
    const raw = parseRecord(JSON.stringify([[at(-2), 'armed'], [at(3), 'handler'], [at(5), 'end', 11], [at(600), 'end', 13], [at(-1), 'end', 12]]));
    const timeline = buildTimeline({ raw, source: 'deadline', signalWallMs, signal: 'SIGTERM', deadlineMs: 1500, before, lanes: laneSources(explain(before)), notes: [] });
    expect(timeline.events.map((e) => [e.atMs, e.kind, e.what])).toEqual([
      [3, 'handler', "the app's SIGTERM handler ran"],
      [5, 'closed', 'TCPServerWrap (listening on 127.0.0.1:8080, 0 open connections) stopped listening'],
      [600, 'closed', 'Timeout every 5000 ms was cleared'],
      // It "ended" before the signal in the record: not the shutdown's, so still open.
      [1500, 'remained', 'Timeout every 1000 ms was still open'],
    ]);
    expect(timeline.lanes.map((l) => [l.name, l.endMs])).toEqual([
      ['TCPServerWrap (listening on 127.0.0.1:8080, 0 open connections)', 5],
      ['Timeout every 5000 ms', 600],
      ['Timeout every 1000 ms', null],
    ]);
  });

  it('an exit ends every lane; a missing record says so', () => {
    const raw = parseRecord(JSON.stringify([[at(2), 'handler'], [at(40), 'loop-empty'], [at(41), 'exit', 0]]));
    const exited = buildTimeline({ raw, source: 'exit', signalWallMs, signal: 'SIGTERM', deadlineMs: 1500, before, lanes: laneSources(explain(before)), notes: [] });
    expect(exited.lanes.every((l) => l.endMs === 41)).toBe(true);
    expect(exited.events.at(-1)).toMatchObject({ kind: 'exit', what: 'the process exited (code 0)' });
    const none = buildTimeline({ raw: undefined, source: 'deadline', signalWallMs, signal: 'SIGTERM', deadlineMs: 1500, before, lanes: laneSources(explain(before)), notes: [] });
    expect(none.source).toBe('none');
    expect(none.notes).toContain('no record came back from the target: only what was open at the signal is known');
  });

  it("the target's record is checked: malformed entries are dropped, not trusted", () => {
    expect(parseRecord('not json')).toBeUndefined();
    expect(parseRecord('{"a":1}')).toBeUndefined();
    expect(parseRecord(JSON.stringify([[1, 'end', 3], ['x', 'end'], [2, 'rm -rf', 1], [Infinity, 'exit'], [3, 'exit', 'zero']]))).toEqual([[1, 'end', 3], [3, 'exit', undefined]]);
  });

  it('the waterfall draws a bar per lane to its end, the deadline marked, open lanes to it', () => {
    const raw = parseRecord(JSON.stringify([[at(3), 'handler'], [at(5), 'end', 11], [at(600), 'end', 13]]));
    const timeline = buildTimeline({ raw, source: 'deadline', signalWallMs, signal: 'SIGTERM', deadlineMs: 1500, before, lanes: laneSources(explain(before)), notes: [] });
    const lines = waterfallLines(timeline, 'SIGTERM', new Chalk({ level: 0 }));
    expect(lines[1]).toBe('Shutdown timeline (from SIGTERM; │ = the deadline at 1.5 s):');
    expect(lines.find((l) => l.includes('Timeout every 5000 ms'))).toMatch(/ █{16} {24}│ 600 ms$/);
    expect(lines.find((l) => l.includes('Timeout every 1000 ms'))).toMatch(/ █{40}│ still open$/);
    expect(lines.at(-1)).toBe('      3 ms  the app\'s SIGTERM handler ran');
  });

  it("reload-doctor's own traffic joins the events in time order; without any, the timeline is unchanged", () => {
    const raw = parseRecord(JSON.stringify([[at(3), 'handler'], [at(5), 'end', 11], [at(600), 'end', 13], [at(610), 'exit', 0]]));
    const timeline = buildTimeline({ raw, source: 'exit', signalWallMs, signal: 'SIGTERM', deadlineMs: 1500, before, lanes: laneSources(explain(before)), notes: [] });
    const load: LoadReport = {
      url: 'http://127.0.0.1:8080/', ratePerSecond: 50, sent: 80, answered: 80,
      afterSignal: { sent: 30, completed: 30, failed: 0, unanswered: 0, failures: {} },
      lastServedMs: 590, readiness: { url: 'http://127.0.0.1:8080/ready', lostMs: 4 },
    };
    const withLoad = withTraffic(timeline, { url: 'http://127.0.0.1:8080/', warmup: { sent: 3, answered: 3 }, keepAliveConnections: 1, inFlight: { outcome: 'completed', status: 200, afterSignalMs: 120 } }, load);
    expect(withLoad.events.filter((e) => e.kind === 'request').map((e) => [e.atMs, e.what])).toEqual([
      [4, 'readiness stopped answering 2xx'],
      [120, 'the request in flight completed (200)'],
      [590, 'the last request of the load was served'],
    ]);
    expect(withLoad.events.map((e) => e.atMs)).toEqual([...withLoad.events.map((e) => e.atMs)].sort((a, b) => a - b));
    expect(withTraffic(timeline, undefined, undefined)).toBe(timeline);
    expect(withTraffic(timeline, { url: 'x', warmup: { sent: 3, answered: 3 }, keepAliveConnections: 1, inFlight: { outcome: 'completed-before-signal', status: 200 } }, undefined)).toBe(timeline);
  });

  it('a big generic finding is one lane, and its events a summary: a few ends, the last, one line for what remained', () => {
    const timers = Array.from({ length: 40 }, (_, i) => handle(100 + i, 'timer', 'Timeout every 1000 ms', { delay: 1000, repeat: 1000 }));
    const big: Snapshot = { ...before, handles: timers };
    const ends = timers.slice(0, 30).map((timer, i) => [at(10 + i), 'end', timer.asyncId]);
    const timeline = buildTimeline({ raw: parseRecord(JSON.stringify(ends)), source: 'deadline', signalWallMs, signal: 'SIGTERM', deadlineMs: 1500, before: big, lanes: laneSources(explain(big)), notes: [] });
    expect(timeline.lanes).toEqual([{ name: '40 × Timeout every 1000 ms', package: undefined, resources: 40, endMs: null }]);
    expect(timeline.events.map((e) => [e.atMs, e.kind, e.what])).toEqual([
      [10, 'closed', 'Timeout every 1000 ms was cleared'],
      [11, 'closed', 'Timeout every 1000 ms was cleared'],
      [12, 'closed', 'Timeout every 1000 ms was cleared'],
      [39, 'closed', 'the last of 30 (40 × Timeout every 1000 ms) closed'],
      [1500, 'remained', '10 (40 × Timeout every 1000 ms) were still open'],
    ]);
  });
});
