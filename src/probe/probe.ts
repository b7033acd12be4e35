// The reload probe: send the graceful signal, wait for the exit up to the mercy, sample
// CPU/RSS meanwhile, and say whether it made it in time.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAborted, throwIfAborted } from '../core/cleanups.js';
import { ReachError } from '../core/errors.js';
import type { UsageSample } from '../core/types.js';
import { watchExit } from './exit-watch.js';
import { startSampler } from './sampler.js';
import type { SignalChoice } from './signals.js';

export interface ProbeOptions {
  /** The process whose exit is awaited. */
  pid: number;
  /** Where the signal goes, when not to `pid` (a wrapper such as npm that should pass it on). */
  signalPid?: number;
  signal: SignalChoice;
  mercyMs: number;
  /** The target is our own child: when it exited (performance.now()), from its exit event. */
  childExitedAt?: Promise<number>;
  /** Ends the wait before the mercy (a master whose workers were all replaced will not exit). */
  settledEarly?: () => boolean;
  /** Called about every 100 ms while waiting (for a live countdown). */
  onTick?: (elapsedMs: number, latest: UsageSample | undefined) => void;
  /** Called as soon as the signal went out (performance.now()). */
  onSignal?: (at: number) => void;
}

export interface ProbeResult {
  exited: boolean;
  exitedAfterMs?: number;
  samples: UsageSample[];
  /** performance.now() when the signal went out. */
  signalledAt: number;
  /** Keeps watching after the deadline: resolves with ms-after-signal if it exits later. */
  lateExit: Promise<number>;
  stopWatching(): void;
}

export async function runProbe(options: ProbeOptions): Promise<ProbeResult> {
  const { pid, signal, mercyMs, onTick } = options;
  const signalPid = options.signalPid ?? pid;
  const watch = watchExit(pid, options.childExitedAt);
  // An aborted check never signals: its cleanups may already have closed what it opened.
  try {
    throwIfAborted();
  } catch (error) {
    watch.stop();
    throw error;
  }
  const signalledAt = performance.now();
  const sampler = startSampler(pid, signalledAt);
  try {
    process.kill(signalPid, signal.name);
  } catch (error) {
    watch.stop();
    sampler.stop();
    const code = (error as NodeJS.ErrnoException).code;
    throw new ReachError(code === 'EPERM' ? `not permitted to send ${signal.name} to pid ${signalPid}` : `could not send ${signal.name} to pid ${signalPid}: ${code}`, { cause: error });
  }
  options.onSignal?.(signalledAt);
  const deadline = signalledAt + mercyMs;
  let exitedAt: number | undefined;
  void watch.exited.then((at) => { exitedAt = at; });
  while (exitedAt === undefined && performance.now() < deadline && !options.settledEarly?.() && !isAborted()) {
    const wait = Math.min(100, deadline - performance.now());
    await Promise.race([watch.exited, sleep(Math.max(0, wait))]);
    onTick?.(performance.now() - signalledAt, sampler.latest());
  }
  sampler.stop();
  const lateExit = watch.exited.then((at) => at - signalledAt);
  return {
    exited: exitedAt !== undefined && exitedAt <= deadline,
    exitedAfterMs: exitedAt === undefined ? undefined : exitedAt - signalledAt,
    samples: sampler.samples,
    signalledAt,
    lateExit,
    stopWatching: () => watch.stop(),
  };
}
