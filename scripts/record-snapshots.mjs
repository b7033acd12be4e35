// Records the snapshots the rule cases replay (test/unit/rules.test.ts): each case starts a
// real fixture (real libraries, real servers, real uWSGI), diagnoses it with the built tool
// exactly as the CLI would (run, handles or a probe by pid), and saves the Snapshot it got.
// Paths under the project are rewritten to /app so the files do not depend on a checkout.
//
//   npm run record-snapshots            every case
//   npm run record-snapshots -- pg      the cases whose name contains "pg"
//
// Re-record after changing a fixture (the rule cases read its `blame:` lines) or what the
// inspector collects. Needs the machine's servers (see the README's Tests section).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { probeByPid } from '../dist/modes/attach.js';
import { listHandles } from '../dist/modes/handles.js';
import { runService } from '../dist/modes/run.js';
import { parseReadySpec } from '../dist/probe/ready.js';
import { parseSignal } from '../dist/probe/signals.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = `${ROOT}test/snapshots/`;
const started = [];

/** Starts fixtures/<file> in its own process group and waits for its READY line (or `readyWhen`). */
async function startFixture(file, env = {}, { stdin = 'ignore', command, readyWhen = /^READY (.*)\r?\n/m } = {}) {
  const [program, ...args] = command ?? [file.endsWith('.py') ? '/usr/bin/python3' : process.execPath, `fixtures/${file}`];
  const child = spawn(program, args, { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: [stdin, 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} not ready in 30 s:\n${output}`)), 30_000);
    const check = () => {
      const match = readyWhen.exec(output);
      if (match) { clearTimeout(timer); resolve(JSON.parse(match[1] ?? '{}')); }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${file} exited (${code}) before READY:\n${output}`)); });
  });
  return { pid: child.pid, child, ready };
}

function stopAll() {
  for (const child of started.splice(0)) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

const signal = parseSignal('SIGTERM');

async function underRun(file, env = {}, mercyMs = 1500) {
  Object.assign(process.env, env);
  try {
    const diagnosis = await runService({
      command: [process.execPath, `fixtures/${file}`], signal, mercyMs, ready: parseReadySpec('log:^READY'), readyTimeoutMs: 30_000,
      onServiceLine() {},
    });
    return diagnosis.snapshot;
  } finally {
    for (const key of Object.keys(env)) delete process.env[key];
  }
}

async function handlesOf(pid) {
  return (await listHandles(pid, true)).snapshot;
}

async function probed(pid, options = {}) {
  return probeByPid({ pid, signal: parseSignal(options.signal ?? 'SIGTERM'), mercyMs: options.mercyMs ?? 2000, kill: true, useInspector: true });
}

async function mongoPeer(env = {}) {
  const peer = await startFixture('mongo-peer.cjs', env);
  return `mongodb://127.0.0.1:${peer.ready.port}/?directConnection=true`;
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function get(port, path, agent, whole) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      if (whole) { res.resume(); res.on('end', resolve); } else res.once('data', () => resolve());
    }).on('error', reject);
  });
}

async function keepAlive(paths) {
  const app = await startFixture('keepalive-server.cjs');
  const agent = new http.Agent({ keepAlive: true });
  await get(app.ready.port, '/fast', agent, true);
  if (paths.includes('/slow')) await get(app.ready.port, '/slow', agent, false);
  try {
    return await handlesOf(app.pid);
  } finally {
    agent.destroy();
  }
}

async function uwsgiWorker(withMongo) {
  const env = {};
  if (withMongo) {
    await startFixture('mongo-peer.cjs', { PORT: '27017' });
    env.MONGO_URL = 'mongodb://127.0.0.1:27017/';
  }
  // Both lazy workers have loaded the app.
  const bothReady = /WSGI app 0 \(mountpoint=''\) ready[\s\S]*WSGI app 0 \(mountpoint=''\) ready/;
  const master = await startFixture('uwsgi-pymongo/hang.ini', env, { command: ['/usr/bin/uwsgi', '--ini', 'fixtures/uwsgi-pymongo/hang.ini'], readyWhen: bothReady });
  const diagnosis = await probed(master.pid, { signal: 'SIGHUP', mercyMs: 10_000 });
  return diagnosis.tree.members.find((member) => member.stuck).snapshot;
}

