// knex: its pool (tarn, node_modules/tarn/dist/Pool.js) keeps connections of the driver it
// drives (pg, mysql2, …) and reaps idle ones every second. tarn never goes below pool.min
// (knex's default: 2); connections above it close after idleTimeoutMillis (30 s by default).
// The snapshot reads each pool's min and idle times (context.pools): forever, or when.
import { formatDuration } from '../../core/duration.js';
import type { Handle, Snapshot } from '../../core/types.js';
import { libraryRule, poolLetGo, sockets } from './library.js';

const connections = (handles: Handle[]) => `${sockets(handles).length} database connection${sockets(handles).length === 1 ? '' : 's'}`;

function why(handles: Handle[], snapshot: Snapshot): string {
  const letGo = poolLetGo(snapshot, 'tarn');
  if (letGo?.never) return `its pool (tarn) keeps ${connections(handles)} open and never goes below pool.min (${letGo.min}; knex's default is 2), so it holds the process forever`;
  if (letGo) return `its pool (tarn) closes its idle connections after idleTimeoutMillis and then stops its reaping timer: the process will exit on its own in ~${formatDuration(letGo.inMs)}, after the mercy — a wait, not a hang`;
  return `its pool (tarn) keeps ${connections(handles)} open and reaps idle ones every second: it never goes below pool.min (knex's default: 2), so it holds the process forever; with min: 0, idle connections close after idleTimeoutMillis (30 s by default) and the process exits on its own then`;
}

export const knexRule = libraryRule({
  id: 'knex',
  name: 'knex',
  packages: ['knex', 'tarn'],
  wraps: ['pg', 'pg-protocol', 'pg-pool', 'mysql2', 'mysql', 'sqlite3', 'better-sqlite3', 'tedious', 'oracledb'],
  runsBefore: ['pg', 'mysql2'],
  problem: () => 'knex instance never destroyed',
  why,
  fix: () => 'await knex.destroy() in your SIGTERM handler (it ends the pool and every connection)',
  severity: (_handles, snapshot) => (poolLetGo(snapshot, 'tarn')?.never === false ? 'warning' : 'blocks'),
});
