// Process trees: a uWSGI master and its workers (real uWSGI, gevent and pymongo 3: the story
// this project comes from), a Node cluster primary, and a plain Python process with a thread.
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blamedLine, portIsFree, runCli, startFixture, startUwsgi, stop } from './helpers.js';
import { needs } from './needs.js';

const started: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map(stop));
});

describe('uWSGI + gevent + pymongo 3 (the seed)', () => {
  beforeEach((ctx) => needs(ctx, 'uwsgi'));
  it('gevent-wait-for-hub: names the stuck workers, explains, and looks before "NO MERCY"', async () => {
    const uwsgi = await startUwsgi('hang.ini');
    const result = await runCli([String(uwsgi.master), '--signal', 'SIGHUP', '--mercy', '10s', '--json']);
    expect(result.code).toBe(1);
    expect(result.json.verdict).toMatchObject({ outcome: 'still-alive', stuckWorkers: 2 });
    expect(result.json.tree).toMatchObject({ kind: 'uwsgi', masterMercyMs: 5000 });
    const stuck = result.json.tree.members.filter((m: any) => m.stuck);
    expect(stuck.map((m: any) => m.pid).sort()).toEqual([...uwsgi.workers].sort());
    for (const worker of stuck) {
      expect(worker.findings[0]).toMatchObject({ id: 'uwsgi-gevent-wait-for-hub', severity: 'blocks' });
      expect(worker.findings[0].why).toMatch(/every greenlet.*worker-reload-mercy \(5 s\)/);
      expect(worker.findings[0].fix).toMatch(/drop gevent-wait-for-hub.*uwsgi\.atexit hook is too late/);
      expect(worker.threads.length).toBeGreaterThan(0);
    }
    expect(result.json.warnings.join('\n')).toMatch(/worker-reload-mercy \(5 s\): reload-doctor looks at the workers at 4\.2 s/);
    // Looked at before uWSGI's own kill at 5 s...
    for (const worker of stuck) {
      expect(worker.lookedAtMs).toBeGreaterThanOrEqual(4000);
      expect(worker.lookedAtMs).toBeLessThan(5000);
    }
    // ...which does come: the story's "NO MERCY !!!".
    for (let i = 0; i < 100 && !/NO MERCY/.test(uwsgi.log()); i++) await sleep(100);
    expect(uwsgi.log()).toMatch(/is taking too much time to die\.\.\.NO MERCY !!!/);
  });

  it('the control (no gevent-wait-for-hub) reloads at once: a clean reload, exit 0', async () => {
    const uwsgi = await startUwsgi('control.ini');
    const result = await runCli([String(uwsgi.master), '--signal', 'SIGHUP', '--mercy', '10s', '--json']);
    expect(result.code).toBe(0);
    expect(result.json.verdict.outcome).toBe('reloaded');
    expect(result.json.verdict.exitedAfterMs).toBeLessThan(3000);
    const members = result.json.tree.members;
    expect(members.filter((m: any) => m.original).every((m: any) => m.exitedAfterMs !== undefined && !m.stuck)).toBe(true);
    expect(members.filter((m: any) => !m.original).length).toBeGreaterThanOrEqual(2);
  });

  it('with a MongoDB peer on :27017, the worker\'s connection is named MongoDB', async (ctx) => {
    ctx.skip(!(await portIsFree(27017)), 'port 27017 is taken: the MongoDB peer must listen there (the app connects to the default port)');
    await startFixture('mongo-peer.cjs', { PORT: '27017' });
    const uwsgi = await startUwsgi('hang.ini', { MONGO_URL: 'mongodb://127.0.0.1:27017/' });
    const result = await runCli([String(uwsgi.master), '--signal', 'SIGHUP', '--mercy', '10s', '--json']);
    expect(result.code).toBe(1);
    const finding = result.json.tree.members.find((m: any) => m.stuck).findings[0];
    expect(finding.title).toMatch(/MongoDB client still open/);
    expect(finding.handles.some((h: any) => h.details.peer === 'MongoDB' && h.details.state === 'ESTABLISHED')).toBe(true);
    expect(finding.why).toMatch(/connection to MongoDB \(127\.0\.0\.1:27017\)/);
  });
});

describe('Node cluster', () => {
  it('a primary waiting for a worker that holds an interval: the worker is named, with its handle', async () => {
    const app = await startFixture('cluster-primary.cjs');
    const result = await runCli([String(app.pid), '--mercy', '2s', '--json']);
    expect(result.code).toBe(1);
    expect(result.json.verdict.outcome).toBe('still-alive');
    // The primary itself is alive because of its worker: its own handles say so.
    expect(result.json.findings.some((f: any) => f.handles.some((h: any) => h.kind === 'child-process' && h.details.pid === app.ready.workers[1]))).toBe(true);
    const [exited, stuck] = app.ready.workers.map((pid: number) => result.json.tree.members.find((m: any) => m.pid === pid));
    expect(exited.exitedAfterMs).toBeLessThan(2000);
    expect(stuck).toMatchObject({ stuck: true, runtime: 'node' });
    expect(stuck.findings[0].id).toBe('generic/interval');
    expect(stuck.findings[0].location).toMatchObject({ file: 'fixtures/cluster-primary.cjs', line: blamedLine('cluster-primary.cjs', 'poll') });
  });

  it("a live worker's round-robin server is the cluster's placeholder timer, not a timer of the app", async () => {
    const app = await startFixture('cluster-primary.cjs');
    const result = await runCli(['handles', String(app.ready.workers[0]), '--json']);
    expect(result.code).toBe(0);
    const cluster = result.json.findings.find((f: any) => f.id === 'cluster-worker');
    expect(cluster.title).toMatch(/1 server listening through the primary \(round-robin\), and its IPC channel/);
    expect(cluster.handles.map((h: any) => h.kind).sort()).toEqual(['other', 'timer']);
    // Worker 1 has no timer of its own: nothing else may be blamed.
    expect(result.json.findings.map((f: any) => f.id)).toEqual(['cluster-worker']);
  });

  it('a primary that exits and orphans its worker fails too, and says so', async () => {
    const app = await startFixture('cluster-primary.cjs', { ORPHAN: '1' });
    const result = await runCli([String(app.pid), '--mercy', '2s', '--json']);
    expect(result.code).toBe(1);
    expect(result.json.warnings.join('\n')).toMatch(/exited .* but left 1 worker running on its own \(orphaned\)/);
    const stuck = result.json.tree.members.find((m: any) => m.stuck);
    expect(stuck.pid).toBe(app.ready.workers[1]);
    expect(stuck.findings[0].id).toBe('generic/interval');
  });
});

describe('a plain Python process', () => {
  it('a non-daemon thread that never ends keeps it alive after SIGINT: its threads are listed', async (ctx) => {
    needs(ctx, 'python');
    const app = await startFixture('python-thread.py');
    const result = await runCli([String(app.pid), '--signal', 'SIGINT', '--mercy', '1500ms', '--json']);
    expect(result.code).toBe(1);
    expect(result.json.verdict.outcome).toBe('still-alive');
    expect(result.json.snapshot.source).toBe('proc');
    expect(result.json.snapshot.threads.length).toBe(2);
  });
});
