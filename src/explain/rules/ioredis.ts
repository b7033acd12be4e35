// ioredis: a connected client keeps its socket; a disconnected one re-arms its reconnect timer
// (built/redis/event_handler.js) for as long as retryStrategy returns a delay.
import { libraryRule, sockets } from './library.js';

export const ioredisRule = libraryRule({
  id: 'ioredis',
  name: 'ioredis',
  packages: ['ioredis'],
  problem: (handles) => (sockets(handles).length > 0 ? 'Redis client never quit' : 'Redis client reconnecting forever'),
  why: (handles) => (sockets(handles).length > 0
    ? 'an open Redis connection keeps the event loop alive until the client quits'
    : 'the client lost (or never had) its connection and its retryStrategy keeps scheduling reconnects'),
  fix: () => 'await redis.quit() in your SIGTERM handler (redis.disconnect() if the server is gone)',
});
