// BullMQ workers and queues: ioredis connections (one blocked waiting for jobs) plus BullMQ's
// own timers (stalled-jobs checker, lock renewal). The ioredis sockets are claimed here, not
// by the ioredis rule, when BullMQ's own handles show it is BullMQ's client.
import type { Finding } from '../../types.js';
import type { Rule } from '../rule.js';
import { bestLocation, mainPackage, packageLabel, summariseHandles } from '../summary.js';

const REDIS_CLIENTS = new Set(['ioredis']);

export const bullmqRule: Rule = {
  id: 'bullmq',
  explain(handles): Finding[] {
    const own = handles.filter((h) => h.owner?.package?.name === 'bullmq');
    if (own.length === 0) return [];
    const redis = handles.filter((h) => h.owner?.package && REDIS_CLIENTS.has(h.owner.package.name));
    const mine = [...own, ...redis];
    const owner = mainPackage(own, ['bullmq']);
    return [{
      id: 'bullmq',
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
