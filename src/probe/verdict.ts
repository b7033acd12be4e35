// The verdict of a shutdown, decided from plain facts: no process, no clock, no I/O. Every
// mode (attach, run, a master and its workers) gathers the facts and asks here, so one
// decision table holds for all of them (test/unit/verdict.test.ts).
import type { Outcome, UsageSample, Verdict } from '../core/types.js';
import { looksBusy } from './sampler.js';

/** What /proc says the process does with the signal (non-Node targets). */
export type Disposition = 'caught' | 'ignored' | 'default' | 'unknown';

export interface ShutdownFacts {
  signal: string;
  mercyMs: number;
  /** When the verdict is taken, ms after the signal (the mercy, or earlier: see Verdict). */
  deadlineMs: number;
  /** A JS listener for the signal existed (Node targets); undefined when it could not be asked. */
  hadListener?: boolean;
  /** The signal's disposition from /proc (non-Node targets). */
  disposition?: Disposition;
  /**
   * Pid 1 of its pid namespace (a container's main process): the kernel never applies a
   * signal's default action to it, so with no listener it ignores the signal.
   */
  namespaceInit?: boolean;
  /** The watched process exited: when, and the signal that ended it when known (our own child). */
  exit?: { afterMs: number; bySignal?: string | null };
  samples: UsageSample[];
  /** The target's workers, when it has any, as they stood at the deadline. */
  workers?: {
    /** Workers that were there at the signal and are still alive. */
    stuck: number;
    /** Every original worker exited and replacements appeared. */
    reloaded: boolean;
    /** When the last original worker exited, ms after the signal. */
    lastExitMs?: number;
    /** A Node parent is diagnosed itself (its children are its handles); any other master by its workers. */
    masterIsNode: boolean;
  };
}

export function decideVerdict(facts: ShutdownFacts): Verdict {
  const { exit, workers } = facts;
  const base = {
    signal: facts.signal, mercyMs: facts.mercyMs, deadlineMs: facts.deadlineMs, hadListener: facts.hadListener,
    samples: facts.samples, busy: false, killed: false,
  };
  const verdict = (outcome: Outcome, extra: Partial<Verdict> = {}): Verdict => ({ ...base, outcome, ...extra });
  const stuck = workers?.stuck ?? 0;

  if (exit && exit.afterMs <= facts.deadlineMs) {
    const exitedAfterMs = Math.round(exit.afterMs);
    if (diedOfTheSignal(facts)) return verdict('not-graceful', { exitedAfterMs });
    // It got out, but its workers did not: they run on as orphans.
    if (stuck > 0) return verdict('still-alive', { exitedAfterMs, stuckWorkers: stuck });
    return verdict('exited', { exitedAfterMs });
  }
  // A master lives on by design on a reload signal; its old workers made way in time.
  if (workers?.reloaded) return verdict('reloaded', { exitedAfterMs: workers.lastExitMs });
  // A master that is not Node (uWSGI) is judged by its stuck workers alone.
  if (stuck > 0 && !workers!.masterIsNode) return verdict('still-alive', { stuckWorkers: stuck });
  // It made it out while we were looking: later than the mercy, but not stuck.
  if (exit) return verdict('exited-late', { exitedAfterMs: Math.round(exit.afterMs) });
  const ignores = facts.disposition === 'ignored' || (facts.namespaceInit === true && facts.hadListener === false);
  return verdict(ignores ? 'ignored' : 'still-alive', { busy: looksBusy(facts.samples) });
}

/**
 * No handler for the signal, so its default action killed the process at once, dropping
 * in-flight work. Known from the JS listener count when the inspector answered; otherwise
 * from /proc's disposition, or from the signal our own child died of.
 */
function diedOfTheSignal(facts: ShutdownFacts): boolean {
  if (facts.hadListener !== undefined) return !facts.hadListener;
  return facts.disposition === 'default' || (facts.exit?.bySignal != null && facts.exit.bySignal === facts.signal);
}

/** Alive at the deadline and judged by itself (not by its workers): look at what holds it. */
export function wantsSnapshot(verdict: Verdict): boolean {
  return (verdict.outcome === 'still-alive' || verdict.outcome === 'ignored') && verdict.stuckWorkers === undefined;
}

/** Had not exited when the verdict was taken. */
export function aliveAtDeadline(verdict: Verdict): boolean {
  return verdict.outcome === 'still-alive' || verdict.outcome === 'ignored' || verdict.outcome === 'exited-late';
}
