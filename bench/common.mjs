// What the benchmarks share: where the repository is, how many rounds, the median, a free port.
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

export async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts a benchmark target (bench/*.cjs, with bench/heartbeat.cjs in it) and waits for its
 * READY line; `gap()` asks it for its longest event-loop stall since the last ask (SIGUSR2).
 */
export async function startStallTarget(args, env = {}) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  const ready = await new Promise((resolve, reject) => {
    const timer = setInterval(() => { const m = /READY (.*)/.exec(out); if (m) { clearInterval(timer); resolve(JSON.parse(m[1])); } }, 20);
    child.once('exit', (code) => { clearInterval(timer); reject(new Error(`the target exited (${code}): ${out}`)); });
  });
  const gap = async () => {
    const before = out.length;
    child.kill('SIGUSR2');
    for (let i = 0; i < 100; i++) {
      const m = /GAP ([\d.]+)/.exec(out.slice(before));
      if (m) return Number(m[1]);
      await new Promise((r) => setTimeout(r, 10));
    }
    return NaN;
  };
  return { child, ready, gap };
}
