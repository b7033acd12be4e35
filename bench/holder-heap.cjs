// The holder walk's benchmark target (and --heap-snapshot's over-budget case in
// test/process/holders.test.ts): an ioredis client (real Redis) held by a module
// variable, beside HEAP_MB of app data held by another (a Map of records, each with nested
// objects), and a 2 ms heartbeat that measures the longest stall of its own event loop.
// SIGUSR2 prints the longest gap since the last SIGUSR2 ("GAP <ms>") and starts again.
const Redis = require('ioredis');

const records = new Map();
const targetBytes = Number(process.env.HEAP_MB ?? 50) * 1024 * 1024;
for (let i = 0; process.memoryUsage().heapUsed < targetBytes; i++) {
  records.set(`user:${i}`, { id: i, name: `user ${i}`, tags: ['a', 'b', 'c'], profile: { age: i % 90, city: { name: 'x', zip: String(i) } }, blob: 'x'.repeat(200) });
}
const redis = new Redis({ host: '127.0.0.1', port: 6379 });
// ORPHAN=1: a second client no app variable holds (the walk finds no holder for it).
if (process.env.ORPHAN === '1') (() => { new Redis({ host: '127.0.0.1', port: 6379 }).ping(); })();

require('./heartbeat.cjs');
process.on('SIGTERM', () => {});
redis.ping().then(() => console.log('READY', JSON.stringify({ heapMb: Math.round(process.memoryUsage().heapUsed / 1048576), records: records.size })));
module.exports = { cache: () => records, client: () => redis };
