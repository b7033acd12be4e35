// The programmatic API, as a user calls it: `checkShutdown` imported from the built package
// (dist/index.js), in this process, against real services and processes. It resolves to the
// same document as --json, rejects with typed errors, and an AbortSignal cleans up as Ctrl-C does.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type * as Api from '../../src/index.js';
import { isAlive, isStopped } from '../../src/reach/proc.js';
import { ROOT, blamedLine, listeningPorts, processesMatching, runCli, startFixture } from './helpers.js';

const node = process.execPath;
// The built package, as `import ... from 'reload-doctor'` loads it.
const api: typeof Api = await import(`${ROOT}dist/index.js`);
const leaky = [node, 'fixtures/forgotten-interval.mjs'];

describe('checkShutdown (run mode)', () => {
  it('a leaky service: the --json document, exit code 1, the culprit at its line; the service gone after', async () => {
    const marker = `--rd-test=${randomUUID()}`;
    const doc = await api.checkShutdown({ command: [...leaky, marker], mercy: '1500ms', ready: 'log:^READY', cwd: ROOT });
    expect(doc).toMatchObject({ schema: 'reload-doctor/diagnosis', schemaVersion: 2, mode: 'run', exitCode: 1, verdict: { outcome: 'still-alive', mercyMs: 1500 } });
    const interval = doc.findings.find((finding) => finding.handles.some((handle) => handle.kind === 'timer'));
    expect(interval?.location).toMatchObject({ file: 'fixtures/forgotten-interval.mjs', line: blamedLine('forgotten-interval.mjs', 'interval') });
    expect(processesMatching(marker), 'processes left behind').toEqual([]);

    // The CLI's --json on the same service: the same document, field for field (times aside).
    const cli = await runCli(['run', '--mercy', '1500ms', '--ready', 'log:^READY', '--format', 'json', '--', ...leaky]);
    expect(Object.keys(doc)).toEqual(Object.keys(cli.json));
    expect(doc.findings.map((f) => [f.id, f.title.replace(/\d+ ms/g, 'N ms'), f.location?.line])).toEqual(cli.json.findings.map((f: any) => [f.id, f.title.replace(/\d+ ms/g, 'N ms'), f.location?.line]));
  });

  it('a clean service resolves with exit code 0; its output reaches onOutput; env and cwd are the service\'s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rd-api-cwd-'));
    writeFileSync(join(dir, 'server.cjs'), `
      const server = require('node:http').createServer((q, s) => s.end());
      process.on('SIGTERM', () => server.close());
      server.listen(0, '127.0.0.1', () => console.log('READY', process.env.GREETING, process.cwd()));
    `);
    const lines: string[] = [];
    const doc = await api.checkShutdown({ command: [node, 'server.cjs'], cwd: dir, env: { GREETING: 'hello' }, mercy: 3000, onOutput: (line) => lines.push(line) });
    expect(doc.exitCode).toBe(0);
    expect(doc.verdict?.outcome).toBe('exited');
    expect(doc.verdict?.mercyMs).toBe(3000);
    expect(lines).toContain(`READY hello ${dir}`);
  });

  it('rejects with typed errors whose exitCode is the CLI\'s: usage (2) before anything starts, not ready (4)', async () => {
    const marker = `--rd-test=${randomUUID()}`;
    for (const bad of [{ command: [...leaky, marker], mercy: 'soon' }, { command: [...leaky, marker], load: 5 }, { command: 'node x.js' }, { command: [...leaky, marker], cwd: '/nonexistent' }, { command: [...leaky], pid: 1 }]) {
      const error = await api.checkShutdown(bad as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(bad)).toBeInstanceOf(api.UsageError);
      expect(error).toBeInstanceOf(api.ReloadDoctorError);
      expect((error as Api.UsageError).exitCode).toBe(api.EXIT.usage);
    }
    expect(processesMatching(marker)).toEqual([]);
    const crash = await api.checkShutdown({ command: [node, 'fixtures/crash-on-start.cjs'], cwd: ROOT }).catch((e: unknown) => e);
    expect(crash).toBeInstanceOf(api.ServiceNotReadyError);
    expect((crash as Api.ServiceNotReadyError).exitCode).toBe(4);
  });

  it('an AbortSignal during the mercy kills the service and rejects with an AbortError', async () => {
    const marker = `--rd-test=${randomUUID()}`;
    const controller = new AbortController();
    const started = Date.now();
    const checking = api.checkShutdown({
      command: ['/usr/bin/python3', 'fixtures/python-term-ignorer.py', marker],
      cwd: ROOT, mercy: '60s', ready: 'log:^READY', abortSignal: controller.signal,
      onOutput: (line) => { if (/SIGTERM: ignoring it/.test(line)) setTimeout(() => controller.abort('test'), 300); },
    });
    const error = await checking.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(api.AbortError);
    expect((error as Api.AbortError).exitCode).toBe(130);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(processesMatching(marker), 'the service was killed').toEqual([]);
  });
});