/** name → how to record it: `fixture` is the file the rule cases read `blame:` lines from. */
const CASES = {
  'busy-handler.probe': async () => (await probed((await startFixture('busy-handler.cjs')).pid, { mercyMs: 3000 })).snapshot,
  'uwsgi-hang.worker': () => uwsgiWorker(false),
  'uwsgi-hang-mongo.worker': () => uwsgiWorker(true),
  'python-thread.probe': async () => (await probed((await startFixture('python-thread.py')).pid, { signal: 'SIGINT', mercyMs: 1500 })).snapshot,
  'python-term-ignorer.probe': async () => (await probed((await startFixture('python-term-ignorer.py')).pid)).snapshot,
  'mongo-connected.run': async () => underRun('mongo-connected.cjs', { MONGO_URL: await mongoPeer() }),
  'mongo-connected.handles': async () => handlesOf((await startFixture('mongo-connected.cjs', { MONGO_URL: await mongoPeer() })).pid),
  'mongo-unreachable.handles': async () => handlesOf((await startFixture('mongo-unreachable.cjs', { MONGO_URL: `mongodb://127.0.0.1:${await freePort()}/?directConnection=true` })).pid),
  'mongoose-connected.run': async () => underRun('mongoose-connected.cjs', { MONGO_URL: await mongoPeer() }),
  'mongo-srv.run': async () => {
    const mongos = await startFixture('mongo-peer.cjs', { MONGOS: '1' });
    const dnsPeer = await startFixture('dns-peer.cjs', { SRV_PORT: String(mongos.ready.port) });
    return underRun('mongo-srv.cjs', { DNS_PORT: String(dnsPeer.ready.port) });
  },
  'bullmq-worker.run': () => underRun('bullmq-worker.cjs'),
  'redis-connected.handles': async () => handlesOf((await startFixture('redis-connected.cjs')).pid),
  'redis-reconnecting.run': async () => underRun('redis-reconnecting.cjs', { REDIS_PORT: String(await freePort()) }),
  'node-redis-connected.run': () => underRun('node-redis-connected.cjs'),
  'node-redis-reconnecting.run': async () => underRun('node-redis-reconnecting.cjs', { REDIS_PORT: String(await freePort()) }),
  'pg-pool-idle.handles': async () => handlesOf((await startFixture('pg-pool-idle.cjs')).pid),
  'pg-pool-idle-timeout.handles': async () => handlesOf((await startFixture('pg-pool-idle.cjs', { IDLE_TIMEOUT_MS: '60000' })).pid),
  'pg-pool-idle.run': () => underRun('pg-pool-idle.cjs'),
  'mysql-pool.handles': async () => handlesOf((await startFixture('mysql-pool.cjs')).pid),
  'amqp-connection.handles': async () => handlesOf((await startFixture('amqp-connection.cjs')).pid),
  'cron-task.run': () => underRun('cron-task.cjs'),
  'chokidar-watch.run': () => underRun('chokidar-watch.cjs'),
  'socketio-server.run': () => underRun('socketio-server.cjs'),
  'websocket-open.run': () => underRun('websocket-open.cjs'),
  'keepalive-inflight.handles': () => keepAlive(['/fast', '/slow']),
  'keepalive-idle.handles': () => keepAlive(['/fast']),
  'cluster-worker.handles': async () => handlesOf((await startFixture('cluster-primary.cjs')).ready.workers[0]),
  'forgotten-interval.run': () => underRun('forgotten-interval.mjs'),
  'forgotten-interval.handles': async () => handlesOf((await startFixture('forgotten-interval.mjs')).pid),
  'child-left.handles': async () => handlesOf((await startFixture('child-left.cjs')).pid),
  'worker-left.handles': async () => handlesOf((await startFixture('worker-left.cjs')).pid),
  'builtin-watch.run': () => underRun('builtin-leftovers.cjs', { LEFTOVER: 'watch' }),
  'builtin-udp.run': () => underRun('builtin-leftovers.cjs', { LEFTOVER: 'udp' }),
  'builtin-net.run': () => underRun('builtin-leftovers.cjs', { LEFTOVER: 'net' }),
  'builtin-port.run': () => underRun('builtin-leftovers.cjs', { LEFTOVER: 'port' }),
  'stdin-reader.handles': async () => handlesOf((await startFixture('stdin-reader.cjs', {}, { stdin: 'pipe' })).pid),
  'unref-only.handles': async () => handlesOf((await startFixture('unref-only.cjs')).pid),
  'agent-idle.handles': async () => handlesOf((await startFixture('agent-idle.cjs')).pid),
  'metrics-and-logs.handles': async () => handlesOf((await startFixture('metrics-and-logs.cjs')).pid),
  'knex-pg.run': () => underRun('families/knex-pg.cjs'),
  'knex-pg-min0.run': () => underRun('families/knex-pg.cjs', { POOL_MIN: '0', IDLE_MS: '20000' }),
  'knex-mysql.handles': async () => handlesOf((await startFixture('families/knex-mysql.cjs')).pid),
  'sequelize-pg.run': () => underRun('families/sequelize-pg.cjs'),
  'bull-queue.run': () => underRun('families/bull-queue.cjs'),
  'bull-queue.handles': async () => handlesOf((await startFixture('families/bull-queue.cjs')).pid),
  'cron-job.run': () => underRun('families/cron-job.cjs'),
  'node-schedule-job.run': () => underRun('families/node-schedule-job.cjs'),
  'amqp-manager.run': () => underRun('families/amqp-manager.cjs'),
  'kafkajs-unreachable.run': async () => underRun('families/kafkajs-unreachable.cjs', { KAFKA_PORT: String(await freePort()) }),
  'apollo-server.run': () => underRun('families/apollo-server.cjs'),
  'nest-app.run': () => underRun('families/nest-app.cjs'),
  'close-with-grace.run': () => underRun('families/close-with-grace.cjs', {}, 3000),
  'close-with-grace.probe': async () => (await probed((await startFixture('families/close-with-grace.cjs')).pid, { mercyMs: 3000 })).snapshot,
  'busy-require-retry.probe': async () => (await probed((await startFixture('busy-require-retry.cjs', {}, { command: [process.execPath, '--no-opt', 'fixtures/busy-require-retry.cjs'] })).pid, { mercyMs: 3000 })).snapshot,
  'bullmq-queue.handles': async () => handlesOf((await startFixture('holders/bullmq-queue.cjs')).pid),
  // The open-world corpus: libraries with no rule, their owner read from the live objects.
  'open-grpc-server.handles': async () => handlesOf((await startFixture('open-world/grpc-server.cjs', await peers())).pid),
  'open-grpc-stream.handles': async () => handlesOf((await startFixture('open-world/grpc-stream.cjs', await peers())).pid),
  'open-kysely-pg.handles': async () => handlesOf((await startFixture('open-world/kysely-pg.mjs')).pid),
  'open-kysely-pg.run': () => underRun('open-world/kysely-pg.mjs'),
  'open-pg-esm-pool.handles': async () => handlesOf((await startFixture('open-world/pg-esm-pool.mjs')).pid),
  'open-postgres-js.handles': async () => handlesOf((await startFixture('open-world/postgres-js.mjs')).pid),
  'open-eventsource.handles': async () => handlesOf((await startFixture('open-world/eventsource-client.mjs', await peers())).pid),
  'open-generic-pool.handles': async () => handlesOf((await startFixture('open-world/generic-pool.cjs')).pid),
  'open-worker-thread.handles': async () => handlesOf((await startFixture('open-world/worker-thread.mjs')).pid),
  'open-watch-file.handles': async () => handlesOf((await startFixture('open-world/watch-file.cjs')).pid),
};

