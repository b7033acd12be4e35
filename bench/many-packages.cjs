// The owner inference's benchmark target (npm run bench:inference): a service that loads 40+
// packages and keeps open clients of several of them in module variables and class fields
// (#private too): a pg pool under kysely, a Redis client, a gRPC server, a croner job, a
// toad-scheduler, a postgres.js client, an undici Client, a nodemailer transport, a generic-pool,
// a node-cache, prom-client's registry; and a 2 ms heartbeat that measures the longest stall of
// its own event loop. SIGUSR2 prints the longest gap since the last SIGUSR2 ("GAP <ms>").
const LOADED = [
  'pg', 'pg-pool', 'kysely', 'ioredis', 'redis', 'mysql2', 'mysql', 'knex', 'sequelize', 'mongodb', 'mongoose', 'bullmq', 'bull', 'bee-queue',
  'amqplib', 'amqp-connection-manager', 'kafkajs', 'mqtt', 'nats', 'node-cron', 'cron', 'node-schedule', 'croner', 'toad-scheduler', 'chokidar',
  'socket.io', 'ws', '@grpc/grpc-js', 'undici', 'eventsource', 'nodemailer', 'generic-pool', 'piscina', 'node-cache', 'prom-client', 'pino',
  'postgres', 'pg-boss', 'commander', 'chalk', 'pidusage', 'close-with-grace', 'express', 'smtp-server',
];
const loaded = [];
for (const name of LOADED) {
  try { loaded.push([name, require(name)]); } catch { /* not installed here: fewer packages */ }
}
const mod = Object.fromEntries(loaded);
const { Kysely, PostgresDialect } = mod.kysely;
const grpc = mod['@grpc/grpc-js'];

class Repository {
  #db = new Kysely({ dialect: new PostgresDialect({ pool: new mod.pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', idleTimeoutMillis: 0 }) }) });
  cache = new mod['node-cache']({ stdTTL: 60 });
  db() { return this.#db; }
}
const repository = new Repository();
const redis = new mod.ioredis({ host: '127.0.0.1', port: 6379 });
const rpc = new grpc.Server();
const cleanup = new mod.croner.Cron('*/5 * * * * *', () => {});
const scheduler = new mod['toad-scheduler'].ToadScheduler();
scheduler.addSimpleIntervalJob(new mod['toad-scheduler'].SimpleIntervalJob({ seconds: 30 }, new mod['toad-scheduler'].Task('t', () => {})));
const sql = mod.postgres({ host: '127.0.0.1', port: 5432, username: 'postgres', database: 'test' });
const upstream = new mod.undici.Client('http://127.0.0.1:9');
const mailer = mod.nodemailer.createTransport({ host: '127.0.0.1', port: 25, pool: true });
const connections = mod['generic-pool'].createPool({ create: async () => ({}), destroy: async () => {} }, { min: 0, max: 2 });
const metrics = new mod['prom-client'].Registry();

require('./heartbeat.cjs');
process.on('SIGTERM', () => { rpc.forceShutdown(); });
(async () => {
  await repository.db().selectNoFrom((eb) => eb.val(1).as('one')).execute();
  await sql`select 1`;
  await redis.ping();
  await new Promise((resolve, reject) => rpc.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())));
  console.log('READY', JSON.stringify({ packages: loaded.length, held: [cleanup, scheduler, upstream, mailer, connections, metrics].length + 4 }));
})();
