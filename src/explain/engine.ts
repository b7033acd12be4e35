// Applies the rules in order; each handle is explained once. Whatever no specific rule
// claims is still explained by the generic rule: nothing is hidden.
import type { Finding, Snapshot } from '../core/types.js';
import type { Rule } from './rule.js';
import { amqplibRule } from './rules/amqplib.js';
import { bullmqRule } from './rules/bullmq.js';
import { busyMainThread } from './rules/busy-main-thread.js';
import { chokidarRule } from './rules/chokidar.js';
import { clusterWorkerRule } from './rules/cluster-worker.js';
import { genericHandles } from './rules/generic.js';
import { httpServerRule } from './rules/http-server.js';
import { ioredisRule } from './rules/ioredis.js';
import { mongodbRule } from './rules/mongodb.js';
import { mysql2Rule } from './rules/mysql2.js';
import { nodeCronRule } from './rules/node-cron.js';
import { nodeRedisRule } from './rules/node-redis.js';
import { pgRule } from './rules/pg.js';
import { socketIoRule } from './rules/socket-io.js';
import { uwsgiWaitForHubRule } from './rules/uwsgi.js';
import { websocketRule } from './rules/websocket.js';

/**
 * Specific culprit rules first, the generic fallback last. Where two rules could claim the
 * same handles, the one that knows more says so with `runsBefore` (bullmq before ioredis,
 * socket.io before websocket); test/unit/rules.test.ts holds this list to those claims.
 */
export const RULES: readonly Rule[] = [
  busyMainThread, uwsgiWaitForHubRule, mongodbRule, bullmqRule, ioredisRule, nodeRedisRule, pgRule, mysql2Rule,
  amqplibRule, nodeCronRule, chokidarRule, socketIoRule, websocketRule, httpServerRule, clusterWorkerRule, genericHandles,
];

const SEVERITY_ORDER = { blocks: 0, warning: 1, harmless: 2 } as const;

export function explain(snapshot: Snapshot, rules: readonly Rule[] = RULES): Finding[] {
  let remaining = snapshot.handles.filter((handle) => handle.blocking);
  const findings: Finding[] = [];
  for (const rule of rules) {
    for (const { variant, ...found } of rule.explain(remaining, snapshot)) {
      const claimed = new Set(found.handles);
      remaining = remaining.filter((handle) => !claimed.has(handle));
      findings.push({ id: variant ? `${rule.id}/${variant}` : rule.id, ...found });
    }
  }
  // Stable sort: within one severity, rule order (specific before generic) is kept.
  return findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
