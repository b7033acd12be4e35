// One culprit family per block, end to end: a fixture using the real library against the real
// server on this machine, the built CLI against it, and the finding it must produce. (The
// rules' own cases replay recordings of these runs: test/unit/rules.test.ts.)
// A family whose server is not reachable is skipped, naming the server.
import { describe, expect, it } from 'vitest';
import { blamedLine, blamedLines, freePort, runCli, startFixture } from './helpers.js';
import { needs, type Need } from './needs.js';

async function findingsFor(fixture: string, env: Record<string, string> = {}) {
  const app = await startFixture(fixture, env);
  const result = await runCli(['handles', String(app.pid), '--json']);
  expect(result.code).toBe(0);
  return result.json.findings as any[];
}

describe('culprit rules', () => {
  it('mongodb: connected MongoClient never closed (wire-protocol peer)', async () => {
    const peer = await startFixture('mongo-peer.cjs');
    const [finding, ...rest] = await findingsFor('mongo-connected.cjs', { MONGO_URL: `mongodb://127.0.0.1:${peer.ready.port}/?directConnection=true` });
    expect(finding).toMatchObject({ id: 'mongodb', severity: 'blocks', package: { name: 'mongodb' } });
    expect(finding.title).toMatch(/MongoClient never closed — .*sockets? to 127\.0\.0\.1:\d+.*timer/);
    expect(finding.fix).toContain('await client.close()');
    expect(rest.filter((f) => f.package?.name === 'mongodb')).toEqual([]); // one finding, not one per handle
  });

  it('mongodb: server unreachable is a wait until serverSelectionTimeoutMS (warning)', async () => {
    const [finding] = await findingsFor('mongo-unreachable.cjs', { MONGO_URL: `mongodb://127.0.0.1:${await freePort()}/?directConnection=true` });
    expect(finding).toMatchObject({ id: 'mongodb', severity: 'warning' });
    expect(finding.title).toMatch(/still trying to reach its server/);
    expect(finding.why).toMatch(/serverSelectionTimeoutMS/);
  });

  it('ioredis: connected client never quit (real Redis)', async (ctx) => {
    needs(ctx, 'redis');
    const [finding] = await findingsFor('redis-connected.cjs');
    expect(finding).toMatchObject({ id: 'ioredis', severity: 'blocks', package: { name: 'ioredis' } });
    expect(finding.title).toMatch(/socket to 127\.0\.0\.1:6379/);
    expect(finding.fix).toMatch(/redis\.quit\(\)/);
  });

  it('ioredis: reconnecting to a closed port forever', async () => {
    const [finding] = await findingsFor('redis-reconnecting.cjs', { REDIS_PORT: String(await freePort()) });
    expect(finding).toMatchObject({ id: 'ioredis', package: { name: 'ioredis' } });
    expect(finding.title).toMatch(/reconnecting forever/);
  });

  it('pg: pool with idleTimeoutMillis 0 never ends (real PostgreSQL)', async (ctx) => {
    needs(ctx, 'postgres');
    const [finding] = await findingsFor('pg-pool-idle.cjs');
    expect(finding).toMatchObject({ id: 'pg', severity: 'blocks' });
    expect(finding.title).toMatch(/pool never ended — 2 sockets to 127\.0\.0\.1:5432/);
    expect(finding.fix).toMatch(/pool\.end\(\)/);
  });

  it('pg: idle clients with idleTimeoutMillis are a warning with the wait', async (ctx) => {
    needs(ctx, 'postgres');
    const [finding] = await findingsFor('pg-pool-idle.cjs', { IDLE_TIMEOUT_MS: '60000' });
    expect(finding).toMatchObject({ id: 'pg', severity: 'warning', package: { name: 'pg-pool' } });
    expect(finding.why).toMatch(/exits on its own in about \d+(\.\d)? s/);
  });

  it('mysql2: pool never ended (real MariaDB)', async (ctx) => {
    needs(ctx, 'mariadb');
    const [finding] = await findingsFor('mysql-pool.cjs');
    expect(finding).toMatchObject({ id: 'mysql2', severity: 'blocks', package: { name: 'mysql2' } });
    expect(finding.title).toMatch(/socket to 127\.0\.0\.1:3306/);
    expect(finding.fix).toMatch(/pool\.end\(\)/);
  });

  it('amqplib: connection with heartbeats never closed (real RabbitMQ)', async (ctx) => {
    needs(ctx, 'rabbitmq');
    const [finding] = await findingsFor('amqp-connection.cjs');
    expect(finding).toMatchObject({ id: 'amqplib', severity: 'blocks', package: { name: 'amqplib' } });
    expect(finding.title).toMatch(/1 socket to 127\.0\.0\.1:5672, .*timer every 5 s/);
    expect(finding.fix).toMatch(/connection\.close\(\)/);
  });
});