describe('checkShutdown (attach mode)', () => {
  it('a running process by pid: the culprit, the target alive and its inspector closed', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    const doc = await api.checkShutdown({ pid: app.pid, mercy: '1s' });
    expect(doc).toMatchObject({ mode: 'probe', exitCode: 1, verdict: { outcome: 'still-alive' } });
    expect(doc.findings.some((finding) => finding.location?.line === blamedLine('forgotten-interval.mjs', 'interval'))).toBe(true);
    expect(isAlive(app.pid)).toBe(true);
    expect(listeningPorts(app.pid)).toEqual([]); // its server closed on SIGTERM; no inspector left open
  });

  it('an abort during the mercy closes what it opened, and no window opens after it', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const error = await api.checkShutdown({ pid: app.pid, mercy: '4s', abortSignal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(api.AbortError);
    // Past the mercy the aborted check would have opened the deadline's window: it must not.
    for (let waited = 0; waited < 4500; waited += 250) {
      expect(listeningPorts(app.pid), `at ${waited} ms after the abort`).toEqual([]);
      await sleep(250);
    }
    expect(isAlive(app.pid)).toBe(true);
  });

  it('a pid that does not exist is bad input (UsageError, 2); a stopped process cannot be probed (ReachError, 3) and gets no signal', async () => {
    const missing = await api.checkShutdown({ pid: 4_194_000, mercy: '1s' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(api.UsageError);
    expect((missing as Api.UsageError).exitCode).toBe(2);
    const app = await startFixture('forgotten-interval.mjs');
    process.kill(app.pid, 'SIGSTOP');
    // The stop is delivered asynchronously: wait until /proc says so.
    for (let waited = 0; !isStopped(app.pid) && waited < 2000; waited += 10) await sleep(10);
    try {
      const stopped = await api.checkShutdown({ pid: app.pid, mercy: '1s' }).catch((e: unknown) => e);
      expect(stopped).toBeInstanceOf(api.ReachError);
      expect((stopped as Api.ReachError).exitCode).toBe(3);
    } finally {
      process.kill(app.pid, 'SIGCONT');
    }
    await sleep(200);
    expect(listeningPorts(app.pid)).toHaveLength(1); // its own server: never signalled, never opened
  });
});

describe('package.json defaults (the reloadDoctor key)', () => {
  it('`reload-doctor run` alone takes the command and options from it; command-line options win; unknown keys are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rd-defaults-'));
    const manifest = (defaults: object) => writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'svc', reloadDoctor: defaults }));
    manifest({ command: [node, join(ROOT, 'fixtures/forgotten-interval.mjs')], mercy: '1s', ready: 'log:^READY' });
    const fromPackage = await runCli(['run', '--format', 'json'], { cwd: dir });
    expect(fromPackage.code).toBe(1);
    expect(fromPackage.json.verdict.mercyMs).toBe(1000);
    const overridden = await runCli(['run', '--format', 'json', '--mercy', '1200ms'], { cwd: dir });
    expect(overridden.json.verdict.mercyMs).toBe(1200);

    manifest({ command: `${node} ${join(ROOT, 'fixtures/clean-exit.cjs')}`, mercy: '5s' });
    const asString = await runCli(['run', '--format', 'json'], { cwd: dir });
    expect(asString.code).toBe(0);

    manifest({ comand: ['node', 'x.js'] });
    const typo = await runCli(['run'], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim()).toMatch(/^reload-doctor: "reloadDoctor" in .*package\.json has unknown keys: comand \(known: command, mercy/);
  });
});
