// Bad input and hostile situations: each gives one clear line and a documented exit code,
// never a stack trace, and never harms the target.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isAlive, readStat } from '../../src/reach/proc.js';
import { CLI, listeningPorts, portIsFree, runCli, startFixture, stop, waitUntilGone } from './helpers.js';
import { needs } from './needs.js';

function expectOneLineError(result: { stderr: string; stdout: string }, pattern: RegExp): void {
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^reload-doctor: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('bad input', () => {
  it.each([
    [['abc'], /"abc" is not a process id/],
    [['0'], /"0" is not a process id/],
    [['99999999'], /no process with pid 99999999/],
    [['1'], /refusing pid 1/],
  ])('%j → exit 2', async (args, pattern) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expectOneLineError(result, pattern);
  });

  it('refuses its own pid', async () => {
    const child = spawn('sh', ['-c', `exec "${process.execPath}" "${CLI}" $$`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expectOneLineError({ stderr, stdout: '' }, /is reload-doctor itself/);
  });

  it('refuses a zombie', async (ctx) => {
    needs(ctx, 'python');
    // The forked child exits at once; its parent never waits for it (a shell might reap it
    // between two commands: that raced under load), so it stays a zombie.
    const script = 'import os, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)';
    const parent = spawn('/usr/bin/python3', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d) => resolve(String(d)))));
      for (let i = 0; i < 100 && readStat(zombie)?.state !== 'Z'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(readStat(zombie)?.state).toBe('Z');
      const result = await runCli([String(zombie)]);
      expect(result.code).toBe(2);
      expectOneLineError(result, /is a zombie/);
    } finally {
      await stop(parent);
    }
  });

  it('cannot signal a process of another user → exit 3', async (ctx) => {
    needs(ctx, 'root');
    const app = await startFixture('forgotten-interval.mjs');
    const result = await runCli([String(app.pid)], { wrap: ['/usr/sbin/runuser', '-u', 'nobody', '--', process.execPath] });
    expect(result.code).toBe(3);
    expectOneLineError(result, /not permitted to signal pid \d+/);
    expect(isAlive(app.pid)).toBe(true);
  });

  it.each([
    [['--signal', 'SIGNOPE'], /unknown signal "SIGNOPE"/],
    [['--mercy', '0'], /invalid mercy "0"/],
    [['--mercy', 'soon'], /invalid mercy "soon"/],
    [['--mercy', '-1s'], /.+/],
  ])('%j → exit 2', async (options, pattern) => {
    const app = await startFixture('forgotten-interval.mjs');
    const result = await runCli([String(app.pid), ...options]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(isAlive(app.pid)).toBe(true);
    expect(listeningPorts(app.pid)).not.toContain(9229);
  });

  it('--help exits 0 and documents the exit codes', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--mercy/);
    expect(result.stdout).toMatch(/Exit codes:[\s\S]*3 +could not reach/);
  });
});

