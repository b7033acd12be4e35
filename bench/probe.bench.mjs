// Benchmarks of the reload probe (run: npm run bench). Prints medians; the machine is shared
// and noisy, so each figure is a median of repeated runs, with a baseline from the same run.
//  1. attach: SIGUSR1 → CDP connected (goal ≤ 250 ms)
//  2. exit → verdict: the target's own exit time to the moment the probe returns (goal ≤ 10 ms),
//     with the inspector's "waiting for disconnect" event vs the /proc poll alone (baseline)
//  3. past the mercy → report ready, for a target holding ~200 handles (goal ≤ 300 ms)
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { explain } from '../dist/explain/engine.js';
import { takeNodeSnapshot } from '../dist/inspect/node-snapshot.js';
import { startScriptCatalog } from '../dist/inspect/script-catalog.js';
import { runProbe } from '../dist/probe/probe.js';
import { parseSignal } from '../dist/probe/signals.js';
import { attachInspector } from '../dist/reach/attach.js';
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
    let client;
    if (withInspector) {
      const t0 = performance.now();
      const session = await attachInspector(app.child.pid);
      attachTimes.push(performance.now() - t0);
      client = session.client;
      await client.send('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true });
    }
    const result = await runProbe({ pid: app.child.pid, signal: parseSignal('SIGTERM'), mercyMs: 5000, client });
    const verdictAt = performance.timeOrigin + performance.now();
    result.stopWatching();
    await new Promise((resolve) => (app.child.exitCode !== null ? resolve() : app.child.once('exit', resolve)));
    const exitAt = Number(/EXIT_AT ([\d.]+)/.exec(app.output())?.[1]);
    if (!result.exited || !exitAt) throw new Error('exit-after.cjs did not exit in time');
    latencies.push(verdictAt - exitAt);
  }
  return { attach: attachTimes, latency: latencies };
}

async function reportTime(handles) {
  const app = start('many-handles.cjs', [String(handles)]);
  const ready = await app.ready;
  const session = await attachInspector(app.child.pid);
  // As the CLI does: the script catalog starts before the deadline.
  const catalog = await startScriptCatalog(session.client);
  const times = [];
  let count = 0;
  try {
    for (let i = 0; i < Math.max(5, Math.ceil(RUNS / 2)); i++) {
      const t0 = performance.now();
      const snapshot = await takeNodeSnapshot(session.client, { pid: app.child.pid, busy: false, startedAt: t0, catalog });
      const findings = explain(snapshot);
      renderText({ mode: 'probe', target: { pid: app.child.pid, runtime: { kind: 'node' }, command: 'bench', reachedBy: 'attach' }, snapshot, findings, warnings: [], exitCode: 1 }, false);
      times.push(performance.now() - t0);
      count = snapshot.handles.filter((h) => h.blocking).length;
    }
  } finally {
    await catalog.stop();
    await session.release();
    app.child.kill('SIGKILL');
  }
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
