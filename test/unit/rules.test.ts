// Every culprit rule on snapshots recorded from real runs: no server, no inspector, no process.
// One end-to-end test per family stays in test/process/ (the recording must stay true).
import { describe, expect, it } from 'vitest';
import type { Handle } from '../../src/core/types.js';
import { RULES, explain } from '../../src/explain/engine.js';
import { packageOf } from '../../src/explain/ownership.js';
import { bullmqRule } from '../../src/explain/rules/bullmq.js';
import { busyMainThread } from '../../src/explain/rules/busy-main-thread.js';
import { chokidarRule } from '../../src/explain/rules/chokidar.js';
import { clusterWorkerRule } from '../../src/explain/rules/cluster-worker.js';
import { genericHandles } from '../../src/explain/rules/generic.js';
import { httpServerRule } from '../../src/explain/rules/http-server.js';
import { ioredisRule } from '../../src/explain/rules/ioredis.js';
import { mongodbRule } from '../../src/explain/rules/mongodb.js';
import { mysql2Rule } from '../../src/explain/rules/mysql2.js';
import { nodeCronRule } from '../../src/explain/rules/node-cron.js';
import { nodeRedisRule } from '../../src/explain/rules/node-redis.js';
import { pgRule } from '../../src/explain/rules/pg.js';
import { socketIoRule } from '../../src/explain/rules/socket-io.js';
import { uwsgiWaitForHubRule } from '../../src/explain/rules/uwsgi.js';
import { websocketRule } from '../../src/explain/rules/websocket.js';
import { amqplibRule } from '../../src/explain/rules/amqplib.js';
import { amqpConnectionManagerRule } from '../../src/explain/rules/amqp-connection-manager.js';
import { apolloServerRule } from '../../src/explain/rules/apollo-server.js';
import { bullRule } from '../../src/explain/rules/bull.js';
import { cronRule } from '../../src/explain/rules/cron.js';
import { kafkajsRule } from '../../src/explain/rules/kafkajs.js';
import { knexRule } from '../../src/explain/rules/knex.js';
import { nestjsRule } from '../../src/explain/rules/nestjs.js';
import { nodeScheduleRule } from '../../src/explain/rules/node-schedule.js';
import { sequelizeRule } from '../../src/explain/rules/sequelize.js';
import { shutdownHelpersRule } from '../../src/explain/rules/shutdown-helpers.js';
import { blamed, recorded, ruleCases } from './rule-cases.js';