// `run` records creation stacks, so each finding points at the fixture's own line that opened
// the client (marked `// blame:client`), not at the library's internals.
describe('run mode: the app line that opened the client', () => {
  const cases: Array<{ family: string; fixture: string; server?: Need; env?: () => Promise<Record<string, string>> }> = [
    { family: 'mongodb', fixture: 'mongo-connected.cjs', env: async () => {
      const peer = await startFixture('mongo-peer.cjs');
      return { MONGO_URL: `mongodb://127.0.0.1:${peer.ready.port}/?directConnection=true` };
    } },
    { family: 'ioredis', fixture: 'redis-connected.cjs', server: 'redis' },
    { family: 'pg', fixture: 'pg-pool-idle.cjs', server: 'postgres' },
    { family: 'mysql2', fixture: 'mysql-pool.cjs', server: 'mariadb' },
    { family: 'amqplib', fixture: 'amqp-connection.cjs', server: 'rabbitmq' },
  ];
  for (const { family, fixture, server, env } of cases) {
    it(`${family}: ${fixture}`, async (ctx) => {
      if (server) needs(ctx, server);
      const result = await runCli(['run', '--mercy', '1500ms', '--ready', 'log:^READY', '--format', 'json', '--', process.execPath, `fixtures/${fixture}`],
        { env: (await env?.()) ?? {} });
      expect(result.code).toBe(1);
      const finding = result.json.findings.find((f: any) => f.id === family);
      expect(finding.location.file).toBe(`fixtures/${fixture}`);
      expect(blamedLines(fixture, 'client')).toContain(finding.location.line);
      expect(finding.handles.some((h: any) => h.createdIn?.file === `fixtures/${fixture}`)).toBe(true);
    });
  }
});

/** `reload-doctor run` on a fixture that hangs; returns the JSON document. */
async function runFixture(fixture: string, env: Record<string, string> = {}) {
  const result = await runCli(['run', '--mercy', '1500ms', '--ready', 'log:^READY', '--format', 'json', '--', process.execPath, `fixtures/${fixture}`], { env });
  return result;
}

describe('Node built-ins and WebSockets left open (run mode)', () => {
  it('ws: an upgraded WebSocket connection that server.close() cannot close', async () => {
    const result = await runFixture('websocket-open.cjs');
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'websocket-connections');
    expect(finding).toMatchObject({ severity: 'blocks', package: { name: 'ws' } });
    expect(finding.title).toMatch(/^1 upgraded \(WebSocket\) connection still open/);
    expect(finding.fix).toMatch(/wss\.clients.*close\(1001/);
    expect(finding.location).toMatchObject({ file: 'fixtures/websocket-open.cjs', line: blamedLine('websocket-open.cjs', 'listen') });
    // Not mistaken for an HTTP keep-alive connection.
    expect(result.json.findings.some((f: any) => f.id === 'http-server-connections')).toBe(false);
  });

  const leftovers: Array<[string, string, RegExp]> = [
    ['watch', 'generic/fs-watcher', /watcher\.close\(\)/],
    ['udp', 'generic/udp-socket', /socket\.close\(\)/],
    ['net', 'generic/tcp-server', /server\.close\(\)/],
    ['port', 'generic/message-port', /port\.close\(\)/],
  ];
  for (const [leftover, id, fix] of leftovers) {
    it(`${leftover}: ${id} at the line that created it`, async () => {
      const result = await runFixture('builtin-leftovers.cjs', { LEFTOVER: leftover });
      expect(result.code).toBe(1);
      const finding = result.json.findings.find((f: any) => f.id === id);
      expect(finding.fix).toMatch(fix);
      if (leftover !== 'port') {
        // A MessagePort is a JS object with no async resource of its own: no creation stack.
        expect(finding.location).toMatchObject({ file: 'fixtures/builtin-leftovers.cjs', line: blamedLine('builtin-leftovers.cjs', leftover) });
      }
    });
  }
});

