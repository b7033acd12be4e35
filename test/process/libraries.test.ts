// The services people actually run, built from the real npm packages against real servers
// (or a broker this test starts): for each family, the library the app called is named (not
// the driver under it), its internal handles are one finding, the app's own line is shown and
// the fix is that library's close call — in `run` and in attach mode. Then what the report
// says about waits that end by themselves, shutdown helpers, the exerciser's own connection,
// child processes, source maps and CI output.
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blamedLines, freePort, listeningPorts, portIsFree, ROOT, runCli, startFixture, startProcess } from './helpers.js';
import { needs, type Need } from './needs.js';

/** A broker of our own on a free port, killed after the test. */
async function startBroker(kind: 'nats' | 'mosquitto'): Promise<Record<string, string>> {
  const port = await freePort();
  const argv = kind === 'nats' ? ['/usr/sbin/nats-server', '-a', '127.0.0.1', '-p', String(port)] : ['/usr/sbin/mosquitto', '-p', String(port)];
  const broker = await startProcess(argv, {}, 'ignore', { ready: false });
  for (let waited = 0; !listeningPorts(broker.pid).includes(port); waited += 50) {
    if (waited > 10_000) throw new Error(`${kind} did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return kind === 'nats' ? { NATS_PORT: String(port) } : { MQTT_PORT: String(port) };
}

interface FamilyCase {
  fixture: string;
  id: string;
  /** The package the finding names: the library the app called. */
  library: string;
  fix: RegExp;
  /** Drivers under it that must not get findings of their own. */
  notBlamed?: string[];
  /** The fixture lines that may be shown (`// blame:<id>`). */
  lines?: string[];
  needs?: Need[];
  env?: () => Promise<Record<string, string>>;
}

const FAMILIES: FamilyCase[] = [
  { fixture: 'knex-pg.cjs', id: 'knex', library: 'knex', fix: /await knex\.destroy\(\)/, notBlamed: ['pg', 'generic'], needs: ['postgres'] },
  { fixture: 'knex-mysql.cjs', id: 'knex', library: 'knex', fix: /await knex\.destroy\(\)/, notBlamed: ['mysql2', 'generic'], needs: ['mariadb'] },
  { fixture: 'sequelize-pg.cjs', id: 'sequelize', library: 'sequelize', fix: /await sequelize\.close\(\)/, notBlamed: ['pg', 'generic'], needs: ['postgres'] },
  { fixture: 'bull-queue.cjs', id: 'bull', library: 'bull', fix: /await queue\.close\(\)/, notBlamed: ['ioredis', 'generic'], needs: ['redis'] },
  { fixture: 'cron-job.cjs', id: 'cron', library: 'cron', fix: /job\.stop\(\)/, notBlamed: ['generic'] },
  { fixture: 'node-schedule-job.cjs', id: 'node-schedule', library: 'node-schedule', fix: /gracefulShutdown\(\)/, notBlamed: ['generic'] },
  { fixture: 'amqp-manager.cjs', id: 'amqp-connection-manager', library: 'amqp-connection-manager', fix: /await connection\.close\(\)/, notBlamed: ['amqplib', 'generic'], needs: ['rabbitmq'] },
  { fixture: 'kafkajs-unreachable.cjs', id: 'kafkajs', library: 'kafkajs', fix: /producer\.disconnect\(\)/, notBlamed: ['generic'], env: async () => ({ KAFKA_PORT: String(await freePort()) }) },
  { fixture: 'nats-conn.cjs', id: 'nats', library: 'nats', fix: /nc\.drain\(\)/, notBlamed: ['generic'], needs: ['nats'], env: () => startBroker('nats') },
  { fixture: 'mqtt-client.cjs', id: 'mqtt', library: 'mqtt', fix: /client\.endAsync\(\)/, notBlamed: ['generic'], needs: ['mosquitto'], env: () => startBroker('mosquitto') },
  { fixture: 'apollo-server.cjs', id: 'apollo-server', library: '@apollo/server', fix: /await server\.stop\(\)/, notBlamed: ['http-server-connections', 'generic'] },
  { fixture: 'nest-app.cjs', id: 'nestjs', library: '@nestjs/core', fix: /await app\.close\(\)/, notBlamed: ['express', 'generic'] },
];

const mercyArgs = ['--mercy', '1500ms'];
const familyOf = (id: string) => id.split('/')[0]!;

describe('library families: run mode names the library the app called, its close call and the app line', () => {
  for (const family of FAMILIES) {
    it(`${family.id}: ${family.fixture}`, async (ctx) => {
      if (family.needs) needs(ctx, ...family.needs);
      const env = (await family.env?.()) ?? {};
      const result = await runCli(['run', ...mercyArgs, '--ready', 'log:^READY', '--format', 'json', '--', process.execPath, `fixtures/families/${family.fixture}`], { env });
      expect(result.code).toBe(1);
      const finding = result.json.findings.find((f: any) => f.id === family.id);
      expect(finding.package.name).toBe(family.library);
      expect(finding.fix).toMatch(family.fix);
      // Its drivers' and internals' handles are in this one finding, not beside it.
      expect(result.json.findings.filter((f: any) => family.notBlamed?.includes(familyOf(f.id)))).toEqual([]);
      // The app's own line: the one that built the client, or issued the query that opened it.
      const file = `fixtures/families/${family.fixture}`;
      expect(finding.location.file).toBe(file);
      const appLines = ['client', 'query', 'listen', 'job'].flatMap((id) => blamedLines(`families/${family.fixture}`, id));
      expect(appLines).toContain(finding.location.line);
    });
  }
});

describe('library families: attach mode (no creation stacks) names the same library and fix', () => {
  for (const family of FAMILIES) {
    it(`${family.id}: ${family.fixture}`, async (ctx) => {
      if (family.needs) needs(ctx, ...family.needs);
      const app = await startFixture(`families/${family.fixture}`, (await family.env?.()) ?? {});
      const result = await runCli([String(app.pid), ...mercyArgs, '--json']);
      expect(result.code).toBe(1);
      const finding = result.json.findings.find((f: any) => f.id === family.id);
      expect(finding.package.name).toBe(family.library);
      expect(finding.fix).toMatch(family.fix);
      expect(result.json.findings.filter((f: any) => family.notBlamed?.includes(familyOf(f.id)))).toEqual([]);
    });
  }
});

describe('forever, or later: a pool that lets go by itself says when', () => {
  const run = (fixture: string, env: Record<string, string> = {}) => runCli(['run', ...mercyArgs, '--ready', 'log:^READY', '--format', 'json', '--', process.execPath, `fixtures/families/${fixture}`], { env });

  it("knex with its default pool.min (2) holds the process forever", async (ctx) => {
    needs(ctx, 'postgres');
    const finding = (await run('knex-pg.cjs')).json.findings.find((f: any) => f.id === 'knex');
    expect(finding.severity).toBe('blocks');
    expect(finding.why).toMatch(/never goes below pool\.min \(2;.*forever/);
  });

  it('knex with pool.min 0 exits on its own after idleTimeoutMillis: a warning that says when', async (ctx) => {
    needs(ctx, 'postgres');
    const finding = (await run('knex-pg.cjs', { POOL_MIN: '0', IDLE_MS: '20000' })).json.findings.find((f: any) => f.id === 'knex');
    expect(finding.severity).toBe('warning');
    const [, seconds] = /will exit on its own in ~(\d+(?:\.\d)?) s, after the mercy/.exec(finding.why) ?? [];
    // Idle since the query before READY: 20 s of idleness, less the mercy, plus one reaping turn.
    expect(Number(seconds)).toBeGreaterThan(10);
    expect(Number(seconds)).toBeLessThanOrEqual(21);
  });

  it('Sequelize (pool.idle 10 s by default) will exit on its own: said with the wait', async (ctx) => {
    needs(ctx, 'postgres');
    const finding = (await run('sequelize-pg.cjs')).json.findings.find((f: any) => f.id === 'sequelize');
    expect(finding.severity).toBe('warning');
    const [, seconds] = /will exit on its own in ~(\d+(?:\.\d)?) s/.exec(finding.why) ?? [];
    expect(Number(seconds)).toBeGreaterThan(3);
    expect(Number(seconds)).toBeLessThanOrEqual(11);
  });
});

describe('lazy clients: the app line that issued the first call', () => {
  it('kafkajs re-arms its retry timer from promise jobs: the app line that started it still shows (inherited)', async () => {
    const result = await runCli(['run', ...mercyArgs, '--ready', 'log:^READY', '--format', 'json', '--', process.execPath, 'fixtures/families/kafkajs-unreachable.cjs'], { env: { KAFKA_PORT: String(await freePort()) } });
    const finding = result.json.findings.find((f: any) => f.id === 'kafkajs');
    expect(finding.location.file).toBe('fixtures/families/kafkajs-unreachable.cjs');
    expect(blamedLines('families/kafkajs-unreachable.cjs', 'query')).toContain(finding.location.line);
    expect(finding.handles[0].createdInherited).toBe(true);
  });
});

describe('already handled: what the app did right is not blamed', () => {
  it("close-with-grace's safety timer is the app's own deadline (a warning), not a timer to clear", async () => {
    const result = await runCli(['run', '--mercy', '3s', '--ready', 'log:^READY', '--format', 'json', '--', process.execPath, 'fixtures/families/close-with-grace.cjs']);
    expect(result.code).toBe(1);
    const helper = result.json.findings.find((f: any) => f.id === 'shutdown-helper');
    expect(helper).toMatchObject({ severity: 'warning', package: { name: 'close-with-grace' } });
    expect(helper.title).toMatch(/close-with-grace@[\d.]+\): it will force the exit 10 s after the signal/);
    // What it waits for is the culprit; no ownerless one-shot timer is left to "clearTimeout".
    expect(result.json.findings.find((f: any) => f.id === 'generic/interval').location.line).toBe(blamedLines('families/close-with-grace.cjs', 'poll')[0]);
    expect(result.json.findings.some((f: any) => f.id === 'generic/timeout')).toBe(false);
  });

  it("attach mode: close-with-grace's timer has no source (a promise's resolve); armed at the signal, it is still the helper's", async () => {
    const app = await startFixture('families/close-with-grace.cjs');
    const result = await runCli([String(app.pid), '--mercy', '3s', '--json']);
    expect(result.json.findings.find((f: any) => f.id === 'shutdown-helper')).toMatchObject({ severity: 'warning', package: { name: 'close-with-grace' } });
    expect(result.json.findings.some((f: any) => f.id === 'generic/timeout')).toBe(false);
  });

  it('terminus closed the server before onSignal: only the forgotten interval is blamed', async () => {
    const result = await runCli(['run', '--mercy', '2s', '--ready', 'log:^READY', '--format', 'json', '--', process.execPath, 'fixtures/families/terminus.cjs']);
    expect(result.code).toBe(1);
    expect(result.json.findings.map((f: any) => f.id)).toEqual(['generic/interval']);
  });
});

describe('--exercise and the canonical drain', () => {
  it("a correct drain held only by the exerciser's idle keep-alive connection is told so, with when and closeIdleConnections", async () => {
    const port = await freePort();
    const result = await runCli(['run', '--mercy', '3s', '--ready', 'log:^READY', '--exercise', `http://127.0.0.1:${port}/slow`, '--format', 'json', '--', process.execPath, 'fixtures/canonical-drain.cjs'], { env: { PORT: String(port) } });
    expect(result.json.run.exercise.inFlight).toMatchObject({ outcome: 'completed', status: 200 });
    const [finding, ...others] = result.json.findings;
    expect(others).toEqual([]);
    expect(finding).toMatchObject({ id: 'http-server-connections', severity: 'warning' });
    expect(finding.why).toMatch(/^reload-doctor's own --exercise connection \(idle keep-alive\) went idle after server\.close\(\).*in about \d+(\.\d)? s/);
    expect(finding.fix).toMatch(/server\.closeIdleConnections\(\)/);
    expect(finding.fix).not.toMatch(/call server\.close\(\) in your shutdown handler/);
  });

  it('a dropped request fails the run, and its status line has no ✔', async () => {
    const port = await freePort();
    const result = await runCli(['run', '--mercy', '8s', '--ready', `port:${port}`, '--exercise', `http://127.0.0.1:${port}/slow`, '--', process.execPath, 'fixtures/graceful-server.cjs'], { env: { PORT: String(port), DROP_ON_TERM: '1' } });
    expect(result.code).toBe(1);
    const status = result.stdout.split('\n').find((line) => /exited .* after SIGTERM/.test(line))!;
    expect(status).not.toContain('✔');
    expect(status).toMatch(/^✖/);
  });
});

describe('run follows the Node processes the app starts', () => {
  it("a cluster primary whose worker hangs: the worker's own interval, and the primary waiting for it", async () => {
    const result = await runCli(['run', '--mercy', '2s', '--ready', 'log:^READY', '--format', 'json', '--', process.execPath, 'fixtures/cluster-primary.cjs']);
    expect(result.code).toBe(1);
    expect(result.json.tree.kind).toBe('node');
    const stuck = result.json.tree.members.filter((m: any) => m.stuck);
    expect(stuck).toHaveLength(1);
    const interval = stuck[0].findings.find((f: any) => f.id === 'generic/interval');
    expect(interval.location).toMatchObject({ file: 'fixtures/cluster-primary.cjs', line: blamedLines('cluster-primary.cjs', 'poll')[0] });
    const parent = result.json.findings.find((f: any) => f.id === 'generic/child-process');
    expect(parent.why).toMatch(new RegExp(`child process \\(pid ${stuck[0].pid}\\) is itself still alive`));
    expect(parent.fix).toMatch(/^make the child exit when your shutdown asks it to/);
    // Our flags are not part of anything shown.
    expect(JSON.stringify(result.json)).not.toMatch(/reload-doctor-run-/);
  });

  it('tsx runs the app as a child: the app is the target, not the tsx CLI', async () => {
    const result = await runCli(['run', '--mercy', '2s', '--ready', 'log:^READY', '--format', 'json', '--', `${ROOT}node_modules/.bin/tsx`, 'fixtures/typescript-app.ts']);
    expect(result.code).toBe(1);
    expect(result.json.target.pid).not.toBe(result.json.run.servicePid);
    const interval = result.json.findings.find((f: any) => f.id === 'generic/interval');
    expect(interval.location).toMatchObject({ file: 'fixtures/typescript-app.ts', line: blamedLines('typescript-app.ts', 'flush')[0] });
    expect(result.json.findings.some((f: any) => f.id === 'generic/child-process')).toBe(false);
  });
});

describe("attach mode on a cluster primary leaves its workers' inspectors closed", () => {
  it("the primary's inspector opening asks the workers to open theirs: reload-doctor closes them and says so", async () => {
    // Workers with their own inspector ports (the primary's + 1, + 2) really open them: all three free.
    let base = await freePort();
    for (let tries = 0; tries < 20 && !((await portIsFree(base + 1)) && (await portIsFree(base + 2))); tries++) base = await freePort();
    const primary = await startProcess([process.execPath, `--inspect-port=${base}`, 'fixtures/cluster-primary.cjs']);
    const workers: number[] = primary.ready.workers;
    const before = workers.map((pid) => listeningPorts(pid));
    const result = await runCli([String(primary.pid), '--mercy', '1s', '--json']);
    expect(result.json.warnings.join('\n')).toMatch(/cluster primary: when its inspector opened, Node's cluster module asked its 2 workers/);
    // Each worker whose port was free opened one (another process may take a port meanwhile).
    expect(result.json.warnings.join('\n')).toMatch(/closed the inspectors that this opened in workers? \d+/);
    // Every worker listens on exactly what it listened on before (the stuck one was also
    // looked at through its own inspector, which was closed behind it).
    workers.forEach((pid, at) => {
      if (listeningPorts(pid).length > 0 || before[at]!.length > 0) expect(listeningPorts(pid)).toEqual(before[at]);
    });
  });
});

describe('source maps in attach mode', () => {
  const cases: Array<[string, string[]]> = [
    ['tsc output with .map files (dist/)', [process.execPath, 'fixtures/sourcemapped/dist/app.js']],
    ['an esbuild bundle with its .map (bundle/)', [process.execPath, 'fixtures/sourcemapped/bundle/app.js']],
  ];
  for (const [name, argv] of cases) {
    it(`${name}: the author's file and line`, async () => {
      const app = await startProcess(argv);
      const result = await runCli([String(app.pid), '--mercy', '1s', '--json']);
      const interval = result.json.findings.find((f: any) => f.id === 'generic/interval');
      expect(interval.location).toMatchObject({ file: 'fixtures/sourcemapped/src/metrics.ts', line: blamedLines('sourcemapped/src/metrics.ts', 'flush')[0], functionName: 'flushMetrics' });
    });
  }

  it('TypeScript under node --import tsx (inline maps): the .ts line, not a transpiled column', async () => {
    const app = await startProcess([process.execPath, '--import', 'tsx', 'fixtures/typescript-app.ts']);
    const result = await runCli([String(app.pid), '--mercy', '1s', '--json']);
    const interval = result.json.findings.find((f: any) => f.id === 'generic/interval');
    expect(interval.location).toMatchObject({ file: 'fixtures/typescript-app.ts', line: blamedLines('typescript-app.ts', 'flush')[0] });
  });
});

describe('CI output that stays put', () => {
  it('GitHub annotations: paths relative to GITHUB_WORKSPACE, titles without times, identical from run to run', async () => {
    const workspace = dirname(ROOT.replace(/\/$/, ''));
    const annotate = async () => {
      const result = await runCli(['run', ...mercyArgs, '--ready', 'log:^READY', '--format', 'github', '--', process.execPath, 'fixtures/families/close-with-grace.cjs'], { env: { GITHUB_WORKSPACE: workspace } });
      return result.stdout.split('\n').filter((line) => line.startsWith('::'));
    };
    const first = await annotate();
    const second = await annotate();
    const interval = first.find((line) => line.includes('Timeout every'))!;
    expect(interval).toContain(`file=${basename(ROOT.replace(/\/$/, ''))}/fixtures/families/close-with-grace.cjs,line=`);
    expect(first.map(stripMessage).join('\n')).not.toMatch(/due in|\d+ ms \(/);
    expect(second.map(stripMessage)).toEqual(first.map(stripMessage));
  });

  it('a finding whose only location is in node_modules is annotated without a file', async () => {
    // Without creation stacks the retry timer's only place is kafkajs' own code.
    const result = await runCli(['run', ...mercyArgs, '--no-creation-stacks', '--ready', 'log:^READY', '--format', 'github', '--', process.execPath, 'fixtures/families/kafkajs-unreachable.cjs'],
      { env: { GITHUB_WORKSPACE: ROOT, KAFKA_PORT: String(await freePort()) } });
    const kafka = result.stdout.split('\n').find((line) => line.includes('kafkajs@'))!;
    expect(kafka).toMatch(/^::(error|warning) title=/);
    expect(kafka).not.toMatch(/file=/);
  });
});

/** An annotation without its message body (which may hold times such as "in 6.9 s"). */
function stripMessage(line: string): string {
  return line.replace(/^(::\w+ [^:]*)::.*$/, '$1'); // properties escape ':' as %3A
}
