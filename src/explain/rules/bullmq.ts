// BullMQ workers and queues: ioredis connections (one blocked waiting for jobs) plus BullMQ's
// own timers (stalled-jobs checker, lock renewal). The ioredis sockets are claimed here, not
// by the ioredis rule, when BullMQ's own handles show it is BullMQ's client.
import { packageLabel } from '../../core/format.js';
import { summariseHandles } from '../handle-summary.js';
import { bestLocation, mainPackage, ownedBy } from '../ownership.js';
import type { Rule, RuleFinding } from '../rule.js';

export const bullmqRule: Rule = {
  id: 'bullmq',
  runsBefore: ['ioredis'],
  packages: ['bullmq'],
  explain(handles): RuleFinding[] {
    const own = ownedBy(handles, ['bullmq']);
    if (own.length === 0) return [];
    const mine = [...own, ...ownedBy(handles, ['ioredis'])];
    const owner = mainPackage(own, ['bullmq']);
    return [{
      title: `BullMQ (${packageLabel(owner)}): Worker or Queue never closed — ${summariseHandles(mine)}`,
      severity: 'blocks',
      owner,
      location: bestLocation(mine),
      why: 'a BullMQ Worker keeps a Redis connection blocked waiting for jobs and re-arms its stalled-jobs and lock timers; a Queue keeps its Redis connection open',
      fix: 'await worker.close() in your shutdown handler (it lets the jobs in progress finish, then closes its Redis connections); also queue.close() and queueEvents.close()',
      handles: mine,
    }];
  },
};