describe('standard input (attach mode: stdin is a pipe from the supervisor)', () => {
  it('readline on stdin keeps the process alive: named, with the fix', async () => {
    const app = await startFixture('stdin-reader.cjs', {}, [], 'pipe');
    const result = await runCli([String(app.pid), '--mercy', '1500ms', '--json']);
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'generic/stdio' || f.id === 'generic/pipe');
    expect(finding.handles[0].details.stdio).toBe('stdin');
    expect(finding.why).toMatch(/standard input is being read/);
    expect(finding.fix).toMatch(/interface\.close\(\)/);
  });
});

describe('harmless: must not be blamed', () => {
  it("fetch() (undici) leaves an idle keep-alive socket: unref'd, the process exits", async () => {
    const result = await runFixture('fetch-idle.cjs');
    expect(result.code).toBe(0);
    expect(result.json.verdict.outcome).toBe('exited');
  });

  it('a response body never read: its socket is paused, so it does not hold the process', async () => {
    const result = await runFixture('unread-response.cjs');
    expect(result.code).toBe(0);
    expect(result.json.verdict.outcome).toBe('exited');
  });

  it("an http.Agent's idle keep-alive socket is unref'd: listed as not blocking, and the process exits", async () => {
    const app = await startFixture('agent-idle.cjs');
    const listed = await runCli(['handles', String(app.pid), '--json']);
    const client = listed.json.notBlocking.find((h: any) => h.kind === 'tcp-socket' && h.details.remote === `127.0.0.1:${app.ready.port}`);
    expect(client).toMatchObject({ blocking: false, notBlockingBecause: "unref'd" });
    const blamed = listed.json.findings.flatMap((f: any) => f.handles);
    expect(blamed.some((h: any) => h.details.remote === `127.0.0.1:${app.ready.port}`)).toBe(false);
    const probed = await runCli([String(app.pid), '--mercy', '10s', '--json']);
    expect(probed.code).toBe(0);
  });
});

