// Big targets: a process holding 1,000 / 10,000 / 100,000 live handles (half timers, half
// sockets: both ends of connections to its own server) that ignores SIGTERM's intent (it only
// closes its server). Like the CLI, each measuring process attaches, runs the shutdown check
// with a 1 s mercy (timeline on), and prints the text report, then the JSON document:
//   - mercy → printed report: from the deadline to the text report's last byte (goal ≤ 0.5 s at
//     10k, ≤ 3 s at 100k); then how much longer the JSON document takes (--json prints it instead)
//   - reload-doctor's peak RSS (goal ≤ 300 MB at 100k)
//   - the target's RSS growth during the check: its high-water mark after, minus its RSS before
//     the signal (goal ≤ 50 MB)
// Three measuring processes per size: the median time, the highest peaks. The growth exponent
// between 10k and 100k is log(t100k / t10k) / log(10): 1 is linear.
// Run: npm run bench:scale        (BENCH_SIZES=1000,10000 to choose sizes)
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { median, root } from './common.mjs';

const MERCY_MS = 1000;

function statusKb(pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? NaN);
}

/**
 * The connections of the previous run linger in TIME_WAIT for a minute, and every read of the
 * socket table (the inspector's port, its sessions) walks them too: wait until they are gone,
 * so that each run starts from the same table.
 */
async function settledSocketTable() {
  const rows = () => readFileSync('/proc/net/tcp', 'latin1').split('\n').length + readFileSync('/proc/net/tcp6', 'latin1').split('\n').length;
  const quiet = 2000;
  for (let waited = 0; rows() > quiet && waited < 70_000; waited += 1000) await new Promise((resolve) => setTimeout(resolve, 1000));
}

async function measure(size) {
  await settledSocketTable();
  const { runShutdownCheck } = await import('../dist/check/shutdown.js');
  const { makeDiagnosis } = await import('../dist/core/diagnosis.js');
  const { parseSignal } = await import('../dist/probe/signals.js');
  const { reachPid, withSession } = await import('../dist/reach/reached.js');
  const { render, renderPieces } = await import('../dist/report/formats.js');
  // `size` resources in all: the fixture's handles and its listening server (past 100,000 the
  // collector would describe a sample).
  const app = spawn(process.execPath, ['fixtures/many-handles.cjs', String(size - 1)], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve, reject) => {
    app.stdout.on('data', (chunk) => { if (String(chunk).includes('READY')) resolve(); });
    app.once('exit', (code) => reject(new Error(`many-handles.cjs ${size} exited (${code})`)));
  });
  const targetBeforeMb = statusKb(app.pid, 'VmRSS') / 1024;
  const reached = await reachPid(app.pid, { useInspector: true, idleMs: MERCY_MS + 60_000 });
  let result;
  try {
    await withSession(reached, async () => {
      const check = await runShutdownCheck(reached, { signal: parseSignal('SIGTERM'), mercyMs: MERCY_MS, followWorkers: false, timeline: true });
      const diagnosis = makeDiagnosis({ mode: 'probe', target: reached.target, verdict: check.verdict, snapshot: check.snapshot, timeline: check.timeline, findings: check.findings, warnings: check.warnings, exitCode: 1 });
      // Printed as the CLI prints: the text report, and the JSON document piece by piece (to /dev/null).
      const deadline = check.signalledAt + MERCY_MS;
      const sink = openSync('/dev/null', 'w');
      const text = render('text', diagnosis, { color: false, toolVersion: 'bench' });
      writeSync(sink, text);
      const textAt = performance.now();
      let jsonBytes = 0;
      for (const piece of renderPieces('json', diagnosis, { color: false, toolVersion: 'bench' })) jsonBytes += writeSync(sink, piece);
      closeSync(sink);
      result = {
        size,
        handles: check.snapshot.handles.length,
        ms: textAt - deadline,
        jsonMs: performance.now() - textAt,
        textLines: text.split('\n').length,
        jsonMb: jsonBytes / 1048576,
      };
    });
    result.targetGrowthMb = statusKb(app.pid, 'VmHWM') / 1024 - targetBeforeMb;
  } finally {
    app.kill('SIGKILL');
  }
  return { ...result, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await measure(Number(process.argv[3]))));
} else {
  const sizes = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
  const medians = new Map();
  for (const size of sizes) {
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk) => { out += chunk; });
      const code = await new Promise((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`the measuring process for ${size} failed (${code})`);
      runs.push(JSON.parse(out));
    }
    const ms = median(runs.map((r) => r.ms));
    medians.set(size, ms);
    const peak = Math.max(...runs.map((r) => r.peakRssMb));
    const growth = Math.max(...runs.map((r) => r.targetGrowthMb));
    const jsonMs = median(runs.map((r) => r.jsonMs));
    console.log(`${String(size).padStart(7)} handles (${runs[0].handles} seen): mercy → text report ${ms.toFixed(0)} ms (median of 3: ${runs.map((r) => r.ms.toFixed(0)).join(', ')}), `
      + `the JSON document ${jsonMs.toFixed(0)} ms more, `
      + `tool peak RSS ${peak.toFixed(0)} MB, target RSS +${growth.toFixed(0)} MB (highest of 3), text ${runs[0].textLines} lines, JSON ${runs[0].jsonMb.toFixed(1)} MB`);
  }
  if (medians.has(10000) && medians.has(100000)) {
    console.log(`growth exponent 10k → 100k: ${(Math.log(medians.get(100000) / medians.get(10000)) / Math.log(10)).toFixed(2)} (1 = linear)`);
  }
}
