// The owner inference (npm run bench:inference): `reload-doctor handles <pid>` on a service that
// loads 40+ packages and holds open clients of ten of them (bench/many-packages.cjs); the
// command's time with the inference and without it (the baseline, same process, same target:
// RELOAD_DOCTOR_NO_INFERENCE=1 keeps the holder walk and drops the #private reading, the open
// objects and the owners' description), and the target's own longest event-loop stall during
// each (its 2 ms heartbeat). Goals (issue 22): ≤ 100 ms added, ≤ 50 ms more stall. For scale, the
// same without any holder walk: attach's own longest stall on such a service (Debugger.enable's
// replay of ~3,500 scripts alone is ~180 ms of it).
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { median, root, startStallTarget } from './common.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);

const { child, ready, gap } = await startStallTarget(['bench/many-packages.cjs']);
function handles(env = {}) {
  const started = performance.now();
  const doc = JSON.parse(execFileSync(process.execPath, ['dist/cli.js', 'handles', String(child.pid), '--json'], { cwd: root, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }).toString());
  return { ms: performance.now() - started, owners: doc.findings.filter((f) => f.id === 'inferred-owner' || f.handles.some((h) => h.inferredOwner)).length };
}

const rows = { with: [], without: [], stall: [], baseStall: [], bare: [], bareStall: [] };
let owners = 0;
for (let i = 0; i < RUNS; i++) {
  await gap();
  const inferred = handles();
  rows.with.push(inferred.ms);
  rows.stall.push(await gap());
  owners = inferred.owners;
  rows.without.push(handles({ RELOAD_DOCTOR_NO_INFERENCE: '1' }).ms);
  rows.baseStall.push(await gap());
  // For scale: no holder walk at all (what attach costs the target before any of it).
  rows.bare.push(handles({ RELOAD_DOCTOR_NO_HOLDERS: '1' }).ms);
  rows.bareStall.push(await gap());
}
child.kill('SIGKILL');
const added = median(rows.with) - median(rows.without);
console.log(`${ready.packages} packages loaded, ${owners} findings with an inferred owner: handles ${median(rows.with).toFixed(0)} ms with the inference vs ${median(rows.without).toFixed(0)} ms without (+${added.toFixed(0)} ms, ratio ${(median(rows.with) / median(rows.without)).toFixed(2)}); target's longest stall ${median(rows.stall).toFixed(0)} ms (max ${Math.max(...rows.stall).toFixed(0)}) vs ${median(rows.baseStall).toFixed(0)} ms without (+${(median(rows.stall) - median(rows.baseStall)).toFixed(0)} ms); with no holder walk at all: ${median(rows.bare).toFixed(0)} ms, stall ${median(rows.bareStall).toFixed(0)} ms; ${RUNS} runs`);
