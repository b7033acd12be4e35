// MongoDB driver (mongodb 4–7, and mongoose on top of it). Connected and never closed: the
// monitor re-arms its heartbeat every 10 s forever. Server unreachable: server selection keeps
// it alive until serverSelectionTimeoutMS (30 s by default) ends.
import { formatDuration } from '../../core/duration.js';
import type { Handle } from '../../core/types.js';
import { libraryRule, sockets, timers } from './library.js';

export const mongodbRule = libraryRule({
  id: 'mongodb',
  name: 'MongoDB driver',
  packages: ['mongodb', 'mongoose'],
  problem: (handles) => {
    const client = viaMongoose(handles) ? 'mongoose connection' : 'MongoClient';
    return sockets(handles).length > 0 ? `${client} never closed` : `${client} still trying to reach its server`;
  },
  why: (handles) => {
    if (sockets(handles).length > 0) {
      const srv = handles.some((h) => h.owner?.url.includes('/lib/sdam/srv_polling'))
        ? '; its SRV poller (mongodb+srv, sharded) re-resolves the SRV record every 60 s' : '';
      return `a connected MongoClient keeps monitor and pool sockets open and re-arms its heartbeat timer (every 10 s) forever${srv}`;
    }
    const longest = Math.max(0, ...timers(handles).map((t) => Number(t.details.dueIn ?? 0)));
    return `the client cannot reach the server and keeps retrying; server selection gives up after serverSelectionTimeoutMS (30 s by default)${longest ? `, about ${formatDuration(longest)} from now` : ''}`;
  },
  fix: (handles) => (viaMongoose(handles)
    ? 'await mongoose.disconnect() in your SIGTERM handler (or connection.close() for each createConnection())'
    : 'await client.close() in your SIGTERM handler (mongoose: await mongoose.disconnect())'),
  severity: (handles) => (sockets(handles).length > 0 ? 'blocks' : 'warning'),
});

/** The driver under mongoose: a copy nested in node_modules/mongoose/, or mongoose frames in a creation stack. */
function viaMongoose(handles: Handle[]): boolean {
  return handles.some((h) => h.owner?.url.includes('/node_modules/mongoose/')
    || h.createdAt?.some((frame) => frame.location?.package?.name === 'mongoose'));
}
