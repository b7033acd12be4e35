// Sequelize: its pool (sequelize-pool) keeps the driver's connections (pg, mysql2, …) until they
// have been idle for pool.idle (10 s by default), checking every second (pool.evict): the
// process exits on its own then, unless pool.min > 0.
import { libraryRule } from './library.js';

export const sequelizeRule = libraryRule({
  id: 'sequelize',
  name: 'Sequelize',
  packages: ['sequelize', 'sequelize-pool'],
  wraps: ['pg', 'pg-protocol', 'pg-pool', 'mysql2', 'mariadb', 'tedious', 'sqlite3'],
  runsBefore: ['pg', 'mysql2'],
  problem: () => 'instance never closed',
  why: () => 'sequelize-pool keeps its connections until they have been idle for pool.idle (10 s by default), checking every second: the process exits on its own about that long after the last query, after a short mercy — a wait, not a hang (with pool.min > 0 it never exits)',
  fix: () => 'await sequelize.close() in your SIGTERM handler',
  severity: () => 'warning',
});
