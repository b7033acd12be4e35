// amqplib: an open connection keeps its socket and two heartbeat intervals (lib/heartbeat.js).
import { libraryRule } from './library.js';

export const amqplibRule = libraryRule({
  id: 'amqplib',
  name: 'AMQP client',
  packages: ['amqplib'],
  problem: () => 'connection never closed',
  why: () => 'an open AMQP connection keeps its socket and its heartbeat intervals running',
  fix: () => 'await channel.close(); await connection.close() in your SIGTERM handler',
});
