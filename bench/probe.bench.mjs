// Benchmarks of the shutdown check, through the same functions the CLI uses (run: npm run
// bench). Prints medians; the machine is shared and noisy, so each figure is a median of
// repeated runs, with a baseline from the same run where one makes sense.
//  1. attach: SIGUSR1 → the first window open and its Node version known (goal ≤ 250 ms)
//  2. exit → verdict: the target's own exit time to the moment runShutdownCheck returns its
//     verdict (goal ≤ 10 ms): by the /proc poll (any process), and by the exit event of our
//     own child (run mode) as the baseline
//  3. past the mercy → report printed, for a target holding ~200 handles, the deadline's
//     window (SIGUSR1, connect, snapshot, close) included (goal ≤ 300 ms)
//  4. how long the target's inspector is open in all, per probe with the default 10 s mercy
//     (goal ≤ 1 s)
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { runShutdownCheck } from '../dist/check/shutdown.js';
import { makeDiagnosis } from '../dist/core/diagnosis.js';
import { parseSignal } from '../dist/probe/signals.js';
import { reachPid, reachedThroughProc, withSession } from '../dist/reach/reached.js';
import { renderText } from '../dist/report/text.js';
import { median, root } from './common.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const SIGTERM = parseSignal('SIGTERM');

function start(file, args = []) {
  const child = spawn(process.execPath, [`fixtures/${file}`, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', () => { const m = /READY (.*)/.exec(out); if (m) resolve(JSON.parse(m[1])); });
    child.once('exit', () => reject(new Error(`${file} exited early`)));
  });
  const exited = new Promise((resolve) => child.once('exit', () => resolve(performance.now())));
  return { child, ready, exited, output: () => out };
}

/** exit-after.cjs exits 100 ms after SIGTERM and prints its own exit time. */
async function exitLatency(asChild) {
  const attachTimes = [];
  const latencies = [];
  for (let i = 0; i < RUNS; i++) {
    const app = start('exit-after.cjs');
    await app.ready;
    const t0 = performance.now();
    const reached = await reachPid(app.child.pid, { useInspector: true, idleMs: 10_000 });
    attachTimes.push(performance.now() - t0);
    let verdictAt;
    const child = asChild ? { exitedAt: app.exited, exitSignal: async () => app.child.signalCode } : undefined;
    const { value: check } = await withSession(reached, async () => {
      const result = await runShutdownCheck(reached, { signal: SIGTERM, mercyMs: 5000, followWorkers: false, child });
      verdictAt = performance.timeOrigin + performance.now();
      return result;
    });
    await app.exited;
    const exitAt = Number(/EXIT_AT ([\d.]+)/.exec(app.output())?.[1]);
    if (check.verdict.outcome !== 'exited' || !exitAt) throw new Error(`exit-after.cjs did not exit in time (${check.verdict.outcome})`);
    latencies.push(verdictAt - exitAt);
  }
  return { attach: attachTimes, latency: latencies };
}

/** many-handles.cjs closes its server on SIGTERM and keeps ~200 handles: a snapshot at the deadline. */
async function reportTime(handles, mercyMs, runs) {
  const times = [];
  const openMs = [];
  let count = 0;
  for (let i = 0; i < runs; i++) {
    const app = start('many-handles.cjs', [String(handles)]);
    await app.ready;
    const reached = await reachPid(app.child.pid, { useInspector: true, idleMs: mercyMs + 5000 });
    await withSession(reached, async () => {
      const check = await runShutdownCheck(reached, { signal: SIGTERM, mercyMs, followWorkers: false });
      const verdict = { ...check.verdict };
      renderText(makeDiagnosis({ mode: 'probe', target: reached.target, verdict, snapshot: check.snapshot, findings: check.findings, warnings: check.warnings, exitCode: 1 }), false);
      times.push(performance.now() - (check.signalledAt + mercyMs));
      count = check.snapshot.handles.filter((h) => h.blocking).length;
    });
    openMs.push(reached.inspector.openMs);
    app.child.kill('SIGKILL');
    await app.exited;
  }
  return { times, openMs, count };
}

const polled = await exitLatency(false);
const childExit = await exitLatency(true);
const report = await reportTime(200, 1000, Math.max(5, Math.ceil(RUNS / 2)));
const window10s = await reportTime(200, 10_000, Number(process.env.BENCH_LONG_RUNS ?? 3));
console.log(`runs: ${RUNS} (medians)`);
console.log(`attach (SIGUSR1 → first window open):      ${fmt(median(polled.attach))}   goal ≤ 250 ms`);
console.log(`exit → verdict, /proc poll (any process):  ${fmt(median(polled.latency))}   goal ≤ 10 ms`);
console.log(`exit → verdict, our child's exit event:    ${fmt(median(childExit.latency))}   (baseline)`);
console.log(`mercy → report, ${report.count} blocking handles:   ${fmt(median(report.times))}   goal ≤ 300 ms (the deadline's window included)`);
console.log(`inspector open in all, 10 s mercy:         ${fmt(median(window10s.openMs))}   goal ≤ 1 s (was the whole mercy: ~10.3 s)`);
