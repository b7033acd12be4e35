// nats: a connection keeps its socket and its ping/heartbeat timers
// (lib/nats-base-client/heartbeats.js) until it is drained or closed.
import { libraryRule } from './library.js';

export const natsRule = libraryRule({
  id: 'nats',
  name: 'NATS client',
  packages: ['nats', '@nats-io/transport-node', '@nats-io/nats-core'],
  problem: () => 'connection never drained',
  why: () => 'an open NATS connection keeps its socket and its heartbeat timer running',
  fix: () => 'await nc.drain() in your SIGTERM handler (it lets subscriptions finish, then closes); nc.close() to stop at once',
});
