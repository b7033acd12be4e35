// Attaching to a process someone points us at, as a new user would and as an attacker would:
// containers (network and pid namespaces built with unshare), an impostor inspector, another
// local user racing for the inspector window, reload-doctor killed at any moment, processes
// that SIGUSR1 would harm, stopped and blocked targets, other runtimes, many probes at once.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isAlive, readChildren, voluntarySwitches } from '../../src/reach/proc.js';
import { CLI, ROOT, blamedLine, listeningPorts, portIsFree, runCli, startFixture, startProcess, stop } from './helpers.js';
import { RUNTIME_PATHS, needs } from './needs.js';

const node = process.execPath;
const RUNUSER = ['/usr/sbin/runuser', '-u', 'nobody', '--'];

/** A "container": the fixture in its own network namespace, with its loopback up. */
function inNetworkNamespace(fixture: string, extra = ''): string[] {
  return ['unshare', '-n', 'sh', '-c', `ip link set lo up && exec ${extra}"${node}" fixtures/${fixture}`];
}

/** Ports the process listens on besides `except` (an inspector left open shows here). */
const otherPorts = (pid: number, except: number[] = []) => listeningPorts(pid).filter((port) => !except.includes(port));

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await sleep(25);
  return condition();
}

describe('containers: network and pid namespaces', () => {
  it('a Node process in its own network namespace is reached inside it: right finding, inspector closed there', async (ctx) => {
    needs(ctx, 'namespaces');
    const app = await startProcess(inNetworkNamespace('forgotten-interval.mjs'));
    const result = await runCli([String(app.pid), '--mercy', '1500ms', '--json'], { env: { RELOAD_DOCTOR_DEBUG: '1' } });
    expect(result.code).toBe(1);
    expect(result.json.snapshot.source, result.stderr).toBe('inspector');
    const finding = result.json.findings.find((f: any) => f.id === 'generic/interval');
    expect(finding.location).toMatchObject({ file: 'fixtures/forgotten-interval.mjs', line: blamedLine('forgotten-interval.mjs', 'interval') });
    // Its own tables: the server was closed by its handler, and no inspector is left.
    expect(listeningPorts(app.pid)).toEqual([]);
    expect(isAlive(app.pid)).toBe(true);
  });

  it('attack: an impostor on the host\'s 127.0.0.1:9229, run by another user, gets nothing and changes nothing', async (ctx) => {
    needs(ctx, 'namespaces', 'root');
    ctx.skip(!(await portIsFree(9229)), 'port 9229 is taken on this machine');
    const fake = await startProcess([...RUNUSER, node, 'fixtures/fake-inspector.cjs']);
    const app = await startProcess(inNetworkNamespace('forgotten-interval.mjs'));
    const result = await runCli([String(app.pid), '--mercy', '1500ms'], { env: { RELOAD_DOCTOR_DEBUG: '1' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✖ still alive 1\.5 s after SIGTERM/);
    expect(result.stdout, result.stdout + result.stderr).toMatch(/Timeout every 1000 ms/);
    expect(fake.output()).not.toMatch(/CONNECTED/);
    expect(result.stdout + result.stderr).not.toContain('\u001b');
  });

  it('a container\'s main process (pid 1 of its namespace) is named so; with no SIGTERM listener it ignores SIGTERM', async (ctx) => {
    needs(ctx, 'namespaces');
    const wrapper = await startProcess(['unshare', '-pf', '--mount-proc', node, 'fixtures/no-handler.cjs']);
    const [app] = readChildren(wrapper.pid);
    const result = await runCli([String(app), '--mercy', '1500ms', '--json']);
    expect(result.code).toBe(1);
    expect(result.json.target.nsPid).toBe(1);
    expect(result.json.verdict.outcome).toBe('ignored');
    expect(result.json.warnings.join('\n')).toMatch(/is pid 1 of its namespace .* no SIGTERM listener: the kernel does not apply SIGTERM's default action to it/);
    expect(isAlive(app!)).toBe(true);
    const text = await runCli(['handles', String(app)]);
    expect(text.stdout).toMatch(new RegExp(`^reload-doctor · pid ${app} \\(pid 1 in its namespace\\) · node v`, 'm'));
  });

  it('from a debug container sharing the pid namespace: pid 1 is the app, and it is probed', async (ctx) => {
    needs(ctx, 'namespaces');
    const wrapper = await startProcess(['unshare', '-pf', '--mount-proc', node, 'fixtures/forgotten-interval.mjs']);
    const [app] = readChildren(wrapper.pid);
    const result = await runCli(['1', '--mercy', '1500ms', '--json'], { wrap: ['nsenter', '-t', String(app), '-p', '-m', '--', node] });
    expect(result.code).toBe(1);
    expect(result.json.target.pid).toBe(1);
    expect(result.json.findings.find((f: any) => f.id === 'generic/interval').location.line).toBe(blamedLine('forgotten-interval.mjs', 'interval'));
    expect(listeningPorts(app!)).toEqual([]);
  });

  it('from a debug container, pid 1 that is a shell running the app is refused, and the app named', async (ctx) => {
    needs(ctx, 'namespaces');
    const wrapper = await startProcess(['unshare', '-pf', '--mount-proc', 'sh', '-c', `"${node}" fixtures/forgotten-interval.mjs & wait`]);
    const [shell] = readChildren(wrapper.pid);
    const result = await runCli(['1'], { wrap: ['nsenter', '-t', String(shell), '-p', '-m', '--', node] });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^reload-doctor: refusing pid 1: it is (sh|dash|bash), the init process of this container; .*Probe the app itself: pid \d+ \(.*forgotten-interval\.mjs\)/m);
  });
});

describe('never harm', () => {
  it('a program that calls itself "node" (exec -a node sleep) is not sent SIGUSR1, which would kill it', async () => {
    const fake = await startProcess(['bash', '-c', 'exec -a node sleep 300'], {}, 'ignore', { ready: false });
    const result = await runCli(['handles', String(fake.pid)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/is not a Node\.js process \(\/usr\/bin\/sleep\)/);
    await sleep(300);
    expect(isAlive(fake.pid)).toBe(true);
  });

  it('Node started with --disable-sigusr1: said so, nothing sent, /proc instead', async (ctx) => {
    needs(ctx, 'node22');
    const app = await startProcess([RUNTIME_PATHS.node22, '--disable-sigusr1', 'fixtures/forgotten-interval.mjs']);
    const result = await runCli(['handles', String(app.pid), '--json']);
    expect(result.code).toBe(3);
    expect(result.json.warnings.join('\n')).toMatch(/does not catch SIGUSR1 \(it was started with --disable-sigusr1\)/);
    expect(isAlive(app.pid)).toBe(true);
    expect(otherPorts(app.pid, [app.ready.port])).toEqual([]);
  });

  it('a stopped process is called stopped and sent nothing (no SIGTERM waits for it when it is continued)', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    process.kill(app.pid, 'SIGSTOP');
    try {
      const result = await runCli([String(app.pid), '--mercy', '1s']);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/^reload-doctor: pid \d+ is stopped \(state T/m);
    } finally {
      process.kill(app.pid, 'SIGCONT');
    }
    await sleep(500);
    expect(isAlive(app.pid)).toBe(true);
    expect(app.output()).not.toMatch(/Debugger listening/);
    expect(listeningPorts(app.pid)).toEqual([app.ready.port]);
  });

  it('Deno and Bun are named as such and read through /proc; they get no SIGUSR1', async (ctx) => {
    needs(ctx, 'deno', 'bun');
    for (const [name, argv] of [['Deno', [RUNTIME_PATHS.deno, 'run', '-A', 'fixtures/unref-only.cjs']], ['Bun', [RUNTIME_PATHS.bun, 'fixtures/unref-only.cjs']]] as const) {
      const app = await startProcess([...argv]);
      const result = await runCli(['handles', String(app.pid), '--json']);
      expect(result.code, name).toBe(0);
      expect(result.json.target.runtime).toMatchObject({ kind: 'other', name });
      expect(result.json.snapshot.source).toBe('proc');
      expect(isAlive(app.pid)).toBe(true);
      const text = await runCli(['handles', String(app.pid)]);
      expect(text.stdout).toMatch(new RegExp(`^reload-doctor · pid ${app.pid} · ${name} · `, 'm'));
    }
  });
});

describe('a window no one else can use', () => {
  it('attack: another user who joins the inspector while it is open is reported and cut, and the target is not frozen', async (ctx) => {
    needs(ctx, 'root');
    // Many handles make the deadline's window long enough for the attacker to find it.
    const app = await startFixture('many-handles.cjs', {}, ['6000']);
    const attacker = await startProcess([...RUNUSER, node, 'fixtures/inspector-attacker.cjs'], { TARGET_PID: String(app.pid), KNOWN_PORTS: String(app.ready.port) });
    const result = await runCli([String(app.pid), '--mercy', '2s', '--json'], { timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(attacker.output()).toMatch(/SESSION/);
    const warnings = result.json.warnings.join('\n');
    expect(warnings).toMatch(new RegExp(`another session was connected to the inspector of pid ${app.pid} \\(port \\d+\\): pid ${attackerPid(attacker.pid)} \\(uid 65534`));
    expect(warnings).toMatch(/reload-doctor cut it/);
    expect(await until(() => /CLOSED/.test(attacker.output()), 2000)).toBe(true);
    // Nothing left open, and the target still runs its timers (not frozen in inspector.close()).
    await stop(attacker.child);
    expect(otherPorts(app.pid)).toEqual([]);
    const before = voluntarySwitches(app.pid)!;
    await sleep(1200);
    expect(voluntarySwitches(app.pid)!).toBeGreaterThan(before);
  });

  it('the inspector is open only around the signal and at the deadline, not during the mercy', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    const cli = spawn(node, [CLI, String(app.pid), '--mercy', '3s'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await sleep(1500); // well inside the mercy
      expect(otherPorts(app.pid, [app.ready.port])).toEqual([]);
      expect(await new Promise((resolve) => cli.once('exit', resolve))).toBe(1);
      expect(otherPorts(app.pid)).toEqual([]);
    } finally {
      await stop(cli);
    }
  });

  it('attack: reload-doctor killed (SIGKILL) at any moment leaves no inspector open for longer than a second or so', async () => {
    for (const delayMs of [15, 40, 90, 200, 600, 1100, 1300]) {
      const app = await startFixture('forgotten-interval.mjs');
      const cli = spawn(node, [CLI, String(app.pid), '--mercy', '1s'], { cwd: ROOT, stdio: 'ignore' });
      await sleep(delayMs);
      cli.kill('SIGKILL');
      await new Promise((resolve) => cli.once('exit', resolve));
      const killedAt = Date.now();
      expect(await until(() => otherPorts(app.pid, [app.ready.port]).length === 0, 3000), `killed at ${delayMs} ms`).toBe(true);
      expect(Date.now() - killedAt, `killed at ${delayMs} ms`).toBeLessThan(2500);
      expect(isAlive(app.pid)).toBe(true);
      await stop(app.child);
    }
  });

  it('Ctrl-C right after the inspector opens still closes it (exit 130)', async () => {
    for (const delayMs of [0, 40, 120]) {
      const app = await startFixture('forgotten-interval.mjs');
      const cli = spawn(node, [CLI, String(app.pid), '--mercy', '10s'], { cwd: ROOT, stdio: 'ignore' });
      expect(await until(() => otherPorts(app.pid, [app.ready.port]).length > 0, 5000)).toBe(true);
      await sleep(delayMs);
      cli.kill('SIGINT');
      expect(await new Promise((resolve) => cli.once('exit', resolve))).toBe(130);
      expect(await until(() => otherPorts(app.pid, [app.ready.port]).length === 0, 2500), `SIGINT ${delayMs} ms after the port opened`).toBe(true);
      await stop(app.child);
    }
  });

  it('a target blocked in a long call when asked: the guardian closes its inspector once the call returns', async () => {
    // Blocked for longer than reload-doctor waits for the port (3 s).
    const app = await startFixture('blocked-at-start.cjs', { BLOCK_MS: '5000' });
    expect(await until(() => /BLOCKED/.test(app.output()), 3000)).toBe(true);
    const result = await runCli(['handles', String(app.pid), '--json']);
    expect(result.code).toBe(3);
    expect(result.json.warnings.join('\n')).toMatch(/has not served reload-doctor's SIGUSR1 yet .* a guardian process \(pid \d+\) closes it/);
    expect(await until(() => /UNBLOCKED/.test(app.output()), 8000)).toBe(true);
    expect(await until(() => otherPorts(app.pid, [app.ready.port]).length === 0 && /Debugger ending|Debugger listening/.test(app.output()), 5000)).toBe(true);
    expect(otherPorts(app.pid, [app.ready.port])).toEqual([]);
    expect(isAlive(app.pid)).toBe(true);
  });
});

describe('many probes at once', () => {
  it('ten reload-doctors on ten targets at the same time all give the right verdict and leave nothing open', async () => {
    const apps = await Promise.all(Array.from({ length: 10 }, () => startFixture('forgotten-interval.mjs')));
    const results = await Promise.all(apps.map((app) => runCli([String(app.pid), '--mercy', '2s', '--json'], { timeoutMs: 60_000 })));
    for (const [i, result] of results.entries()) {
      expect(result.code, `probe ${i}`).toBe(1);
      expect(result.json.snapshot.source, `probe ${i}: ${result.json.warnings}`).toBe('inspector');
      expect(result.json.findings.find((f: any) => f.id === 'generic/interval')?.location.line, `probe ${i}`).toBe(blamedLine('forgotten-interval.mjs', 'interval'));
    }
    for (const app of apps) expect(otherPorts(app.pid)).toEqual([]);
  });
});

/** runuser starts the attacker as its child: the session belongs to that node process. */
function attackerPid(runuserPid: number): number {
  return readChildren(runuserPid)[0] ?? runuserPid;
}
