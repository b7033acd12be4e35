// A uWSGI worker that outlives a graceful reload under gevent with gevent-wait-for-hub: the
// worker waits for EVERY greenlet to end, monkey-patched threads included, and background
// greenlets that never end (pymongo >= 3's monitor and pool threads) hold it until uWSGI's
// worker-reload-mercy kills it ("...NO MERCY !!!"). The story this project started from.
import { formatDuration } from '../../core/duration.js';
import type { Rule, RuleFinding } from '../rule.js';

export const uwsgiWaitForHubRule: Rule = {
  id: 'uwsgi-gevent-wait-for-hub',
  explain(handles, snapshot): RuleFinding[] {
    const uwsgi = snapshot.context?.uwsgi;
    if (!uwsgi?.gevent || !uwsgi.waitForHub) return [];
    const mongo = handles.filter((h) => h.details.peer === 'MongoDB');
    const wakeups = snapshot.context?.wakeupsPerSecond;
    const mercy = formatDuration(uwsgi.workerReloadMercyMs);
    const evidence = [
      mongo.length > 0 ? `It holds ${mongo.length} connection${mongo.length === 1 ? '' : 's'} to MongoDB (${[...new Set(mongo.map((h) => h.details.remote))].join(', ')}): a pymongo client's monitors.` : '',
      wakeups !== undefined && wakeups >= 0.8 ? `It wakes about ${wakeups} times a second while it should be winding down: something keeps polling (pymongo's monitors sleep ~0.5 s between checks).` : '',
    ].filter(Boolean).join(' ');
    return [{
      title: `uWSGI worker waits for every greenlet (gevent-wait-for-hub)${mongo.length > 0 ? ' — MongoDB client still open' : ''}`,
      severity: 'blocks',
      why: `with gevent-wait-for-hub a worker exits on reload only when the gevent hub dies, i.e. when every greenlet has ended, monkey-patched threads included. Greenlets that never end (pymongo ≥ 3's monitor and pool threads, any background loop) hold it until worker-reload-mercy (${mercy}) kills it: "taking too much time to die...NO MERCY !!!". ${evidence}`.trim(),
      fix: 'drop gevent-wait-for-hub and keep the greenlets that matter in a gevent Pool or Group that you join on reload; or close your clients on reload (MongoClient.close() stops pymongo\'s threads). A uwsgi.atexit hook is too late: under gevent-wait-for-hub uWSGI waits for the hub before it runs atexit hooks',
      handles,
    }];
  },
};
