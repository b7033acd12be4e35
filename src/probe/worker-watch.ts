// Follows a master's workers (its whole process tree) through /proc during the mercy window:
// which processes there were at the signal, when each one exited, which new ones appeared (a reload spawns replacements), and
// how often each woke up (voluntary context switches: a worker that wakes every ~0.5 s is
// polling something; an idle one sleeps for long stretches).
import { performance } from 'node:perf_hooks';
import { withoutRunFlags } from '../core/format.js';
import { isAlive, readCmdline, readStat, voluntarySwitches } from '../reach/proc.js';
import { descendantsOf } from '../reach/descendants.js';
import type { TreeMember } from '../core/types.js';

/** What the watch knows of a member; the verdict (stuck, diagnosis) is added later. */
export type WatchedMember = Omit<TreeMember, 'stuck' | 'runtime' | 'snapshot' | 'findings'>;

export interface WorkerWatch {
  /** The members now; call once the window is over. */
  members(): WatchedMember[];
  /** Every original has exited and a replacement has appeared: a finished reload. */
  reloaded(): boolean;
  /** Waits until every original has exited, or until `deadline` (performance.now() time). */
  originalsGone(deadline: number): Promise<void>;
  stop(): void;
}

const POLL_MS = 50;

interface Tracked extends WatchedMember { startTicks: number; switchesAtStart?: number; cpuTicksAtStart: number; firstSeen: number }

/** USER_HZ: /proc counts CPU time in these ticks (100 on Linux everywhere that matters). */
const TICKS_PER_SECOND = 100;

/** Start it right before the signal: times are counted from then. */
export function watchWorkers(root: number): WorkerWatch {
  const tracked = new Map<string, Tracked>();
  const startedAt = performance.now();
  const sinceSignal = () => Math.round(performance.now() - startedAt);
  const key = (pid: number, startTicks: number) => `${pid}:${startTicks}`;
  const scan = (initial: boolean) => {
    const alive = new Set<string>();
    for (const pid of descendantsOf(root)) {
      const stat = readStat(pid);
      if (!stat) continue;
      const id = key(pid, stat.startTicks);
      alive.add(id);
      if (!tracked.has(id)) {
        tracked.set(id, {
          pid, ppid: stat.ppid, command: withoutRunFlags(readCmdline(pid)).join(' '), original: initial, startTicks: stat.startTicks,
          appearedAfterMs: initial ? undefined : sinceSignal(), switchesAtStart: voluntarySwitches(pid),
          cpuTicksAtStart: stat.utimeTicks + stat.stimeTicks, firstSeen: performance.now(),
        });
      }
    }
    for (const [id, member] of tracked) {
      if (member.exitedAfterMs === undefined && !alive.has(id) && !isAliveAs(member)) member.exitedAfterMs = sinceSignal();
    }
  };
  scan(true);
  const timer = setInterval(() => scan(false), POLL_MS);
  timer.unref();
  return {
    members() {
      scan(false);
      const now = performance.now();
      return [...tracked.values()].map(({ startTicks: _s, switchesAtStart, cpuTicksAtStart, firstSeen, ...member }) => {
        const alive = member.exitedAfterMs === undefined;
        const switches = alive ? voluntarySwitches(member.pid) : undefined;
        const stat = alive ? readStat(member.pid) : undefined;
        const seconds = (now - firstSeen) / 1000;
        const measurable = seconds > 0.2;
        const wakeupsPerSecond = switches !== undefined && switchesAtStart !== undefined && measurable
          ? Math.round(((switches - switchesAtStart) / seconds) * 10) / 10 : undefined;
        const cpuPercent = stat && measurable
          ? Math.round((((stat.utimeTicks + stat.stimeTicks - cpuTicksAtStart) / TICKS_PER_SECOND) / seconds) * 100) : undefined;
        return { ...member, wakeupsPerSecond, cpuPercent };
      });
    },
    reloaded() {
      const all = [...tracked.values()];
      return all.some((m) => !m.original) && all.every((m) => !m.original || m.exitedAfterMs !== undefined);
    },
    async originalsGone(deadline) {
      while (performance.now() < deadline) {
        scan(false);
        if ([...tracked.values()].every((m) => !m.original || m.exitedAfterMs !== undefined)) return;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
    stop: () => clearInterval(timer),
  };
}

function isAliveAs(member: Tracked): boolean {
  const stat = readStat(member.pid);
  return stat !== undefined && stat.startTicks === member.startTicks && isAlive(member.pid);
}
