// Targets run every supported Node line (18 to 26), whatever Node reload-doctor itself runs
// on: the official binaries of each major (scripts/fetch-runtimes.sh) run a core set of
// fixtures, which must get the same findings — timers with their line, child processes,
// worker threads, in attach and in run mode — and be left with no inspector open.
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../src/reach/proc.js';
import { blamedLine, listeningPorts, runCli, startFixture } from './helpers.js';
import { NODE_MAJORS, needs } from './needs.js';

const MAJORS = NODE_MAJORS;

describe.each(MAJORS)('Node %s', (_major, need, node) => {
  it('attach: a forgotten interval at its line, exit 1, the target alive and closed again', async (ctx) => {
    if (need) needs(ctx, need);
    const app = await startFixture('forgotten-interval.mjs', {}, [], 'ignore', node);
    const result = await runCli([String(app.pid), '--mercy', '1500ms', '--json']);
    expect(result.code).toBe(1);
    expect(result.json.target.runtime.version).toMatch(/^v\d+\./);
    expect(result.json.snapshot.source).toBe('inspector');
    const timer = result.json.findings.find((f: any) => f.id === 'generic/interval');
    expect(timer.handles[0].label).toMatch(/^Timeout every 1000 ms \(next due in \d+ ms\)$/);
    expect(timer.location).toMatchObject({ file: 'fixtures/forgotten-interval.mjs', line: blamedLine('forgotten-interval.mjs', 'interval'), functionName: 'flushMetrics' });
    expect(result.json.warnings).toEqual([]);
    expect(isAlive(app.pid)).toBe(true);
    expect(listeningPorts(app.pid)).toEqual([]);
  });

  it('handles: a child process and a worker thread, named', async (ctx) => {
    if (need) needs(ctx, need);
    const parent = await startFixture('child-left.cjs', {}, [], 'ignore', node);
    const portsBefore = listeningPorts(parent.pid);
    const children = await runCli(['handles', String(parent.pid), '--json']);
    expect(children.code).toBe(0);
    const child = children.json.findings.flatMap((f: any) => f.handles).find((h: any) => h.kind === 'child-process');
    expect(child.details).toMatchObject({ pid: parent.ready.childPid, command: 'sleep 300' });
    expect(listeningPorts(parent.pid)).toEqual(portsBefore);

    const app = await startFixture('worker-left.cjs', {}, [], 'ignore', node);
    const workers = await runCli(['handles', String(app.pid), '--json']);
    expect(workers.code).toBe(0);
    const worker = workers.json.findings.flatMap((f: any) => f.handles).find((h: any) => h.kind === 'worker-thread');
    expect(worker).toMatchObject({ blocking: true, details: { threadId: app.ready.threadId } });
    expect(worker.details.file).toContain('fixtures/worker-left.worker.cjs');
  });

  it('run: the line that created the timer (creation stacks), and the service gone after', async (ctx) => {
    if (need) needs(ctx, need);
    const result = await runCli(['run', '--mercy', '1500ms', '--format', 'json', '--', node, 'fixtures/forgotten-interval.mjs']);
    expect(result.code).toBe(1);
    expect(result.json.run.creationStacks).toBe(true);
    const timer = result.json.findings.find((f: any) => f.id === 'generic/interval');
    expect(timer.handles[0].createdIn).toMatchObject({ file: 'fixtures/forgotten-interval.mjs', line: blamedLine('forgotten-interval.mjs', 'interval') });
    expect(isAlive(result.json.run.servicePid)).toBe(false);
  });
});
