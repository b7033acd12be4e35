// --py-stacks on real Python processes: the seed's stuck uWSGI + gevent + pymongo 3 workers,
// a live worker that must keep serving after being read, a main thread that holds the GIL
// (the pending-call path), and plain Python families that Python waits for at exit
// (APScheduler, kombu on RabbitMQ). Nothing may be left in the target's /tmp.
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { beforeEach, describe, expect, it } from 'vitest';
import { readPythonStacks } from '../../src/inspect/python-stacks.js';
import { listeningTcp } from '../../src/reach/proc.js';
import { runCli, startFixture, startUwsgi } from './helpers.js';
import { needs } from './needs.js';

const leftovers = () => readdirSync('/tmp').filter((name) => name.startsWith('reload-doctor-py-'));

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); }).on('error', reject);
  });
}

describe('uWSGI + gevent + pymongo 3 with --py-stacks', () => {
  beforeEach((ctx) => { needs(ctx, 'uwsgi'); needs(ctx, 'gdb'); });

  it('names both pymongo greenlets, the app line and the global, before "NO MERCY", in JSON and GitHub', async () => {
    const uwsgi = await startUwsgi('hang.ini');
    const result = await runCli([String(uwsgi.master), '--signal', 'SIGHUP', '--mercy', '10s', '--py-stacks', '--json']);
    expect(result.code).toBe(1);
    const stuck = result.json.tree.members.filter((m: any) => m.stuck);
    expect(stuck).toHaveLength(2);
    for (const worker of stuck) {
      expect(worker.lookedAtMs).toBeLessThan(5000 - 2500);
      const keepers = worker.python.greenlets.filter((g: any) => g.keepsHubAlive).map((g: any) => g.thread).sort();
      expect(keepers).toEqual(['pymongo_kill_cursors_thread', 'pymongo_server_monitor_thread']);
      const [finding] = worker.findings;
      expect(finding.id).toBe('uwsgi-gevent-wait-for-hub');
      expect(finding.title).toMatch(/^2 greenlets keep the gevent hub alive: pymongo `pymongo_kill_cursors_thread` and `pymongo_server_monitor_thread`, spawned at app\.py:9 \(`client = pymongo\.MongoClient\(\.\.\.\)`\), held by module global `client`/);
      expect(finding.location).toMatchObject({ line: 9 });
      expect(finding.location.file).toMatch(/fixtures\/uwsgi-pymongo\/app\.py$/);
      expect(worker.findings[1]).toMatchObject({ id: 'uwsgi-gevent-wait-for-hub/other-greenlets', severity: 'harmless' });
      expect(worker.python.readBy).toBe('gil-free');
    }
    expect(leftovers()).toEqual([]);
  });

  it('GitHub and JUnit carry the stuck workers\' finding on the app line (run mode)', async () => {
    const github = await runCli(['run', '-s', 'SIGHUP', '-m', '10s', '--hold', '1s', '--py-stacks', '--format', 'github', '--', '/usr/bin/uwsgi', '--ini', 'fixtures/uwsgi-pymongo/hang.ini']);
    expect(github.code).toBe(1);
    expect(github.stdout).toMatch(/^::error title=2 stuck workers%3A 2 greenlets keep the gevent hub alive%3A pymongo .*,file=(\/.*\/)?fixtures\/uwsgi-pymongo\/app\.py,line=9,col=1::/m);
    const junit = await runCli(['run', '-s', 'SIGHUP', '-m', '10s', '--hold', '1s', '--py-stacks', '--format', 'junit', '--', '/usr/bin/uwsgi', '--ini', 'fixtures/uwsgi-pymongo/hang.ini']);
    expect(junit.stdout).toMatch(/<testcase classname="reload-doctor.culprits" name="2 stuck workers: 2 greenlets keep the gevent hub alive: [^"]*" time="0" file="(\/.*\/)?fixtures\/uwsgi-pymongo\/app.py" line="9">/);
    expect(leftovers()).toEqual([]);
  });

  it('the control reload is unaffected: reloaded at once, exit 0', async () => {
    const uwsgi = await startUwsgi('control.ini');
    const result = await runCli([String(uwsgi.master), '--signal', 'SIGHUP', '--mercy', '10s', '--py-stacks', '--json']);
    expect(result.code).toBe(0);
    expect(result.json.verdict.outcome).toBe('reloaded');
    expect(result.json.verdict.exitedAfterMs).toBeLessThan(3000);
  });

  it('a live worker is read in a short pause and goes on serving requests', async () => {
    const uwsgi = await startUwsgi('hang.ini');
    const [port] = listeningTcp(uwsgi.master).map((row) => row.localPort);
    expect(await get(port!)).toBe(200);
    for (const worker of uwsgi.workers) {
      const read = await readPythonStacks(worker, 5000);
      expect(read.note).toBeUndefined();
      expect(read.python!.readBy).toBe('gil-free');
      // Measured from /proc while gdb held it; ~45-140 ms here. The bound only catches a read
      // that holds the worker for seconds (symbols loaded, a call stuck), not a slow machine.
      expect(read.python!.pauseMs).toBeLessThan(2000);
      expect(read.python!.greenlets.filter((g) => g.keepsHubAlive)).toHaveLength(2);
    }
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(port!)));
    expect(answers.every((status) => status === 200)).toBe(true);
    expect(uwsgi.log()).not.toMatch(/Traceback|Segmentation|signal 5/);
    expect(leftovers()).toEqual([]);
  });
});

