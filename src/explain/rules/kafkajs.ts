// kafkajs: a producer or consumer keeps its broker connections; one that cannot reach its
// brokers keeps retrying (src/retry/index.js).
import { libraryRule, sockets } from './library.js';

export const kafkajsRule = libraryRule({
  id: 'kafkajs',
  name: 'kafkajs',
  packages: ['kafkajs'],
  problem: (handles) => (sockets(handles).length > 0 ? 'producer or consumer never disconnected' : 'client retrying its brokers'),
  why: (handles) => (sockets(handles).length > 0
    ? 'a connected producer or consumer keeps its broker connections open (a consumer also its heartbeats)'
    : 'the client cannot reach its brokers and keeps retrying with back-off, as its retry settings allow'),
  fix: () => 'await producer.disconnect() and await consumer.disconnect() in your SIGTERM handler',
});
