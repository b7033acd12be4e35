// mysql2: pool connections stay open while idle (lib/base/pool.js), by default forever.
import { libraryRule } from './library.js';

export const mysql2Rule = libraryRule({
  id: 'mysql2',
  name: 'MySQL client',
  packages: ['mysql2'],
  problem: () => 'pool (or connection) never ended',
  why: () => 'mysql2 keeps idle pool connections open (no idle timeout by default), and each open connection keeps the event loop alive',
  fix: () => 'await pool.end() (connection.end() for a single connection) in your SIGTERM handler',
});
