// The attach-mode holder walk (npm run bench:holders): `reload-doctor handles <pid>` on a target
// whose Redis client a module variable holds, beside ~50 MB and ~500 MB of app data; the whole
// command's time with the walk and without it (the baseline: --no-holders is not a flag, so the
// baseline is the same target through `handles --json` with RELOAD_DOCTOR_NO_HOLDERS=1), and the
// target's own longest event-loop stall during the command (its 2 ms heartbeat). Goals: walk
// ≤ 1 s in all, stall ≤ 200 ms.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { median, root, startStallTarget } from './common.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const startTarget = (heapMb) => startStallTarget(['--max-old-space-size=4096', 'bench/holder-heap.cjs'], { HEAP_MB: String(heapMb) });

function handles(pid, env = {}) {
  const started = performance.now();
  const text = execFileSync(process.execPath, ['dist/cli.js', 'handles', String(pid), '--json'], { cwd: root, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }).toString();
  const ms = performance.now() - started;
  const doc = JSON.parse(text);
  return { ms, held: doc.findings.find((f) => f.id.startsWith('ioredis'))?.heldBy?.variable };
}

for (const heapMb of [50, 500]) {
  const target = await startTarget(heapMb);
  const rows = { walk: [], base: [], stall: [], baseStall: [] };
  let held;
  for (let i = 0; i < RUNS; i++) {
    await target.gap();
    const withWalk = handles(target.child.pid);
    rows.walk.push(withWalk.ms);
    rows.stall.push(await target.gap());
    held = withWalk.held;
    const without = handles(target.child.pid, { RELOAD_DOCTOR_NO_HOLDERS: '1' });
    rows.base.push(without.ms);
    rows.baseStall.push(await target.gap());
  }
  console.log(`heap ${target.ready.heapMb} MB (${target.ready.records.toLocaleString('en-US')} records): handles with the walk ${median(rows.walk).toFixed(0)} ms vs ${median(rows.base).toFixed(0)} ms without (+${(median(rows.walk) - median(rows.base)).toFixed(0)} ms); target's longest stall ${median(rows.stall).toFixed(0)} ms vs ${median(rows.baseStall).toFixed(0)} ms without; held by \`${held}\``);
  target.child.kill('SIGKILL');
}
