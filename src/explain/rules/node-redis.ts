// node-redis (redis@4+ / @redis/client): same story as ioredis, other API. Connected: its
// socket; lost or never connected: the reconnect strategy's timer, forever.
import { libraryRule, sockets } from './library.js';

export const nodeRedisRule = libraryRule({
  id: 'node-redis',
  name: 'node-redis',
  packages: ['@redis/client', 'redis'],
  problem: (handles) => (sockets(handles).length > 0 ? 'Redis client never closed' : 'Redis client reconnecting forever'),
  why: (handles) => (sockets(handles).length > 0
    ? 'an open Redis connection keeps the event loop alive until the client is closed'
    : 'the client lost (or never had) its connection and its reconnectStrategy keeps scheduling attempts'),
  fix: () => 'await client.quit() (client.close() on node-redis 5+) in your SIGTERM handler; client.destroy() if the server is gone',
});
