// What the shutdown timeline costs (run: npm run bench:timeline).
// 1. Throughput: the recorder is armed only in the last window before the signal, so before
//    the signal it costs nothing by construction; this measures what it costs while armed, on
//    a busy HTTP server (fixtures/bench-server.cjs, its handler awaits promises), interleaved
//    round by round against the same server without it:
//      plain   node fixtures/bench-server.cjs
//      armed   the same, with the recorder armed from the first line (bench/timeline-armed.cjs)
// 2. Time to the signal: `reload-doctor <pid>` with and without --no-timeline on a server
//    that exits at once (the timeline's pre-signal snapshot is the difference).
import { spawn, execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { ROUNDS, SECONDS, freePort, median, root } from './common.mjs';

async function started(child) {
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; if (out.includes('READY')) resolve(); });
    child.once('exit', () => reject(new Error(out)));
  });
}

const SETUPS = {
  plain: [],
  armed: ['--require', './bench/timeline-armed.cjs'],
};

async function throughput(name) {
  const port = await freePort();
  const child = spawn(process.execPath, [...SETUPS[name], 'fixtures/bench-server.cjs'], { cwd: root, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await started(child);
    await autocannon({ url: `http://127.0.0.1:${port}/users/1`, connections: 20, duration: 1 });
    const result = await autocannon({ url: `http://127.0.0.1:${port}/users/1`, connections: 20, duration: SECONDS });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result.requests.average;
  } finally {
    child.kill('SIGKILL');
  }
}

async function timeToVerdict(withTimeline) {
  const child = spawn(process.execPath, ['fixtures/graceful-server.cjs'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  await started(child);
  const start = performance.now();
  execFileSync(process.execPath, ['dist/cli.js', String(child.pid), '--mercy', '5s', '--json', ...(withTimeline ? [] : ['--no-timeline'])], { cwd: root });
  return performance.now() - start;
}

const samples = { plain: [], armed: [] };
for (let round = 1; round <= ROUNDS; round++) {
  for (const name of Object.keys(samples)) samples[name].push(await throughput(name));
  console.log(`round ${round}: ${Object.entries(samples).map(([n, xs]) => `${n} ${Math.round(xs.at(-1))}`).join(' · ')} req/s`);
}
const plain = median(samples.plain);
console.log(`\nthroughput, median of ${ROUNDS} rounds × ${SECONDS} s, 20 connections:`);
for (const name of Object.keys(samples)) {
  const m = median(samples[name]);
  console.log(`  ${name.padEnd(6)} ${String(Math.round(m)).padStart(7)} req/s   ratio ${(m / plain).toFixed(3)}`);
}
const times = { with: [], without: [] };
for (let round = 1; round <= ROUNDS; round++) {
  times.with.push(await timeToVerdict(true));
  times.without.push(await timeToVerdict(false));
}
console.log(`\nreload-doctor <pid> on a server that exits at once, median of ${ROUNDS}:`);
console.log(`  with the timeline     ${Math.round(median(times.with))} ms`);
console.log(`  with --no-timeline    ${Math.round(median(times.without))} ms`);