// Any library without a rule of its own (the open-world corpus, fixtures/open-world/): the owner
// read from the live objects, the close call its prototype has, the app's line.
const inferredOwnerRule = RULES.find((rule) => rule.id === 'inferred-owner')!;
ruleCases(inferredOwnerRule, {
  // pg has a family rule: an inferred pg Pool stays with it. Node's own objects stay generic.
  valid: ['open-pg-esm-pool.handles', 'open-worker-thread.handles', 'open-watch-file.handles', 'bullmq-queue.handles', 'mongo-connected.run', 'pg-pool-idle.handles'],
  invalid: [
    { snapshot: 'open-grpc-server.handles', findings: [{ title: /^Server \(@grpc\/grpc-js@[\d.]+\): never closed — 1 server on 127\.0\.0\.1:\d+$/, package: '@grpc/grpc-js', location: blamed('open-world/grpc-server.cjs', 'app'), fix: /^`server\.tryShutdown\(callback\)` \(or `server\.forceShutdown\(\)` to end what is in flight at once\) in your shutdown handler/, handles: 1 }] },
    { snapshot: 'open-grpc-stream.handles', findings: [{ package: '@grpc/grpc-js', location: blamed('open-world/grpc-stream.cjs', 'app'), fix: /^`stream\.cancel\(\)`, then `client\.close\(\)`/ }] },
    // A wrapper over a driver (kysely over pg): named, with the driver's socket under it; in run mode too.
    { snapshot: 'open-kysely-pg.handles', findings: [{ title: /^Kysely \(kysely@[\d.]+\): never closed — 1 socket to 127\.0\.0\.1:5432$/, package: 'kysely', location: blamed('open-world/kysely-pg.mjs', 'app'), why: /the app's `db` is a Kysely of kysely@/, fix: /^`await db\.destroy\(\)`/ }] },
    { snapshot: 'open-kysely-pg.run', findings: [{ package: 'kysely', location: blamed('open-world/kysely-pg.mjs', 'app'), fix: /^`await db\.destroy\(\)`/ }] },
    // No path: the connections live in a closure of `sql`; the app's one postgres object owns them.
    { snapshot: 'open-postgres-js.handles', findings: [{ title: /^postgres@[\d.]+: never closed — 1 socket to 127\.0\.0\.1:5432, 1 timer/, package: 'postgres', location: blamed('open-world/postgres-js.mjs', 'app'), fix: /^`await sql\.(end|close)\(\)`/, handles: 2 }] },
    // No reference at all: a connection of Node's own fetch, the one open library object that owns nothing else.
    { snapshot: 'open-eventsource.handles', findings: [{ title: /^EventSource \(eventsource@[\d.]+\), most likely: never closed/, package: 'eventsource', location: blamed('open-world/eventsource-client.mjs', 'app'), why: /Node's own fetch \(undici\)/, fix: /^`events\.close\(\)`/ }] },
    { snapshot: 'open-generic-pool.handles', findings: [{ package: 'generic-pool', fix: /^`await connections\.drain\(\); await connections\.clear\(\)`/ }] },
  ],
});

// Libraries that wrap a driver: the library the app called is named, with its close call, and
// the driver's and the library's internal handles are one finding.
ruleCases(knexRule, {
  valid: ['pg-pool-idle.handles', 'mysql-pool.handles', 'sequelize-pg.run'],
  invalid: [
    { snapshot: 'knex-pg.run', findings: [{ title: /^knex \(knex@[\d.]+\): knex instance never destroyed — 1 timer every 1 s, 1 socket to 127\.0\.0\.1:5432$/, severity: 'blocks', package: 'knex', location: blamed('families/knex-pg.cjs', 'query'), why: /pool\.min \(2; knex's default is 2\).*forever/, fix: /await knex\.destroy\(\)/, handles: 2 }] },
    { snapshot: 'knex-pg-min0.run', findings: [{ severity: 'warning', why: /will exit on its own in ~\d+(\.\d)? s, after the mercy/, fix: /await knex\.destroy\(\)/ }] },
    { snapshot: 'knex-mysql.handles', findings: [{ package: 'knex', why: /forever/, fix: /await knex\.destroy\(\)/, handles: 2 }] },
  ],
});

ruleCases(sequelizeRule, {
  valid: ['pg-pool-idle.handles', 'knex-pg.run'],
  invalid: [{ snapshot: 'sequelize-pg.run', findings: [{ severity: 'warning', package: 'sequelize', location: blamed('families/sequelize-pg.cjs', 'query'), why: /will exit on its own in ~\d+(\.\d)? s/, fix: /await sequelize\.close\(\)/, handles: 2 }] }],
});

ruleCases(bullRule, {
  valid: ['redis-connected.handles', 'bullmq-worker.run'],
  invalid: [
    { snapshot: 'bull-queue.run', findings: [{ package: 'bull', location: blamed('families/bull-queue.cjs', 'client'), fix: /await queue\.close\(\)/ }] },
    { snapshot: 'bull-queue.handles', findings: [{ package: 'bull', fix: /await queue\.close\(\)/ }] },
  ],
});

ruleCases(cronRule, {
  valid: ['cron-task.run', 'node-schedule-job.run'],
  invalid: [{ snapshot: 'cron-job.run', findings: [{ title: /CronJob never stopped — 1 timer \(\d+ h \d+ min\)$/, package: 'cron', location: blamed('families/cron-job.cjs', 'job'), fix: /job\.stop\(\)/ }] }],
});

ruleCases(nodeScheduleRule, {
  valid: ['cron-job.run', 'cron-task.run'],
  invalid: [{ snapshot: 'node-schedule-job.run', findings: [{ package: 'node-schedule', location: blamed('families/node-schedule-job.cjs', 'job'), fix: /schedule\.gracefulShutdown\(\)/ }] }],
});

ruleCases(amqpConnectionManagerRule, {
  valid: ['amqp-connection.handles'],
  invalid: [{ snapshot: 'amqp-manager.run', findings: [{ package: 'amqp-connection-manager', location: blamed('families/amqp-manager.cjs', 'client'), fix: /await connection\.close\(\)/, handles: 3 }] }],
});

ruleCases(kafkajsRule, {
  valid: ['redis-reconnecting.run'],
  invalid: [{ snapshot: 'kafkajs-unreachable.run', findings: [{ package: 'kafkajs', location: blamed('families/kafkajs-unreachable.cjs', 'query'), fix: /producer\.disconnect\(\)/ }] }],
});

ruleCases(apolloServerRule, {
  valid: ['keepalive-idle.handles', 'nest-app.run'],
  invalid: [{ snapshot: 'apollo-server.run', findings: [{ package: '@apollo/server', location: blamed('families/apollo-server.cjs', 'listen'), fix: /await server\.stop\(\)/ }] }],
});

ruleCases(nestjsRule, {
  valid: ['keepalive-idle.handles', 'apollo-server.run'],
  invalid: [{ snapshot: 'nest-app.run', findings: [{ package: '@nestjs/core', location: blamed('families/nest-app.cjs', 'client'), fix: /await app\.close\(\)/ }] }],
});

ruleCases(shutdownHelpersRule, {
  // Ownerless one-shot timers that were not armed at the signal stay someone else's.
  valid: ['forgotten-interval.run', 'pg-pool-idle-timeout.handles', 'redis-reconnecting.run'],
  invalid: [
    { snapshot: 'close-with-grace.run', findings: [{ title: /\(close-with-grace@[\d.]+\): it will force the exit 10 s after the signal — 1 timer/, severity: 'warning', location: blamed('families/close-with-grace.cjs', 'helper'), fix: /make the close function finish/ }] },
    // Attach mode: no creation stack; its timer (a promise's resolve) is known by when it was armed.
    { snapshot: 'close-with-grace.probe', findings: [{ title: /it will force the exit 10 s after the signal/, severity: 'warning', package: 'close-with-grace', handles: 1 }] },
  ],
});

ruleCases(busyMainThread, {
  valid: ['forgotten-interval.handles', 'python-thread.probe'],
  invalid: [
    { snapshot: 'busy-handler.probe', findings: [{ title: /^main thread busy in drainQueue$/, location: blamed('busy-handler.cjs', 'spin'), fix: /shutdown flag/ }] },
    { snapshot: 'busy-require-retry.probe', findings: [{ title: /^main thread busy in loadPlugin, loading a module again and again$/, location: blamed('busy-require-retry.cjs', 'retry'), why: /module loader \(in [345] of 5 samples\)/, fix: /retry it with a delay/ }] },
  ],
});

ruleCases(uwsgiWaitForHubRule, {
  valid: ['python-thread.probe', 'python-term-ignorer.probe'],
  invalid: [
    { snapshot: 'uwsgi-hang.worker', findings: [{ title: /waits for every greenlet \(gevent-wait-for-hub\)$/, why: /every greenlet.*worker-reload-mercy \(5 s\)/, fix: /drop gevent-wait-for-hub.*uwsgi\.atexit hook is too late/ }] },
    { snapshot: 'uwsgi-hang-mongo.worker', findings: [{ title: /MongoDB client still open/, why: /1 connection to MongoDB \(127\.0\.0\.1:27017\)/ }] },
  ],
});

ruleCases(mongodbRule, {
  valid: ['redis-connected.handles', 'pg-pool-idle.handles', 'forgotten-interval.run'],
  invalid: [
    { snapshot: 'mongo-connected.run', findings: [{ severity: 'blocks', package: 'mongodb', title: /MongoClient never closed — 2 sockets to 127\.0\.0\.1:\d+, 1 timer \(100 ms\), 1 timer \(10 s\)$/, fix: /await client\.close\(\)/, location: blamed('mongo-connected.cjs', 'client'), handles: 4 }] },
    { snapshot: 'mongo-connected.handles', findings: [{ severity: 'blocks', package: 'mongodb', title: /MongoClient never closed/ }] },
    { snapshot: 'mongo-unreachable.handles', findings: [{ severity: 'warning', title: /still trying to reach its server/, why: /serverSelectionTimeoutMS/ }] },
    { snapshot: 'mongoose-connected.run', findings: [{ title: /mongoose connection never closed/, fix: /await mongoose\.disconnect\(\)/, location: blamed('mongoose-connected.cjs', 'client') }] },
    { snapshot: 'mongo-srv.run', findings: [{ why: /SRV poller .* every 60 s/, location: blamed('mongo-srv.cjs', 'client') }] },
  ],
});

ruleCases(bullmqRule, {
  valid: ['redis-connected.handles', 'redis-reconnecting.run', 'open-kysely-pg.handles'],
  invalid: [
    { snapshot: 'bullmq-worker.run', findings: [{ package: 'bullmq', title: /2 sockets to 127\.0\.0\.1:6379/, fix: /await worker\.close\(\)/, location: blamed('bullmq-worker.cjs', 'client') }] },
    // A Queue no path reaches: its package depends on ioredis, so the connection is BullMQ's, at the Queue's line.
    { snapshot: 'bullmq-queue.handles', findings: [{ package: 'bullmq', location: blamed('holders/bullmq-queue.cjs', 'holder'), fix: /queue\.close\(\)/, handles: 1 }] },
  ],
});

ruleCases(ioredisRule, {
  // bullmq-worker: its ioredis connections are BullMQ's (the order conflict, below).
  valid: ['bullmq-worker.run', 'node-redis-connected.run'],
  invalid: [
    { snapshot: 'redis-connected.handles', findings: [{ package: 'ioredis', title: /never quit — 1 socket to 127\.0\.0\.1:6379$/, fix: /redis\.quit\(\)/ }] },
    { snapshot: 'redis-reconnecting.run', findings: [{ title: /reconnecting forever/, location: blamed('redis-reconnecting.cjs', 'client') }] },
  ],
});

ruleCases(nodeRedisRule, {
  valid: ['redis-connected.handles'],
  invalid: [
    { snapshot: 'node-redis-connected.run', findings: [{ package: '@redis/client', title: /never closed — 1 socket to 127\.0\.0\.1:6379$/, location: blamed('node-redis-connected.cjs', 'client') }] },
    // Its timer's callback has no source (a promise's resolve): named by the package that created it.
    { snapshot: 'node-redis-reconnecting.run', findings: [{ package: '@redis/client', title: /reconnecting forever — 1 timer/ }] },
  ],
});

ruleCases(pgRule, {
  valid: ['mysql-pool.handles'],
  invalid: [
    { snapshot: 'pg-pool-idle.handles', findings: [{ severity: 'blocks', title: /pool never ended — 2 sockets to 127\.0\.0\.1:5432$/, fix: /pool\.end\(\)/ }] },
    { snapshot: 'pg-pool-idle-timeout.handles', findings: [{ severity: 'warning', package: 'pg-pool', why: /exits on its own in about \d+(\.\d)? s/ }] },
    { snapshot: 'pg-pool-idle.run', findings: [{ location: blamed('pg-pool-idle.cjs', 'client') }] },
  ],
});

ruleCases(mysql2Rule, {
  valid: ['pg-pool-idle.handles'],
  invalid: [{ snapshot: 'mysql-pool.handles', findings: [{ package: 'mysql2', title: /1 socket to 127\.0\.0\.1:3306$/, fix: /pool\.end\(\)/ }] }],
});

ruleCases(amqplibRule, {
  valid: ['redis-connected.handles'],
  invalid: [{ snapshot: 'amqp-connection.handles', findings: [{ package: 'amqplib', title: /1 socket to 127\.0\.0\.1:5672, .*timer every 5 s/, fix: /connection\.close\(\)/ }] }],
});

ruleCases(nodeCronRule, {
  valid: ['forgotten-interval.run'],
  invalid: [{ snapshot: 'cron-task.run', findings: [{ package: 'node-cron', fix: /task\.stop\(\)/, location: blamed('cron-task.cjs', 'cron') }] }],
});

ruleCases(chokidarRule, {
  // A plain fs.watch is not chokidar's.
  valid: ['builtin-watch.run'],
  invalid: [{ snapshot: 'chokidar-watch.run', findings: [{ package: 'chokidar', title: /file watchers? never closed — \d+ file watchers?$/, fix: /await watcher\.close\(\)/ }] }],
});

ruleCases(socketIoRule, {
  valid: ['websocket-open.run'],
  invalid: [{ snapshot: 'socketio-server.run', findings: [{ title: /server never closed — 1 client connection/, fix: /await io\.close\(\)/, location: { file: 'fixtures/socketio-server.cjs', lines: blamed('socketio-server.cjs', 'listen').lines } }] }],
});

ruleCases(websocketRule, {
  // socketio-server: its upgraded connection is socket.io's (the order conflict, below).
  valid: ['socketio-server.run', 'keepalive-inflight.handles'],
  invalid: [{ snapshot: 'websocket-open.run', findings: [{ package: 'ws', title: /^1 upgraded \(WebSocket\) connection still open/, fix: /wss\.clients.*close\(1001/, location: blamed('websocket-open.cjs', 'listen') }] }],
});

ruleCases(httpServerRule, {
  // websocket-open: an upgraded connection is not an HTTP keep-alive connection.
  valid: ['websocket-open.run', 'forgotten-interval.handles'],
  invalid: [
    { snapshot: 'keepalive-inflight.handles', findings: [{ severity: 'blocks', title: /1 connection with a response in flight$/, fix: /closeAllConnections/, location: blamed('keepalive-server.cjs', 'handler') }] },
    // Idle keep-alive of a server still listening: close() ends it on Node >= 19.
    { snapshot: 'keepalive-idle.handles', findings: [{ severity: 'warning', title: /has 1 connection$/, why: /closes them itself/ }] },
  ],
});

ruleCases(clusterWorkerRule, {
  valid: ['forgotten-interval.handles'],
  invalid: [{ snapshot: 'cluster-worker.handles', findings: [{ title: /1 server listening through the primary \(round-robin\), and its IPC channel$/, handles: 2 }] }],
});

ruleCases(genericHandles, {
  // Everything here is claimed by a family rule.
  valid: ['mongo-connected.run', 'bullmq-worker.run', 'websocket-open.run', 'cluster-worker.handles'],
  invalid: [
    { snapshot: 'forgotten-interval.run', findings: [{ id: 'generic/interval', title: /^Timeout every 1000 ms/, fix: /clearInterval/, location: blamed('forgotten-interval.mjs', 'interval') }] },
    { snapshot: 'child-left.handles', findings: [{ id: 'generic/tcp-server' }, { id: 'generic/child-process', title: /ProcessWrap \(pid \d+: sleep 300\)/, fix: /child\.kill\(\)/ }] },
    { snapshot: 'worker-left.handles', findings: [{ id: 'generic/worker-thread', title: /^Worker \(thread 1, .*worker-left\.worker\.cjs\)$/, fix: /worker\.terminate\(\)/ }] },
    { snapshot: 'builtin-watch.run', findings: [{ id: 'generic/fs-watcher', fix: /watcher\.close\(\)/, location: blamed('builtin-leftovers.cjs', 'watch') }] },
    { snapshot: 'builtin-udp.run', findings: [{ id: 'generic/udp-socket', fix: /socket\.close\(\)/, location: blamed('builtin-leftovers.cjs', 'udp') }] },
    { snapshot: 'builtin-net.run', findings: [{ id: 'generic/tcp-server', fix: /server\.close\(\)/, location: blamed('builtin-leftovers.cjs', 'net') }] },
    // A MessagePort is a JS object with no async resource of its own: no creation stack.
    { snapshot: 'builtin-port.run', findings: [{ id: 'generic/message-port', fix: /port\.close\(\)/ }] },
    { snapshot: 'stdin-reader.handles', findings: [{ id: 'generic/tcp-server' }, { id: 'generic/stdio', why: /standard input is being read/, fix: /interface\.close\(\)/ }] },
    // Seen through /proc only: a Python process's listening socket.
    { snapshot: 'python-term-ignorer.probe', findings: [{ id: 'generic/tcp-server', title: /^TCP listening on 127\.0\.0\.1:\d+$/ }] },
  ],
});

describe('rule order', () => {
  it('every rule is in the engine once, and the generic fallback is last', () => {
    const ids = RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.at(-1)).toBe('generic');
  });

  it("every rule comes before the rules it says it must precede (runsBefore)", () => {
    const at = new Map(RULES.map((rule, index) => [rule.id, index]));
    const broken = RULES.flatMap((rule) => (rule.runsBefore ?? [])
      .filter((later) => !(at.get(later)! > at.get(rule.id)!))
      .map((later) => `${rule.id} must run before ${later}`));
    expect(broken).toEqual([]);
    for (const rule of RULES) for (const later of rule.runsBefore ?? []) expect(at.has(later), later).toBe(true);
  });

  // The conflicts runsBefore settles are real: without the first rule, the second claims its handles.
  it.each([
    ['bullmq-worker.run', bullmqRule.id, 'ioredis'],
    ['socketio-server.run', socketIoRule.id, 'websocket-connections'],
    ['websocket-open.run', websocketRule.id, 'http-server-connections'],
  ])('%s: without %s, %s would claim its handles', (snapshot, first, second) => {
    const without = explain(recorded(snapshot), RULES.filter((rule) => rule.id !== first));
    expect(without.some((finding) => finding.id === second)).toBe(true);
    expect(explain(recorded(snapshot)).some((finding) => finding.id === second)).toBe(false);
  });
});

describe('harmless: recorded live, never blamed', () => {
  const blamedHandles = (name: string): Handle[] => explain(recorded(name)).flatMap((finding) => finding.handles);

  it("an unref'd interval is listed as not blocking, and no timer is blamed", () => {
    const snapshot = recorded('unref-only.handles');
    expect(snapshot.handles.find((h) => h.kind === 'timer')).toMatchObject({ blocking: false, notBlockingBecause: "unref'd" });
    expect(blamedHandles('unref-only.handles').some((h) => h.kind === 'timer')).toBe(false);
  });

  it("an http.Agent's idle keep-alive socket is not blamed (only the server side of it, in the same process)", () => {
    const clientSide = recorded('agent-idle.handles').handles.filter((h) => h.kind === 'tcp-socket' && !h.details.accepted);
    expect(clientSide.length).toBeGreaterThan(0);
    expect(clientSide.every((h) => !h.blocking)).toBe(true);
    expect(blamedHandles('agent-idle.handles').filter((h) => clientSide.includes(h))).toEqual([]);
  });

  it('prom-client default metrics and a pino transport are not blamed', () => {
    const owners = blamedHandles('metrics-and-logs.handles').map((h) => packageOf(h)?.name);
    expect(owners.filter((name) => name === 'prom-client' || name?.startsWith('pino') || name === 'thread-stream')).toEqual([]);
  });

  it('a plain Python thread shows no culprit from /proc (its threads are listed instead)', () => {
    expect(explain(recorded('python-thread.probe'))).toEqual([]);
    expect(recorded('python-thread.probe').threads).toHaveLength(2);
  });
});
