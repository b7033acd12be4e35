// What `reload-doctor run` costs the service it watches (run: npm run bench:run).
// One fixture HTTP server (its handler awaits promises, the costly case for async_hooks) under
// autocannon, in three set-ups, interleaved round by round in this one process:
//   plain      node fixtures/bench-server.cjs
//   run        the same server started by `reload-doctor run` (creation-stack hook installed,
//              inspector session connected), loaded while run holds it (--hold) after ready
//   bare       the same under `reload-doctor run --no-creation-stacks` (inspector session only)
//   why        node --import why-is-node-running/include (a plain async_hooks init hook
//              capturing every resource), for comparison
// Prints the median requests/s of each and the ratios against plain (goal: run ≥ 0.95).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { ROUNDS, SECONDS, freePort, median, root } from './common.mjs';

async function until(port) {
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(20);
  }
}

const SETUPS = {
  plain: () => [process.execPath, ['fixtures/bench-server.cjs']],
  run: (port) => [process.execPath, ['dist/cli.js', 'run', '--ready', `port:${port}`, '--hold', `${SECONDS + 10}s`, '--mercy', '5s', '--', process.execPath, 'fixtures/bench-server.cjs']],
  bare: (port) => [process.execPath, ['dist/cli.js', 'run', '--no-creation-stacks', '--ready', `port:${port}`, '--hold', `${SECONDS + 10}s`, '--mercy', '5s', '--', process.execPath, 'fixtures/bench-server.cjs']],
  why: () => [process.execPath, ['--import', 'why-is-node-running/include', 'fixtures/bench-server.cjs']],
};

async function measure(name) {
  const port = await freePort();
  const [command, args] = SETUPS[name](port);
  const child = spawn(command, args, { cwd: root, env: { ...process.env, PORT: String(port) }, stdio: 'ignore', detached: true });
  try {
    await until(port);
    await sleep(300); // let run finish attaching and releasing
    // A short warm-up so the JIT is settled in each set-up alike.
    await autocannon({ url: `http://127.0.0.1:${port}/users/1`, connections: 20, duration: 1 });
    const result = await autocannon({ url: `http://127.0.0.1:${port}/users/1`, connections: 20, duration: SECONDS });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result.requests.average;
  } finally {
    // SIGTERM, not SIGKILL: reload-doctor then kills the service tree it started (its own group).
    const gone = new Promise((resolve) => child.once('exit', resolve));
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    await Promise.race([gone, sleep(5000)]);
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

const samples = { plain: [], run: [], bare: [], why: [] };
for (let round = 1; round <= ROUNDS; round++) {
  for (const name of Object.keys(samples)) samples[name].push(await measure(name));
  console.log(`round ${round}: ${Object.entries(samples).map(([n, xs]) => `${n} ${Math.round(xs.at(-1))}`).join(' · ')} req/s`);
}
const plain = median(samples.plain);
console.log(`\nmedian of ${ROUNDS} rounds × ${SECONDS} s, 20 connections:`);
for (const name of Object.keys(samples)) {
  const m = median(samples[name]);
  console.log(`  ${name.padEnd(6)} ${String(Math.round(m)).padStart(7)} req/s   ratio ${(m / plain).toFixed(3)}`);
}