describe('hard targets', () => {
  it('a non-Node process: says so, probes it, shows threads and sockets from /proc', async (ctx) => {
    needs(ctx, 'python');
    const app = await startFixture('python-term-ignorer.py');
    const result = await runCli([String(app.pid), '--mercy', '2s', '--json']);
    expect(result.code).toBe(1);
    expect(result.json.warnings[0]).toMatch(/is not a Node.js process/);
    expect(result.json.verdict.outcome).toBe('still-alive');
    expect(result.json.snapshot.source).toBe('proc');
    // Python names no OS threads; the never-ending non-daemon thread shows as a second thread.
    expect(result.json.snapshot.threads.length).toBeGreaterThanOrEqual(2);
    expect(result.json.findings.flatMap((f: any) => f.handles).some((h: any) => h.kind === 'tcp-server')).toBe(true);
    expect(app.output()).toMatch(/SIGTERM: ignoring it/);
  });

  it('a target that exits while we attach: one line, exit 3', async () => {
    const app = await startFixture('exits-on-sigusr1.cjs');
    const result = await runCli([String(app.pid)]);
    expect(result.code).toBe(3);
    expectOneLineError(result, /exited on its own while reload-doctor attached/);
  });

  it('port 9229 held by another process: names the holder, falls back to /proc, still gives a verdict', async (ctx) => {
    ctx.skip(!(await portIsFree(9229)), 'port 9229 is already taken on this machine: the test holds it itself');
    const holder = await startFixture('port-holder.cjs', {}, ['9229']);
    const app = await startFixture('forgotten-interval.mjs');
    const result = await runCli([String(app.pid), '--mercy', '2s', '--json']);
    expect(result.code).toBe(1);
    expect(result.json.warnings.join('\n')).toContain(`port 9229 is held by pid ${holder.pid}`);
    expect(result.json.snapshot.source).toBe('proc');
    expect(isAlive(app.pid)).toBe(true);
  });

  it("a target with its own SIGUSR1 listener: explains, falls back to /proc, target unharmed", async () => {
    const app = await startFixture('sigusr1-listener.cjs');
    const result = await runCli([String(app.pid), '--mercy', '2s']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/did not open its inspector on SIGUSR1.*process\.on\('SIGUSR1'\)/);
    expect(result.stdout).toMatch(/still alive 2 s after SIGTERM/);
    expect(isAlive(app.pid)).toBe(true);
    expect(listeningPorts(app.pid)).toEqual([]);
  });

  it('a handler blocked in execSync: CDP calls time out, /proc shows the blocked main thread', async () => {
    const app = await startFixture('blocked-handler.cjs');
    const result = await runCli([String(app.pid), '--mercy', '2s', '--json', '--kill']);
    expect(result.code).toBe(1);
    expect(result.json.snapshot.source).toBe('proc');
    expect(result.json.snapshot.notes.join('\n')).toMatch(/inspector did not answer/);
    const main = result.json.snapshot.threads.find((t: any) => t.tid === app.pid);
    expect(main.state).toBe('S');
    // execSync waits for its `sleep 30` child: /proc shows the child too.
    expect(result.json.findings.flatMap((f: any) => f.handles).some((h: any) => h.kind === 'child-process' && /sleep 30/.test(h.details.command))).toBe(true);
    expect(await waitUntilGone(app.pid)).toBe(true);
  });

  it('--no-inspector never sends SIGUSR1 and still probes', async () => {
    const app = await startFixture('sigusr1-listener.cjs');
    const result = await runCli([String(app.pid), '--mercy', '1s', '--no-inspector']);
    expect(result.code).toBe(1);
    expect(app.output()).not.toMatch(/SIGUSR1: reopening logs/);
  });
});

describe('leaving the target as we found it', () => {
  it('Ctrl-C during the mercy window closes the inspector we opened (exit 130)', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    const cli = spawn(process.execPath, [CLI, String(app.pid), '--mercy', '30s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      for (let i = 0; i < 250 && !listeningPorts(app.pid).includes(9229); i++) await new Promise((r) => setTimeout(r, 20));
      expect(listeningPorts(app.pid)).toContain(9229);
      await new Promise((r) => setTimeout(r, 300)); // let it reach the waiting phase
      cli.kill('SIGINT');
      const code = await new Promise((resolve) => cli.once('exit', resolve));
      expect(code).toBe(130);
      expect(listeningPorts(app.pid)).not.toContain(9229);
      expect(isAlive(app.pid)).toBe(true);
    } finally {
      await stop(cli);
    }
  });

  it('reuses an inspector that was already open, and leaves it open', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    process.kill(app.pid, 'SIGUSR1'); // someone else opened it earlier
    for (let i = 0; i < 250 && !listeningPorts(app.pid).includes(9229); i++) await new Promise((r) => setTimeout(r, 20));
    const result = await runCli(['handles', String(app.pid), '--json']);
    expect(result.code).toBe(0);
    expect(result.json.snapshot.source).toBe('inspector');
    expect(listeningPorts(app.pid)).toContain(9229);
  });
});