describe('plain Python processes with --py-stacks', () => {
  beforeEach((ctx) => { needs(ctx, 'python'); needs(ctx, 'gdb'); });

  /** The fixture started, SIGTERM, read with --py-stacks, killed: still alive at the mercy (exit 1). */
  async function readAfterSigterm(fixture: string): Promise<any> {
    const app = await startFixture(fixture);
    const result = await runCli([String(app.pid), '--mercy', '2s', '--py-stacks', '--kill', '--json']);
    expect(result.code).toBe(1);
    return result.json;
  }

  it('a main thread that holds the GIL in a CPU loop is read through a pending call, and blamed at its line', async () => {
    const json = await readAfterSigterm('python/busy-main.py');
    expect(json.snapshot.python.readBy).toBe('pending-call');
    expect(json.snapshot.notes.filter((note: string) => note.startsWith('--py-stacks'))).toEqual([]); // its buffer was unmapped
    const [finding] = json.findings;
    expect(finding).toMatchObject({ id: 'python-threads/main-thread', location: { line: 17 } });
    expect(finding.title).toMatch(/the main thread is still running at busy-main\.py:17 \(`total \+= i \* i`\)/);
    expect(leftovers()).toEqual([]);
  });

  it('APScheduler: the job Python waits for at exit, its line, and the fix', async (ctx) => {
    needs(ctx, 'apscheduler');
    const json = await readAfterSigterm('python/apscheduler-job.py');
    const finding = json.findings.find((f: any) => f.id === 'python-threads/apscheduler');
    expect(finding.location).toMatchObject({ line: 13 });
    expect(finding.why).toMatch(/main thread has finished/);
    expect(finding.fix).toMatch(/scheduler\.shutdown\(wait=False\)/);
    expect(leftovers()).toEqual([]);
  });

  it('kombu: a consumer loop in a thread that is not a daemon thread (RabbitMQ)', async (ctx) => {
    needs(ctx, 'kombu');
    const json = await readAfterSigterm('python/kombu-consumer.py');
    const finding = json.findings.find((f: any) => f.id === 'python-threads/kombu');
    expect(finding.title).toMatch(/kombu's thread `jobs-consumer` is still running and Python waits for it at exit/);
    expect(finding.fix).toMatch(/should_stop = True/);
    expect(leftovers()).toEqual([]);
  });

  it('a process that is not Python: one line, and the /proc view', async () => {
    const app = await startFixture('unref-only.cjs');
    const result = await runCli([String(app.pid), '--mercy', '1s', '--no-inspector', '--py-stacks', '--json']);
    expect(result.json.snapshot?.notes ?? []).not.toContainEqual(expect.stringMatching(/Traceback|Error:/));
  });
});
