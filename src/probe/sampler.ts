// CPU and memory of the target during the mercy window (pidusage reads /proc).
import { performance } from 'node:perf_hooks';
import pidusage from 'pidusage';
import { bestEffort } from '../core/debug.js';
import type { UsageSample } from '../core/types.js';

export interface Sampler {
  samples: UsageSample[];
  latest(): UsageSample | undefined;
  stop(): void;
}

export function startSampler(pid: number, startedAt: number, intervalMs = 250): Sampler {
  const samples: UsageSample[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const sample = async () => {
    try {
      const stat = await pidusage(pid);
      if (!stopped) samples.push({ atMs: Math.round(performance.now() - startedAt), cpuPercent: Math.round(stat.cpu), rssBytes: stat.memory });
    } catch (error) {
      // Gone between two samples: the exit watch reports that.
      bestEffort(`sampling CPU and memory of pid ${pid}`)(error);
    }
    if (!stopped) timer = setTimeout(sample, intervalMs);
  };
  void sample();
  return {
    samples,
    latest: () => samples[samples.length - 1],
    stop() {
      stopped = true;
      clearTimeout(timer);
      pidusage.clear();
    },
  };
}

/** Near 100 % of one core over the last second: the main thread is spinning. */
export function looksBusy(samples: UsageSample[]): boolean {
  const recent = samples.slice(-4).slice(1); // the first sample of a window has no delta
  return recent.length > 0 && recent.every((s) => s.cpuPercent >= 80);
}
