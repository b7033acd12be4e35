// `reload-doctor <pid>` against real fixture processes: verdict, exit code, the blamed handle
// with the fixture's own file and line, the inspector closed afterwards, the target untouched.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../src/reach/proc.js';
import { blamedLine, listeningPorts, runCli, startFixture, startProcess, waitUntilGone } from './helpers.js';

const MERCY = '2s';

function findingsOf(json: any): any[] {
  return json.findings;
}

describe('reload-doctor <pid>', () => {
  it('reports a clean shutdown with exit 0', async () => {
    const app = await startFixture('clean-exit.cjs');
    const result = await runCli([String(app.pid), '--mercy', '10s', '--json']);
    expect(result.code).toBe(0);
    expect(result.json.verdict.outcome).toBe('exited');
    expect(result.json.verdict.exitedAfterMs).toBeLessThan(10_000);
    expect(result.json.verdict.hadListener).toBe(true);
    expect(await waitUntilGone(app.pid)).toBe(true);
  });

  it('blames a forgotten setInterval at the fixture line (ESM), then closes the inspector it opened', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    const portsBefore = listeningPorts(app.pid);
    const result = await runCli([String(app.pid), '--mercy', MERCY, '--json']);
    expect(result.code).toBe(1);
    expect(result.json.verdict.outcome).toBe('still-alive');
    // Snapshot time is counted from the signal: just past the 2 s mercy.
    expect(result.json.snapshot.takenAtMs).toBeGreaterThanOrEqual(2000);
    expect(result.json.snapshot.takenAtMs).toBeLessThan(10_000);
    const [finding] = findingsOf(result.json);
    expect(finding.handles[0].kind).toBe('timer');
    expect(finding.handles[0].details.repeat).toBe(1000);
    expect(finding.location).toMatchObject({ file: 'fixtures/forgotten-interval.mjs', line: blamedLine('forgotten-interval.mjs', 'interval'), functionName: 'flushMetrics' });
    expect(finding.fix).toMatch(/clearInterval/);
    // Not killed, and the inspector we opened is closed again (the server was closed by its handler).
    expect(isAlive(app.pid)).toBe(true);
    expect(listeningPorts(app.pid)).toEqual(portsBefore.filter((port) => port !== app.ready.port));
    expect(listeningPorts(app.pid)).not.toContain(9229);
  });

  it('text report: verdict line, the handle in Node words, why and fix', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    const result = await runCli([String(app.pid), '--mercy', MERCY]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✖ still alive 2 s after SIGTERM \(mercy 2 s\)/);
    expect(result.stdout).toMatch(/Timeout every 1000 ms \(next due in \d+ ms\)/);
    expect(result.stdout).toContain(`flushMetrics (fixtures/forgotten-interval.mjs:${blamedLine('forgotten-interval.mjs', 'interval')}:`);
    expect(result.stdout).toMatch(/why .*repeating timer/);
    expect(result.stdout).not.toMatch(/stdout|stderr \(fd/);
  });

  it('blames the keep-alive connection whose response is still in flight, with the request handler line', async () => {
    const app = await startFixture('keepalive-server.cjs');
    const http = await import('node:http');
    const agent = new http.Agent({ keepAlive: true });
    try {
      // One finished request leaves an idle keep-alive socket (close() ends it since Node 19);
      // the second response never ends.
      await new Promise<void>((resolve, reject) => http.get({ port: app.ready.port, host: '127.0.0.1', path: '/fast', agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
      await new Promise<void>((resolve, reject) => http.get({ port: app.ready.port, host: '127.0.0.1', path: '/slow', agent }, (res) => res.once('data', () => resolve())).on('error', reject));
      const result = await runCli([String(app.pid), '--mercy', MERCY, '--json']);
      expect(result.code).toBe(1);
      const sockets = result.json.findings.flatMap((f: any) => f.handles).filter((h: any) => h.kind === 'tcp-socket');
      expect(sockets).toHaveLength(1);
      expect(sockets[0].details.inFlight).toBe('response to GET /slow');
      expect(sockets[0].owner).toMatchObject({ file: 'fixtures/keepalive-server.cjs', line: blamedLine('keepalive-server.cjs', 'handler'), functionName: 'handleRequest' });
      const finding = result.json.findings.find((f: any) => f.handles.some((h: any) => h.kind === 'tcp-socket'));
      expect(finding.fix).toMatch(/closeAllConnections/);
    } finally {
      agent.destroy();
    }
  });

  it('names the mongodb driver for an un-closed MongoClient (real driver, wire-protocol peer)', async () => {
    const peer = await startFixture('mongo-peer.cjs');
    const app = await startFixture('mongo-connected.cjs', { MONGO_URL: `mongodb://127.0.0.1:${peer.ready.port}/?directConnection=true` });
    const result = await runCli([String(app.pid), '--mercy', MERCY, '--json']);
    expect(result.code).toBe(1);
    const handles = result.json.findings.flatMap((f: any) => f.handles);
    const sockets = handles.filter((h: any) => h.kind === 'tcp-socket' && h.details.remote === `127.0.0.1:${peer.ready.port}`);
    expect(sockets.length).toBeGreaterThanOrEqual(1);
    expect(sockets[0].owner.package.name).toBe('mongodb');
    expect(sockets[0].owner.package.version).toMatch(/^7\./);
    const heartbeat = handles.find((h: any) => h.kind === 'timer' && h.owner?.file.endsWith('lib/sdam/monitor.js'));
    expect(heartbeat, 'monitor heartbeat timer').toBeDefined();
    expect(heartbeat.details.delay).toBe(10_000);
  });

  it('names the mongodb driver for a MongoClient whose server never answers', async () => {
    const app = await startFixture('mongo-unreachable.cjs', { MONGO_URL: 'mongodb://127.0.0.1:9/?directConnection=true' });
    const result = await runCli([String(app.pid), '--mercy', MERCY, '--json']);
    expect(result.code).toBe(1);
    const timers = result.json.findings.flatMap((f: any) => f.handles).filter((h: any) => h.kind === 'timer');
    expect(timers.some((t: any) => t.owner?.package?.name === 'mongodb')).toBe(true);
    expect(result.json.findings[0].package.name).toBe('mongodb');
  });

  it('says where a busy SIGTERM handler spins (Debugger.pause)', async () => {
    const app = await startFixture('busy-handler.cjs');
    const result = await runCli([String(app.pid), '--mercy', '3s', '--json', '--kill']);
    expect(result.code).toBe(1);
    expect(result.json.verdict.busy).toBe(true);
    const busy = result.json.findings.find((f: any) => f.id === 'busy-main-thread');
    expect(busy.location).toMatchObject({ file: 'fixtures/busy-handler.cjs', line: blamedLine('busy-handler.cjs', 'spin') });
    expect(result.json.snapshot.busyStack[0].functionName).toBe('drainQueue');
    expect(await waitUntilGone(app.pid)).toBe(true);
  });

  it('a handler that retries a failing require() in a loop: named from the samples as module loading, at the app\'s retry line', async () => {
    // --no-opt: once TurboFan has inlined the loader into the loop, a pause lands only on the
    // loop's head (V8 pauses at its interrupt checks) and the loader is not seen (README).
    const app = await startProcess([process.execPath, '--no-opt', 'fixtures/busy-require-retry.cjs']);
    const result = await runCli([String(app.pid), '--mercy', '3s', '--json', '--kill']);
    expect(result.code).toBe(1);
    const busy = result.json.findings.find((f: any) => f.id === 'busy-main-thread');
    expect(busy.title).toBe('main thread busy in loadPlugin, loading a module again and again');
    expect(busy.location).toMatchObject({ file: 'fixtures/busy-require-retry.cjs', line: blamedLine('busy-require-retry.cjs', 'retry') });
    expect(busy.why).toMatch(/inside Node's module loader \(in [345] of 5 samples\), called from fixtures\/busy-require-retry\.cjs:\d+: a require\(\) or import that fails and is retried in a loop/);
    expect(busy.fix).toMatch(/retry it with a delay/);
    expect(result.json.snapshot.busyCommon.samples).toBe(5);
    expect(await waitUntilGone(app.pid)).toBe(true);
  });

  it('a pending libuv request is said in words: fs.open() of a FIFO nobody writes to (FSReqCallback)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rd-fifo-'));
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    try {
      const app = await startFixture('fifo-open.cjs', { FIFO: fifo });
      const result = await runCli([String(app.pid), '--mercy', '1s', '--json']);
      expect(result.code).toBe(1);
      const request = result.json.findings.flatMap((f: any) => f.handles).find((h: any) => h.kind === 'request');
      expect(request.label).toBe('FSReqCallback (a file system call with a callback, still running)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports "not graceful" when there is no SIGTERM listener', async () => {
    const app = await startFixture('no-handler.cjs');
    const result = await runCli([String(app.pid), '--mercy', MERCY]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/has no SIGTERM listener/);
    expect(result.stdout).toMatch(/✖ not graceful/);
  });

  it('names a child process left running', async () => {
    const app = await startFixture('child-left.cjs');
    const result = await runCli([String(app.pid), '--mercy', MERCY, '--json']);
    expect(result.code).toBe(1);
    const child = result.json.findings.flatMap((f: any) => f.handles).find((h: any) => h.kind === 'child-process');
    expect(child.details).toMatchObject({ pid: app.ready.childPid, command: 'sleep 300' });
    expect(result.json.findings.find((f: any) => f.handles.some((h: any) => h.kind === 'child-process')).fix).toMatch(/child\.kill\(\)/);
  });

  it('names a worker thread left running, with its file', async () => {
    const app = await startFixture('worker-left.cjs');
    const result = await runCli([String(app.pid), '--mercy', MERCY, '--json']);
    expect(result.code).toBe(1);
    const worker = result.json.findings.flatMap((f: any) => f.handles).find((h: any) => h.kind === 'worker-thread');
    expect(worker.blocking).toBe(true);
    expect(worker.details.file).toContain('fixtures/worker-left.worker.cjs');
    expect(worker.details.threadId).toBe(app.ready.threadId);
  });

  it("does not blame an unref'd interval: it exits, and `handles` lists the timer as not blocking", async () => {
    const app = await startFixture('unref-only.cjs');
    const listed = await runCli(['handles', String(app.pid), '--json']);
    expect(listed.code).toBe(0);
    const timer = listed.json.notBlocking.find((h: any) => h.kind === 'timer' && h.owner?.functionName === 'sampleMemory');
    expect(timer).toMatchObject({ blocking: false, notBlockingBecause: "unref'd" });
    expect(timer.owner.line).toBe(blamedLine('unref-only.cjs', 'unref'));
    expect(listed.json.findings.flatMap((f: any) => f.handles).some((h: any) => h.kind === 'timer')).toBe(false);
    expect(listeningPorts(app.pid)).toEqual([app.ready.port]);

    const probed = await runCli([String(app.pid), '--mercy', '10s', '--json']);
    expect(probed.code).toBe(0);
    expect(probed.json.verdict.outcome).toBe('exited');
  });

  it('--kill sends SIGKILL after the report; without it the target lives on', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    const first = await runCli([String(app.pid), '--mercy', '1s']);
    expect(first.code).toBe(1);
    expect(isAlive(app.pid)).toBe(true);
    const second = await runCli([String(app.pid), '--mercy', '1s', '--kill']);
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(/SIGKILL/);
    expect(await waitUntilGone(app.pid)).toBe(true);
  });
});