describe('more libraries (run mode, real libraries)', () => {
  it('mongoose: connection never disconnected (wire-protocol peer)', async () => {
    const peer = await startFixture('mongo-peer.cjs');
    const result = await runFixture('mongoose-connected.cjs', { MONGO_URL: `mongodb://127.0.0.1:${peer.ready.port}/?directConnection=true` });
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'mongodb');
    expect(finding.title).toMatch(/mongoose connection never closed/);
    expect(finding.fix).toMatch(/await mongoose\.disconnect\(\)/);
    expect(finding.location).toMatchObject({ file: 'fixtures/mongoose-connected.cjs', line: blamedLine('mongoose-connected.cjs', 'client') });
  });

  it('mongodb+srv: the SRV poller of a sharded cluster is named too (DNS and mongos peers)', async () => {
    const mongos = await startFixture('mongo-peer.cjs', { MONGOS: '1' });
    const dnsPeer = await startFixture('dns-peer.cjs', { SRV_PORT: String(mongos.ready.port) });
    const result = await runFixture('mongo-srv.cjs', { DNS_PORT: String(dnsPeer.ready.port) });
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'mongodb');
    expect(finding.handles.some((h: any) => h.kind === 'timer' && h.owner.file.endsWith('lib/sdam/srv_polling.js') && h.details.delay === 60000)).toBe(true);
    expect(finding.why).toMatch(/SRV poller .* every 60 s/);
    expect(finding.location).toMatchObject({ file: 'fixtures/mongo-srv.cjs', line: blamedLine('mongo-srv.cjs', 'client') });
  });

  it('node-redis: client never closed (real Redis)', async (ctx) => {
    needs(ctx, 'redis');
    const result = await runFixture('node-redis-connected.cjs');
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'node-redis');
    expect(finding).toMatchObject({ severity: 'blocks', package: { name: '@redis/client' } });
    expect(finding.title).toMatch(/1 socket to 127\.0\.0\.1:6379/);
    expect(finding.location).toMatchObject({ file: 'fixtures/node-redis-connected.cjs', line: blamedLine('node-redis-connected.cjs', 'client') });
  });

  it('node-redis: reconnecting to a closed port forever (its timer has no source: named by its creator)', async () => {
    const result = await runFixture('node-redis-reconnecting.cjs', { REDIS_PORT: String(await freePort()) });
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'node-redis');
    expect(finding).toMatchObject({ package: { name: '@redis/client' } });
    expect(finding.title).toMatch(/reconnecting forever — 1 timer/);
  });

  it('chokidar: a persistent watcher never closed', async () => {
    const result = await runFixture('chokidar-watch.cjs');
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'chokidar');
    expect(finding).toMatchObject({ severity: 'blocks', package: { name: 'chokidar' } });
    expect(finding.title).toMatch(/file watchers? never closed — \d+ file watchers?/);
    expect(finding.fix).toMatch(/await watcher\.close\(\)/);
  });

  it('node-cron: a scheduled task never stopped', async () => {
    const result = await runFixture('cron-task.cjs');
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'node-cron');
    expect(finding).toMatchObject({ severity: 'blocks', package: { name: 'node-cron' } });
    expect(finding.fix).toMatch(/task\.stop\(\)/);
    expect(finding.location).toMatchObject({ file: 'fixtures/cron-task.cjs', line: blamedLine('cron-task.cjs', 'cron') });
  });

  it('bullmq: a Worker never closed, its ioredis connections included (real Redis)', async (ctx) => {
    needs(ctx, 'redis');
    const result = await runFixture('bullmq-worker.cjs');
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'bullmq');
    expect(finding).toMatchObject({ severity: 'blocks', package: { name: 'bullmq' } });
    expect(finding.title).toMatch(/sockets to 127\.0\.0\.1:6379/);
    expect(finding.fix).toMatch(/await worker\.close\(\)/);
    expect(result.json.findings.some((f: any) => f.id === 'ioredis')).toBe(false);
    expect(finding.location).toMatchObject({ file: 'fixtures/bullmq-worker.cjs', line: blamedLine('bullmq-worker.cjs', 'client') });
  });

  it('socket.io: server.close() leaves clients and heartbeats; io.close() is the fix', async () => {
    const result = await runFixture('socketio-server.cjs');
    expect(result.code).toBe(1);
    const finding = result.json.findings.find((f: any) => f.id === 'socket.io');
    expect(finding.title).toMatch(/server never closed — 1 client connection/);
    expect(finding.fix).toMatch(/await io\.close\(\)/);
    expect(finding.handles.some((h: any) => h.details.upgraded)).toBe(true);
    expect(result.json.findings.some((f: any) => f.id === 'websocket-connections')).toBe(false);
    expect(finding.location.file).toBe('fixtures/socketio-server.cjs');
  });

  it('prom-client default metrics and a pino transport (a worker thread) are not blamed', async () => {
    const result = await runFixture('metrics-and-logs.cjs');
    expect(result.code).toBe(0);
    expect(result.json.verdict.outcome).toBe('exited');
  });

  it('a worker thread left running is named with its thread id (workers run normally under run)', async () => {
    const result = await runFixture('worker-left.cjs');
    expect(result.code).toBe(1);
    const worker = result.json.findings.flatMap((f: any) => f.handles).find((h: any) => h.kind === 'worker-thread');
    expect(worker.details.threadId).toBe(1);
    expect(worker.details.file).toMatch(/fixtures\/worker-left\.worker\.cjs$/);
  });
});
