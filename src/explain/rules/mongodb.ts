// MongoDB driver (mongodb 4–7, and mongoose on top of it). Connected and never closed: the
// monitor re-arms its heartbeat every 10 s forever. Server unreachable: server selection keeps
// it alive until serverSelectionTimeoutMS (30 s by default) ends.
import { formatDuration } from '../../probe/duration.js';
import { libraryRule, sockets, timers } from './library.js';

export const mongodbRule = libraryRule({
  id: 'mongodb',
  name: 'MongoDB driver',
  packages: ['mongodb', 'mongoose'],
  problem: (handles) => (sockets(handles).length > 0 ? 'MongoClient never closed' : 'MongoClient still trying to reach its server'),
  why: (handles) => {
    if (sockets(handles).length > 0) {
      return 'a connected MongoClient keeps monitor and pool sockets open and re-arms its heartbeat timer (every 10 s) forever';
    }
    const longest = Math.max(0, ...timers(handles).map((t) => Number(t.details.dueIn ?? 0)));
    return `the client cannot reach the server and keeps retrying; server selection gives up after serverSelectionTimeoutMS (30 s by default)${longest ? `, about ${formatDuration(longest)} from now` : ''}`;
  },
  fix: () => 'await client.close() in your SIGTERM handler (mongoose: await mongoose.disconnect())',
  severity: (handles) => (sockets(handles).length > 0 ? 'blocks' : 'warning'),
});
