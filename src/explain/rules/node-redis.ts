// node-redis (redis@4+ / @redis/client): same story as ioredis, other API.
import { libraryRule } from './library.js';

export const nodeRedisRule = libraryRule({
  id: 'node-redis',
  name: 'node-redis',
  packages: ['@redis/client', 'redis'],
  problem: () => 'Redis client never closed',
  why: () => 'an open (or reconnecting) Redis client keeps the event loop alive',
  fix: () => 'await client.quit() (client.close() on node-redis 5) in your SIGTERM handler',
});