/** The open-world corpus's peers (gRPC, SMTP, HTTP event stream, HTTP/2, WebSocket), started once, their ports as the fixtures read them. */
let peersStarted;
async function peers() {
  peersStarted ??= (async () => {
    const child = spawn(process.execPath, ['fixtures/open-world/peers.cjs'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    process.once('exit', () => child.kill('SIGKILL'));
    const ports = await new Promise((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const match = /^READY (.*)\r?\n/m.exec(output);
        if (match) resolve(JSON.parse(match[1]));
      });
      child.once('exit', () => reject(new Error(`the peers exited: ${output}`)));
    });
    return { GRPC_PORT: String(ports.grpc), SMTP_PORT: String(ports.smtp), HTTP_PORT: String(ports.http), H2_PORT: String(ports.h2), WS_PORT: String(ports.ws) };
  })();
  return peersStarted;
}

/** Rewrites the checkout's own paths to /app, in every string of the snapshot. */
function portable(value) {
  const root = ROOT.replace(/\/$/, '');
  return JSON.parse(JSON.stringify(value).replaceAll(`file://${root}/`, 'file:///app/').replaceAll(`${root}/`, '/app/'));
}

const only = process.argv[2];
mkdirSync(OUT, { recursive: true });
let failed = 0;
for (const [name, record] of Object.entries(CASES)) {
  if (only && !name.includes(only)) continue;
  try {
    const snapshot = await record();
    if (!snapshot) throw new Error('no snapshot: the fixture was not alive at the deadline');
    const file = {
      recorded: { case: name, node: process.version, on: new Date().toISOString().slice(0, 10), by: 'npm run record-snapshots' },
      snapshot: portable(snapshot),
    };
    writeFileSync(`${OUT}${name}.json`, `${JSON.stringify(file, null, 2)}\n`);
    console.log(`recorded ${name}: ${snapshot.handles.length} handles (${snapshot.source})`);
  } catch (error) {
    failed += 1;
    console.error(`could not record ${name}: ${error.message}`);
  } finally {
    stopAll();
    await sleep(200);
  }
}
process.exitCode = failed ? 1 : 0;
if (peersStarted) process.exit();
