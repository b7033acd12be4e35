// Applies the rules in order; each handle is explained once. Whatever no specific rule
// claims is still explained by the generic rule: nothing is hidden.
import type { Finding, Snapshot } from '../types.js';
import type { Rule } from './rule.js';
import { amqplibRule } from './rules/amqplib.js';
import { busyMainThread } from './rules/busy-main-thread.js';
import { genericHandles } from './rules/generic.js';
import { httpServerRule } from './rules/http-server.js';
import { ioredisRule } from './rules/ioredis.js';
import { mongodbRule } from './rules/mongodb.js';
import { mysql2Rule } from './rules/mysql2.js';
import { nodeRedisRule } from './rules/node-redis.js';
import { pgRule } from './rules/pg.js';
import { websocketRule } from './rules/websocket.js';
import { bullmqRule } from './rules/bullmq.js';
import { chokidarRule } from './rules/chokidar.js';
import { clusterWorkerRule } from './rules/cluster-worker.js';
import { nodeCronRule } from './rules/node-cron.js';
import { socketIoRule } from './rules/socket-io.js';
import { uwsgiWaitForHubRule } from './rules/uwsgi.js';

/** Specific culprit rules first, the generic fallback last. */
export const RULES: Rule[] = [
  busyMainThread, uwsgiWaitForHubRule, mongodbRule,
  bullmqRule, // before ioredis: it claims the ioredis connections it owns
  ioredisRule, nodeRedisRule, pgRule, mysql2Rule, amqplibRule, nodeCronRule, chokidarRule,
  socketIoRule, // before websocket: it claims its clients' upgraded connections
  websocketRule, httpServerRule, clusterWorkerRule, genericHandles,
];

const SEVERITY_ORDER = { blocks: 0, warning: 1, harmless: 2 } as const;

export function explain(snapshot: Snapshot, rules: Rule[] = RULES): Finding[] {
  let remaining = snapshot.handles.filter((handle) => handle.blocking);
  const findings: Finding[] = [];
  for (const rule of rules) {
    const found = rule.explain(remaining, snapshot);
    const claimed = new Set(found.flatMap((finding) => finding.handles));
    remaining = remaining.filter((handle) => !claimed.has(handle));
    findings.push(...found);
  }
  // Stable sort: within one severity, rule order (specific before generic) is kept.
  return findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
