// The verdict decision table, for every mode at once: attach (listener count or /proc
// disposition), run (the signal our child died of), and a master judged with its workers.
import { describe, expect, it } from 'vitest';
import { shutdownExitCode } from '../../src/core/exit-codes.js';
import type { UsageSample } from '../../src/core/types.js';
import { aliveAtDeadline, decideVerdict, wantsSnapshot, type ShutdownFacts } from '../../src/probe/verdict.js';

const idle: UsageSample[] = [{ atMs: 0, cpuPercent: 0, rssBytes: 1 }, { atMs: 250, cpuPercent: 1, rssBytes: 1 }];
const spinning: UsageSample[] = [0, 250, 500, 750, 1000].map((atMs) => ({ atMs, cpuPercent: 99, rssBytes: 1 }));

function facts(overrides: Partial<ShutdownFacts>): ShutdownFacts {
  return { signal: 'SIGTERM', mercyMs: 2000, deadlineMs: 2000, samples: idle, ...overrides };
}

const workers = (stuck: number, extra: Partial<NonNullable<ShutdownFacts['workers']>> = {}) => ({ stuck, reloaded: false, masterIsNode: false, ...extra });

describe('decideVerdict', () => {
  const table: Array<[string, Partial<ShutdownFacts>, { outcome: string; exitedAfterMs?: number; stuckWorkers?: number; busy?: boolean; exit: number; snapshot: boolean }]> = [
    ['exits in time, with a listener', { hadListener: true, exit: { afterMs: 120.4 } }, { outcome: 'exited', exitedAfterMs: 120, exit: 0, snapshot: false }],
    ['exits at once, no listener (Node)', { hadListener: false, exit: { afterMs: 3 } }, { outcome: 'not-graceful', exitedAfterMs: 3, exit: 1, snapshot: false }],
    ['no listener known, /proc says default action (not Node)', { disposition: 'default', exit: { afterMs: 2 } }, { outcome: 'not-graceful', exit: 1, snapshot: false }],
    ['no listener known, our child died of the very signal (run)', { exit: { afterMs: 2, bySignal: 'SIGTERM' } }, { outcome: 'not-graceful', exit: 1, snapshot: false }],
    ['our child exited with a code after its handler ran (run)', { exit: { afterMs: 40, bySignal: null } }, { outcome: 'exited', exit: 0, snapshot: false }],
    ['a listener known beats the exit signal', { hadListener: true, exit: { afterMs: 40, bySignal: 'SIGTERM' } }, { outcome: 'exited', exit: 0, snapshot: false }],
    ['the signal is caught (/proc), exits in time', { disposition: 'caught', exit: { afterMs: 80 } }, { outcome: 'exited', exit: 0, snapshot: false }],
    ['exits exactly at the deadline', { hadListener: true, exit: { afterMs: 2000 } }, { outcome: 'exited', exit: 0, snapshot: false }],
    ['still alive at the deadline', { hadListener: true }, { outcome: 'still-alive', busy: false, exit: 1, snapshot: true }],
    ['still alive and spinning', { hadListener: true, samples: spinning }, { outcome: 'still-alive', busy: true, exit: 1, snapshot: true }],
    ['ignores the signal (SIG_IGN)', { disposition: 'ignored' }, { outcome: 'ignored', exit: 1, snapshot: true }],
    ['exits while we look, after the deadline', { hadListener: true, exit: { afterMs: 2100.6 } }, { outcome: 'exited-late', exitedAfterMs: 2101, exit: 1, snapshot: false }],
    ['a master whose workers were all replaced', { workers: workers(0, { reloaded: true, lastExitMs: 35 }) }, { outcome: 'reloaded', exitedAfterMs: 35, exit: 0, snapshot: false }],
    ['a uWSGI master with stuck workers: judged by them', { deadlineMs: 4200, mercyMs: 10_000, workers: workers(2) }, { outcome: 'still-alive', stuckWorkers: 2, exit: 1, snapshot: false }],
    ['a Node primary with a stuck worker: diagnosed itself', { hadListener: true, workers: workers(1, { masterIsNode: true }) }, { outcome: 'still-alive', exit: 1, snapshot: true }],
    ['a master that exits and leaves workers (orphans)', { hadListener: true, exit: { afterMs: 50 }, workers: workers(1, { masterIsNode: true }) }, { outcome: 'still-alive', exitedAfterMs: 50, stuckWorkers: 1, exit: 1, snapshot: false }],
    ['a master with no handler dies: not graceful, whatever its workers do', { hadListener: false, exit: { afterMs: 5 }, workers: workers(1, { masterIsNode: true }) }, { outcome: 'not-graceful', exit: 1, snapshot: false }],
  ];
  it.each(table)('%s', (_name, given, expected) => {
    const verdict = decideVerdict(facts(given));
    const { exit, snapshot, ...fields } = expected;
    expect(verdict).toMatchObject(fields);
    expect(shutdownExitCode(verdict)).toBe(exit);
    expect(wantsSnapshot(verdict)).toBe(snapshot);
  });

  it('keeps the facts it was given: signal, mercy, deadline, samples; never killed', () => {
    const verdict = decideVerdict(facts({ signal: 'SIGHUP', mercyMs: 10_000, deadlineMs: 4200, workers: workers(2) }));
    expect(verdict).toMatchObject({ signal: 'SIGHUP', mercyMs: 10_000, deadlineMs: 4200, samples: idle, killed: false });
  });

  it('alive at the deadline: still alive, ignored, or out only after it', () => {
    expect(aliveAtDeadline(decideVerdict(facts({})))).toBe(true);
    expect(aliveAtDeadline(decideVerdict(facts({ exit: { afterMs: 2500 } })))).toBe(true);
    expect(aliveAtDeadline(decideVerdict(facts({ exit: { afterMs: 10 } })))).toBe(false);
  });
});

describe('shutdownExitCode', () => {
  it('a dropped request fails a shutdown that was otherwise in time, and changes nothing else', () => {
    expect(shutdownExitCode({ outcome: 'exited' }, true)).toBe(1);
    expect(shutdownExitCode({ outcome: 'reloaded' }, false)).toBe(0);
    expect(shutdownExitCode({ outcome: 'still-alive' }, true)).toBe(1);
  });
});
