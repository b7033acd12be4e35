// Applies the rules in order; each handle is explained once. Whatever no specific rule
// claims is still explained by the generic rule: nothing is hidden.
import type { Finding, Snapshot } from '../core/types.js';
import { withHolders } from './holders.js';
import type { Rule } from './rule.js';
import { amqpConnectionManagerRule } from './rules/amqp-connection-manager.js';
import { amqplibRule } from './rules/amqplib.js';
import { apolloServerRule } from './rules/apollo-server.js';
import { bullRule } from './rules/bull.js';
import { bullmqRule } from './rules/bullmq.js';
import { busyMainThread } from './rules/busy-main-thread.js';
import { chokidarRule } from './rules/chokidar.js';
import { clusterWorkerRule } from './rules/cluster-worker.js';
import { cronRule } from './rules/cron.js';
import { genericHandles } from './rules/generic.js';
import { httpServerRule } from './rules/http-server.js';
import { inferredOwnerRule } from './rules/inferred-owner.js';
import { ioredisRule } from './rules/ioredis.js';
import { kafkajsRule } from './rules/kafkajs.js';
import { knexRule } from './rules/knex.js';
import { mongodbRule } from './rules/mongodb.js';
import { mqttRule } from './rules/mqtt.js';
import { mysql2Rule } from './rules/mysql2.js';
import { natsRule } from './rules/nats.js';
import { nestjsRule } from './rules/nestjs.js';
import { nodeCronRule } from './rules/node-cron.js';
import { nodeRedisRule } from './rules/node-redis.js';
import { nodeScheduleRule } from './rules/node-schedule.js';
import { pgRule } from './rules/pg.js';
import { sequelizeRule } from './rules/sequelize.js';
import { shutdownHelpersRule } from './rules/shutdown-helpers.js';
import { socketIoRule } from './rules/socket-io.js';
import { uwsgiWaitForHubRule } from './rules/uwsgi.js';
import { pythonThreadsRule } from './rules/python-threads.js';
import { websocketRule } from './rules/websocket.js';

/**
 * Specific culprit rules first, the generic fallback last. A library that drives another
 * (knex drives pg) comes before it and claims the handles it opened; where two rules could
 * claim the same handles, the one that knows more says so with `runsBefore`;
 * test/unit/rules.test.ts holds this list to those claims.
 */
const FAMILY_RULES: readonly Rule[] = [
  mongodbRule, knexRule, sequelizeRule, bullmqRule, bullRule, ioredisRule, nodeRedisRule, pgRule, mysql2Rule,
  amqpConnectionManagerRule, amqplibRule, kafkajsRule, natsRule, mqttRule,
  nodeCronRule, cronRule, nodeScheduleRule, chokidarRule,
  socketIoRule, apolloServerRule, nestjsRule, websocketRule, httpServerRule, clusterWorkerRule,
];

/**
 * Any library without a family rule is explained from its live objects (inferred-owner), before
 * the family rules: a wrapper that has no rule (kysely over pg) owns its driver's handles.
 */
export const RULES: readonly Rule[] = [
  busyMainThread, uwsgiWaitForHubRule, pythonThreadsRule, shutdownHelpersRule,
  inferredOwnerRule(new Set(FAMILY_RULES.flatMap((rule) => rule.packages ?? []))),
  ...FAMILY_RULES, genericHandles,
];

const SEVERITY_ORDER = { blocks: 0, warning: 1, harmless: 2 } as const;

export function explain(snapshot: Snapshot, rules: readonly Rule[] = RULES): Finding[] {
  let remaining = snapshot.handles.filter((handle) => handle.blocking);
  const findings: Finding[] = [];
  for (const rule of rules) {
    for (const { variant, ...found } of rule.explain(remaining, snapshot)) {
      const claimed = new Set(found.handles);
      remaining = remaining.filter((handle) => !claimed.has(handle));
      findings.push(withHolders({ id: variant ? `${rule.id}/${variant}` : rule.id, ...found }));
    }
  }
  // Stable sort: within one severity, rule order (specific before generic) is kept.
  return findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
