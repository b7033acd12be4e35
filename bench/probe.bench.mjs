// Benchmarks of the shutdown check, through the same functions the CLI uses (run: npm run
// bench). Prints medians; the machine is shared and noisy, so each figure is a median of
// repeated runs, with a baseline from the same run.
//  1. attach: SIGUSR1 → CDP connected (goal ≤ 250 ms)
//  2. exit → verdict: the target's own exit time to the moment checkShutdown returns its
//     verdict (goal ≤ 10 ms), with the inspector's "waiting for disconnect" event vs the
//     /proc poll alone (baseline)
//  3. past the mercy → report printed, for a target holding ~200 handles (goal ≤ 300 ms)
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { lookAt } from '../dist/check/look.js';
import { checkShutdown } from '../dist/check/shutdown.js';
import { makeDiagnosis } from '../dist/core/diagnosis.js';
import { startScriptCatalog } from '../dist/inspect/script-catalog.js';
import { parseSignal } from '../dist/probe/signals.js';
import { reachPid, withSession } from '../dist/reach/reached.js';
import { renderText } from '../dist/report/text.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (ms) => `${ms.toFixed(1)} ms`;

function start(file, args = []) {
  const child = spawn(process.execPath, [`fixtures/${file}`, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', () => { const m = /READY (.*)/.exec(out); if (m) resolve(JSON.parse(m[1])); });
    child.once('exit', () => reject(new Error(`${file} exited early`)));
  });
  return { child, ready, output: () => out };
}

async function exitLatency(withInspector) {
  const attachTimes = [];
  const latencies = [];
  for (let i = 0; i < RUNS; i++) {
    const app = start('exit-after.cjs');
    await app.ready;
    const t0 = performance.now();
    const reached = await reachPid(app.child.pid, withInspector);
    if (withInspector) attachTimes.push(performance.now() - t0);
    let verdictAt;
    const { value: check } = await withSession(reached, async () => {
      const result = await checkShutdown(reached, { signal: parseSignal('SIGTERM'), mercyMs: 5000, followWorkers: true });
      verdictAt = performance.timeOrigin + performance.now();
      return result;
    });
    await new Promise((resolve) => (app.child.exitCode !== null ? resolve() : app.child.once('exit', resolve)));
    const exitAt = Number(/EXIT_AT ([\d.]+)/.exec(app.output())?.[1]);
    if (check.verdict.outcome !== 'exited' || !exitAt) throw new Error(`exit-after.cjs did not exit in time (${check.verdict.outcome})`);
    latencies.push(verdictAt - exitAt);
  }
  return { attach: attachTimes, latency: latencies };
}

async function reportTime(handles) {
  const app = start('many-handles.cjs', [String(handles)]);
  const ready = await app.ready;
  const reached = await reachPid(app.child.pid, true);
  const times = [];
  let count = 0;
  await withSession(reached, async () => {
    // As the check does: the script catalog starts before the deadline.
    const catalog = await startScriptCatalog(reached.client);
    try {
      for (let i = 0; i < Math.max(5, Math.ceil(RUNS / 2)); i++) {
        const t0 = performance.now();
        const { snapshot, findings } = await lookAt(reached, { since: t0, catalog });
        const verdict = { outcome: 'still-alive', signal: 'SIGTERM', mercyMs: 1000, deadlineMs: 1000, busy: false, samples: [], killed: false };
        renderText(makeDiagnosis({ mode: 'probe', target: reached.target, verdict, snapshot, findings, warnings: [], exitCode: 1 }), false);
        times.push(performance.now() - t0);
        count = snapshot.handles.filter((h) => h.blocking).length;
      }
    } finally {
      await catalog.stop();
    }
  });
  app.child.kill('SIGKILL');
  return { times, count, expected: ready.handles };
}

const inspected = await exitLatency(true);
const polled = await exitLatency(false);
const report = await reportTime(200);
console.log(`runs: ${RUNS} (medians)`);
console.log(`attach (SIGUSR1 → connected):             ${fmt(median(inspected.attach))}   goal ≤ 250 ms`);
console.log(`exit → verdict, inspector attached:       ${fmt(median(inspected.latency))}   goal ≤ 10 ms`);
console.log(`exit → verdict, /proc poll only (baseline): ${fmt(median(polled.latency))}`);
console.log(`mercy → report, ${report.count} blocking handles:       ${fmt(median(report.times))}   goal ≤ 300 ms`);
