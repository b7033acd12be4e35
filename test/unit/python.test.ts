// --py-stacks, in milliseconds: the payload's answer decoded as hostile data, and the rules on
// Python states recorded from real runs (test/snapshots/python-*.json: the seed's stuck uWSGI
// worker, an APScheduler job and a kombu consumer that Python waits for at exit).
import { describe, expect, it } from 'vitest';
import { explain } from '../../src/explain/engine.js';
import { decodePythonState } from '../../src/inspect/python-stacks.js';
import { pythonStacksSource } from '../../src/in-target/python-stacks-payload.js';
import { recorded } from './rule-cases.js';

describe('the payload answer, decoded', () => {
  it('refuses what is not its own format', () => {
    for (const text of ['', 'null', '[]', '{"v":2}', '{not json']) expect(decodePythonState(text)).toBeUndefined();
  });

  it('keeps only well-typed fields, caps lists and strings, and ties watchers to greenlets', () => {
    const frames = Array.from({ length: 100 }, (_, i) => ({ file: `/app/${'x'.repeat(2000)}.py`, line: i, function: 7, code: null }));
    const decoded = decodePythonState(JSON.stringify({
      v: 1,
      threads: [{ ident: 1, name: 'MainThread', daemon: false, main: true, stack: frames }, { ident: 'x' }, { ident: 99, name: 'poller' }],
      greenlets: [{ id: 99, type: 'Greenlet', stack: [], spawnedAt: [] }, { id: 5, type: 'Hub' }],
      hubWatchers: [{ type: 'timer', wakes: 99 }, { type: 'io', callback: 'cb' }],
      holders: [{ name: 'client', type: 'pymongo.MongoClient', file: '/app/a.py', line: 3 }, { name: 'client', type: 'pymongo.MongoClient', file: '/app/a.py', line: 3 }, { name: 5 }],
      truncated: true, walkMs: 'fast',
    }))!;
    expect(decoded.threads.map((t) => t.ident)).toEqual([1]); // 99 is a greenlet (monkey-patched thread): listed once
    expect(decoded.threads[0]!.stack).toHaveLength(40);
    expect(decoded.threads[0]!.stack[0]!.file.length).toBe(1000);
    expect(decoded.threads[0]!.stack[0]!.function).toBe('?');
    expect(decoded.greenlets.map((g) => [g.id, g.keepsHubAlive])).toEqual([[99, true], [5, false]]);
    expect(decoded.otherHubWatchers).toEqual([{ type: 'io', callback: 'cb' }]);
    expect(decoded.holders).toHaveLength(1);
    expect(decoded).toMatchObject({ truncated: true, walkMs: 0 });
  });

  it('the source handed to PyRun_SimpleString runs the payload in its own globals', () => {
    const source = pythonStacksSource({ outputPath: '/tmp/x"y/state.json', deadlineEpochS: 1, walkBudgetS: 0.25 });
    expect(source).toMatch(/^exec\(".*", \{\}\)\n$/s);
    const body = JSON.parse(source.slice(5, source.lastIndexOf(', {})')));
    expect(body).toContain('OUTPUT = "/tmp/x\\"y/state.json"');
    expect(body).toContain('except BaseException:');
    expect(body).toContain('O_NOFOLLOW');
  });
});

describe('rules on recorded Python states', () => {
  it('the seed: the two pymongo greenlets, the app line that spawned them, the global that holds the client', () => {
    const findings = explain(recorded('python-uwsgi-hang.worker'));
    const [keepers, others] = findings;
    expect(keepers).toMatchObject({ id: 'uwsgi-gevent-wait-for-hub', severity: 'blocks', owner: { name: 'pymongo' } });
    expect(keepers!.title).toBe('2 greenlets keep the gevent hub alive: pymongo `pymongo_kill_cursors_thread` and `pymongo_server_monitor_thread`, spawned at app.py:9 (`client = pymongo.MongoClient(...)`), held by module global `client` (app.py:9)');
    expect(keepers!.location).toMatchObject({ file: '/work/main/fixtures/uwsgi-pymongo/app.py', line: 9 });
    expect(keepers!.fix).toMatch(/gevent\.signal_handler\(signal\.SIGHUP, client\.close\).*or drop gevent-wait-for-hub/);
    // uWSGI's own greenlets and the hub: listed apart, not blamed.
    expect(others).toMatchObject({ id: 'uwsgi-gevent-wait-for-hub/other-greenlets', severity: 'harmless' });
    expect(others!.title).toMatch(/the gevent hub/);
  });

  it('without --py-stacks the same worker gets the general explanation', () => {
    const { python: _python, ...snapshot } = recorded('python-uwsgi-hang.worker');
    const [finding] = explain(snapshot);
    expect(finding!.title).toBe('uWSGI worker waits for every greenlet (gevent-wait-for-hub)');
  });

  it('an APScheduler job that Python waits for at exit: the job line, the scheduler global, its fix', () => {
    const [finding] = explain(recorded('python-apscheduler-job'));
    expect(finding).toMatchObject({ id: 'python-threads/apscheduler', severity: 'blocks', location: { file: '/work/main/fixtures/python/apscheduler-job.py', line: 13 } });
    expect(finding!.title).toMatch(/thread `ThreadPoolExecutor-0_0` is still running and Python waits for it at exit: apscheduler-job\.py:13/);
    expect(finding!.why).toMatch(/main thread has finished.*joins the pool's threads.*module global `scheduler`/);
    expect(finding!.fix).toMatch(/scheduler\.shutdown\(wait=False\)/);
  });

  it('a kombu consumer loop in a thread that is not a daemon thread', () => {
    const findings = explain(recorded('python-kombu-consumer'));
    const kombu = findings.find((f) => f.id === 'python-threads/kombu')!;
    expect(kombu.title).toMatch(/kombu's thread `jobs-consumer`/);
    expect(kombu.fix).toMatch(/should_stop = True/);
  });
});
