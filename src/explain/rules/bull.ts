// Bull (v3/v4): each Queue keeps its own ioredis clients (client, subscriber, and a blocking one
// for workers) and its timers (stalled-jobs checks, delayed jobs). queue.close() ends them all.
import { libraryRule } from './library.js';

export const bullRule = libraryRule({
  id: 'bull',
  name: 'Bull',
  packages: ['bull'],
  wraps: ['ioredis'],
  runsBefore: ['ioredis'],
  problem: () => 'queue never closed',
  why: () => 'a Bull queue keeps its Redis connections (a client, a subscriber, and a blocking one when it processes jobs) and its own timers (stalled-jobs checks, delayed jobs) running',
  fix: () => 'await queue.close() in your SIGTERM handler (it lets active jobs finish, then closes its connections)',
});
