// `reload-doctor run -- <command>`: the CI step, against real services it starts itself.
// Every test also proves the tree is gone afterwards: nothing with the test's marker (or in the
// service's process group) may be alive once the CLI has exited.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isAlive, readCmdline } from '../../src/reach/proc.js';
import { CLI, ROOT, blamedLine, blamedLines, freePort, processesMatching, runCli } from './helpers.js';
import { needs } from './needs.js';

const node = process.execPath;

/** Runs `reload-doctor run` and checks, whatever the outcome, that no process of it is left. */
async function run(options: string[], command: string[], env: Record<string, string> = {}) {
  const marker = `--rd-test=${randomUUID()}`;
  // Node ignores arguments after the script; they mark the service's processes for the scan.
  const result = await runCli(['run', ...options, '--', ...command, marker], { env, timeoutMs: 60_000 });
  const pgid = result.json?.run?.servicePid;
  expect(processesMatching(marker, pgid), 'processes left behind').toEqual([]);
  return result;
}

describe('reload-doctor run', () => {
  it('passes a service that shuts down in time (exit 0)', async () => {
    const result = await run(['--mercy', '5s'], [node, 'fixtures/clean-exit.cjs']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ready after \d+ ms: the service listens on port \d+$/m);
    expect(result.stdout).toMatch(/✔ exited \d+ ms after SIGTERM \(mercy 5 s\)/);
    // The service's own output stays visible, prefixed, on stderr; the inspector's is hidden.
    expect(result.stderr).toMatch(/^\[service\] READY /m);
    expect(result.stderr).not.toMatch(/Debugger listening|Waiting for the debugger/);
  });

  it('fails a service that hangs, pointing at the line that created the culprit (ESM)', async () => {
    const result = await run(['--mercy', '1500ms', '--format', 'json'], [node, 'fixtures/forgotten-interval.mjs']);
    expect(result.code).toBe(1);
    expect(result.json.mode).toBe('run');
    expect(result.json.verdict).toMatchObject({ outcome: 'still-alive', killed: true });
    const finding = result.json.findings.find((f: any) => f.id === 'generic/interval');
    expect(finding.location).toMatchObject({ file: 'fixtures/forgotten-interval.mjs', line: blamedLine('forgotten-interval.mjs', 'interval') });
    expect(finding.handles[0].createdIn.line).toBe(blamedLine('forgotten-interval.mjs', 'interval'));
    expect(result.json.run.killedPids).toContain(result.json.run.servicePid);
  });

  it('--no-creation-stacks: findings point at the owning callback instead', async () => {
    const result = await run(['--mercy', '1500ms', '--no-creation-stacks', '--format', 'json'], [node, 'fixtures/forgotten-interval.mjs']);
    expect(result.code).toBe(1);
    expect(result.json.run.creationStacks).toBe(false);
    const finding = result.json.findings.find((f: any) => f.id === 'generic/interval');
    expect(finding.handles[0].createdIn).toBeNull();
    expect(finding.location).toMatchObject({ file: 'fixtures/forgotten-interval.mjs', functionName: 'flushMetrics' });
  });

  it('diagnoses the app behind `npm start`, not npm, and says npm left it running', async () => {
    const result = await run(['--mercy', '1500ms', '--format', 'json'], ['npm', '--prefix', 'fixtures/npm-start', 'start', '--']);
    expect(result.code).toBe(1);
    expect(result.json.target.command).toMatch(/^node server\.cjs/);
    expect(result.json.run.appPid).not.toBe(result.json.run.servicePid);
    expect(result.json.warnings.join('\n')).toMatch(/npm \(pid \d+\) exited .* left the app \(pid \d+\) running/);
    const timer = result.json.findings.find((f: any) => f.id === 'generic/interval');
    expect(timer.location).toMatchObject({ file: 'server.cjs', line: blamedLine('npm-start/server.cjs', 'poll') });
  });

  it('works through a loader (node --import tsx) and points at the TypeScript line', async () => {
    const result = await run(['--mercy', '1500ms', '--ready', 'log:^READY', '--format', 'json'], [node, '--import', 'tsx', 'fixtures/typescript-app.ts']);
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'generic/interval');
    expect(finding.location).toMatchObject({ file: 'fixtures/typescript-app.ts', line: blamedLine('typescript-app.ts', 'flush') });
  });

  it('fails the service that leaves a child process, and kills the child too', async () => {
    const result = await run(['--mercy', '1500ms', '--format', 'json'], [node, 'fixtures/child-left.cjs']);
    expect(result.code).toBe(1);
    const childPid = Number(/"childPid":(\d+)/.exec(result.stderr)![1]);
    const finding = result.json.findings.find((f: any) => f.id === 'generic/child-process');
    expect(finding.location).toMatchObject({ file: 'fixtures/child-left.cjs', line: blamedLine('child-left.cjs', 'client') });
    expect(result.json.run.killedPids).toContain(childPid);
  });

  it('waits for each --ready form', async () => {
    const port = await freePort();
    const forms: Array<[string, RegExp]> = [
      [`port:${port}`, new RegExp(`port ${port} accepts connections`)],
      [`http://127.0.0.1:${port}/health`, /health answers 2xx/],
      ['log:^listening on', /output matched: listening on \d+/],
      ['delay:1s', /1 s passed/],
    ];
    for (const [spec, readyBy] of forms) {
      const result = await run(['--mercy', '5s', '--ready', spec, '--format', 'json'], [node, 'fixtures/graceful-server.cjs'], { PORT: String(port) });
      expect(result.code, spec).toBe(0);
      expect(result.json.run.readyBy, spec).toMatch(readyBy);
    }
  });

  it('fails with exit 4 and the service output when it crashes before it is ready', async () => {
    const result = await run([], [node, 'fixtures/crash-on-start.cjs']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('[service] boom: missing DATABASE_URL');
    expect(result.stderr).toMatch(/^reload-doctor: the service exited with code 3 before it was ready/m);
    expect(result.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
  });

  it('fails with exit 4 when the service is not ready in time, and kills it', async () => {
    const result = await run(['--ready', `port:${await freePort()}`, '--ready-timeout', '1s'], [node, 'fixtures/graceful-server.cjs']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/not ready within 1 s \(waiting until port \d+ accepts connections\)/);
  });

  it('--exercise: the in-flight request completes during a graceful shutdown', async () => {
    const port = await freePort();
    const result = await run(['--mercy', '8s', '--ready', `port:${port}`, '--exercise', `http://127.0.0.1:${port}/slow`, '--format', 'json'],
      [node, 'fixtures/graceful-server.cjs'], { PORT: String(port), SLOW_MS: '1500' });
    expect(result.code).toBe(0);
    expect(result.json.run.exercise).toMatchObject({ warmup: { sent: 2, answered: 2 }, inFlight: { outcome: 'completed', status: 200 } });
    expect(result.json.run.exercise.keepAliveConnections).toBeGreaterThan(0);
  });

  it('--exercise: a dropped in-flight request fails the run even though it exited in time', async () => {
    const port = await freePort();
    const result = await run(['--mercy', '8s', '--ready', `port:${port}`, '--exercise', `http://127.0.0.1:${port}/slow`, '--format', 'json'],
      [node, 'fixtures/graceful-server.cjs'], { PORT: String(port), SLOW_MS: '1500', DROP_ON_TERM: '1' });
    expect(result.code).toBe(1);
    expect(result.json.verdict.outcome).toBe('exited');
    expect(result.json.run.exercise.inFlight).toMatchObject({ outcome: 'dropped' });
    expect(result.json.warnings.join('\n')).toMatch(/request in flight at SIGTERM was dropped/);
  });

  it('writes GitHub annotations at the creating line when GITHUB_ACTIONS=true', async () => {
    const result = await run(['--mercy', '1500ms'], [node, 'fixtures/forgotten-interval.mjs'], { GITHUB_ACTIONS: 'true' });
    expect(result.code).toBe(1);
    const annotations = result.stdout.split('\n').filter((line) => line.startsWith('::'))
      .map((line) => /^::(\w+)(?: ([^:]*))?::(.*)$/.exec(line)!)
      .map(([, level, props, message]) => ({ level, props: Object.fromEntries((props ?? '').split(',').filter(Boolean).map((p) => p.split('='))), message }));
    expect(annotations[0]).toMatchObject({ level: 'error', props: { title: 'reload-doctor' } });
    expect(annotations[0]!.message).toMatch(/still alive 1\.5 s after SIGTERM/);
    const culprit = annotations.find((a) => a.props.file === 'fixtures/forgotten-interval.mjs');
    expect(culprit).toMatchObject({ level: 'error', props: { line: String(blamedLine('forgotten-interval.mjs', 'interval')) } });
    expect(culprit!.message).toMatch(/setInterval.*%0AFix: clearInterval/);
    // The text report follows for the log.
    expect(result.stdout).toMatch(/Resources keeping the event loop alive:/);
  });

  it('writes a JUnit report file while the terminal gets text', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rd-junit-')), 'report.xml');
    const result = await run(['--mercy', '1500ms', '--format', 'junit', '--report-file', file], [node, 'fixtures/forgotten-interval.mjs']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✖ still alive/);
    const xml = readFileSync(file, 'utf8');
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const suites = /<testsuites [^>]*tests="(\d+)" failures="(\d+)"/.exec(xml)!;
    const cases = [...xml.matchAll(/<testcase ([^>]*?)\/?>/g)].map((m) => Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], a[2]])));
    expect(Number(suites[1])).toBe(cases.length);
    expect(Number(suites[2])).toBe(cases.length); // the shutdown case and each culprit fail
    expect(cases[0]!.name).toBe('shuts down within 1.5 s of SIGTERM');
    expect(cases.find((c) => c.file === 'fixtures/forgotten-interval.mjs')?.line).toBe(String(blamedLine('forgotten-interval.mjs', 'interval')));
    expect(xml.match(/<failure /g)).toHaveLength(cases.length);
  });

  it('diagnoses a non-Node service through /proc and kills it', async (ctx) => {
    needs(ctx, 'python');
    const result = await run(['--mercy', '1s', '--ready', 'log:^READY', '--format', 'json'], ['/usr/bin/python3', 'fixtures/python-term-ignorer.py']);
    expect(result.code).toBe(1);
    expect(result.json.target.runtime.kind).toBe('other');
    expect(result.json.snapshot.source).toBe('proc');
    expect(result.json.run.creationStacks).toBe(false);
  });

  it('Ctrl-C while it holds the service kills the whole tree (exit 130)', async () => {
    const marker = `--rd-test=${randomUUID()}`;
    const cli = spawn(node, [CLI, 'run', '--ready', 'log:^READY', '--hold', '60s', '--', node, 'fixtures/child-left.cjs', marker], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    cli.stderr.on('data', (chunk) => { err += chunk; });
    for (let i = 0; i < 250 && !/READY/.test(err); i++) await sleep(20);
    const childPid = Number(/"childPid":(\d+)/.exec(err)![1]);
    const matching = processesMatching(marker).filter((pid) => pid !== cli.pid);
    expect(matching, matching.map((pid) => `${pid}: ${readCmdline(pid).join(' ')}`).join(' | ')).toHaveLength(1); // the service
    cli.kill('SIGINT');
    const code = await new Promise((resolve) => cli.once('exit', resolve));
    expect(code).toBe(130);
    expect(processesMatching(marker)).toEqual([]);
    for (let i = 0; i < 50 && isAlive(childPid); i++) await sleep(20);
    expect(isAlive(childPid)).toBe(false); // the app's own child (sleep 300) went with it
  });

  it('rejects bad input with exit 2 and one line', async () => {
    for (const args of [['run', '--ready', 'tcp:80', '--', node, 'x.js'], ['run', '--exercise', 'ftp://x', '--', node, 'x.js'], ['run', '--format', 'xml', '--', node, 'x.js'], ['run']]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n')[0]).toMatch(/^(reload-doctor: )?(error: |invalid |no command to run: )/);
    }
  });

  it('an unknown command fails with exit 4 and a clear line', async () => {
    const result = await run([], ['/nonexistent/service-binary']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^reload-doctor: could not start \/nonexistent\/service-binary: ENOENT/m);
  });

  it('library handles point at the app line that opened the client (creation stacks)', async () => {
    // pg, mysql2, amqplib and ioredis are covered in rules.test.ts; here the always-available one.
    const result = await run(['--mercy', '1500ms', '--ready', 'log:^READY', '--format', 'json'], [node, 'fixtures/redis-reconnecting.cjs'], { REDIS_PORT: String(await freePort()) });
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'ioredis');
    expect(blamedLines('redis-reconnecting.cjs', 'client')).toContain(finding.location.line);
    expect(finding.location.file).toBe('fixtures/redis-reconnecting.cjs');
  });
});
