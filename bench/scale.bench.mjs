// Snapshot + explain time and reload-doctor's peak RSS against a target holding 100, 1,000
// and 10,000 live handles (half timers, half sockets). Like the CLI, each measuring process
// attaches, takes ONE snapshot and explains it, so its peak RSS is what a user would see;
// three such processes per size give the median time and the highest peak.
// Goal at 10,000: ≤ 1.5 s and ≤ 200 MB.
// Run: npm run build && node bench/scale.bench.mjs
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(size) {
  const { explain } = await import('../dist/explain/engine.js');
  const { takeNodeSnapshot } = await import('../dist/inspect/node-snapshot.js');
  const { startScriptCatalog } = await import('../dist/inspect/script-catalog.js');
  const { attachInspector } = await import('../dist/reach/attach.js');
  const app = spawn(process.execPath, ['fixtures/many-handles.cjs', String(size)], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve) => app.stdout.on('data', (chunk) => { if (String(chunk).includes('READY')) resolve(); }));
  const session = await attachInspector(app.pid);
  const catalog = await startScriptCatalog(session.client);
  let ms;
  let blocking = 0;
  try {
    const t0 = performance.now();
    const snapshot = await takeNodeSnapshot(session.client, { pid: app.pid, busy: false, startedAt: t0, catalog });
    explain(snapshot);
    ms = performance.now() - t0;
    blocking = snapshot.handles.filter((h) => h.blocking).length;
  } finally {
    await catalog.stop();
    await session.release();
    app.kill('SIGKILL');
  }
  return { size, blocking, ms, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await measure(Number(process.argv[3]))));
} else {
  for (const size of [100, 1000, 10000]) {
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk) => { out += chunk; });
      await new Promise((resolve) => child.once('exit', resolve));
      runs.push(JSON.parse(out));
    }
    const ms = median(runs.map((r) => r.ms));
    const peak = Math.max(...runs.map((r) => r.peakRssMb));
    console.log(`${String(size).padStart(6)} handles (${runs[0].blocking} blocking): snapshot + explain ${ms.toFixed(0)} ms (median of 3), tool peak RSS ${peak.toFixed(0)} MB (highest of 3)`);
  }
}
