// knex: its pool (tarn, node_modules/tarn/dist/Pool.js) keeps connections of the driver it
// drives (pg, mysql2, …) and reaps idle ones every second. tarn never goes below pool.min
// (knex's default: 2); connections above it close after idleTimeoutMillis (30 s by default).
import { libraryRule, sockets } from './library.js';

export const knexRule = libraryRule({
  id: 'knex',
  name: 'knex',
  packages: ['knex', 'tarn'],
  wraps: ['pg', 'pg-protocol', 'pg-pool', 'mysql2', 'mysql', 'sqlite3', 'better-sqlite3', 'tedious', 'oracledb'],
  runsBefore: ['pg', 'mysql2'],
  problem: () => 'knex instance never destroyed',
  why: (handles) => `its pool (tarn) keeps ${sockets(handles).length} database connection${sockets(handles).length === 1 ? '' : 's'} open and reaps idle ones every second: it never goes below pool.min (knex's default: 2), so it holds the process forever; with min: 0, idle connections close after idleTimeoutMillis (30 s by default) and the process exits on its own then`,
  fix: () => 'await knex.destroy() in your SIGTERM handler (it ends the pool and every connection)',
});
