// Sequelize: its pool (sequelize-pool) keeps the driver's connections (pg, mysql2, …) until they
// have been idle for pool.idle (10 s by default), checking every second (pool.evict): the
// process exits on its own then, unless pool.min > 0. The snapshot reads each pool's state
// (context.pools): forever, or when.
import { formatDuration } from '../../core/duration.js';
import type { Handle, Snapshot } from '../../core/types.js';
import { libraryRule, poolLetGo } from './library.js';

function why(_handles: Handle[], snapshot: Snapshot): string {
  const letGo = poolLetGo(snapshot, 'sequelize-pool');
  if (letGo?.never) return `sequelize-pool keeps its connections for good (pool.min is ${letGo.min}, or a connection is still in use): it holds the process forever`;
  if (letGo) return `sequelize-pool closes connections idle for pool.idle and then stops its timer: the process will exit on its own in ~${formatDuration(letGo.inMs)}, after the mercy — a wait, not a hang`;
  return 'sequelize-pool keeps its connections until they have been idle for pool.idle (10 s by default), checking every second: the process exits on its own about that long after the last query, after a short mercy — a wait, not a hang (with pool.min > 0 it never exits)';
}

export const sequelizeRule = libraryRule({
  id: 'sequelize',
  name: 'Sequelize',
  packages: ['sequelize', 'sequelize-pool'],
  wraps: ['pg', 'pg-protocol', 'pg-pool', 'mysql2', 'mariadb', 'tedious', 'sqlite3'],
  runsBefore: ['pg', 'mysql2'],
  problem: () => 'instance never closed',
  why,
  fix: () => 'await sequelize.close() in your SIGTERM handler',
  severity: (_handles, snapshot) => (poolLetGo(snapshot, 'sequelize-pool')?.never ? 'blocks' : 'warning'),
});
