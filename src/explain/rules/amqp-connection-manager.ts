// amqp-connection-manager: keeps an amqplib connection (socket, heartbeat intervals) and
// reconnects when it drops; connection.close() on the manager ends it.
import { libraryRule } from './library.js';

export const amqpConnectionManagerRule = libraryRule({
  id: 'amqp-connection-manager',
  name: 'amqp-connection-manager',
  packages: ['amqp-connection-manager'],
  wraps: ['amqplib'],
  runsBefore: ['amqplib'],
  problem: () => 'connection never closed',
  why: () => 'the manager keeps its amqplib connection (a socket and its heartbeat intervals) open, and reconnects whenever it drops',
  fix: () => 'await connection.close() on the manager (what amqp.connect() returned) in your SIGTERM handler; its channels close with it',
});
