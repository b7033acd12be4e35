// A uWSGI worker that outlives a graceful reload under gevent with gevent-wait-for-hub: the
// worker waits for EVERY greenlet to end, monkey-patched threads included, and background
// greenlets that never end (pymongo >= 3's monitor and pool threads) hold it until uWSGI's
// worker-reload-mercy kills it ("...NO MERCY !!!"). The story this project started from.
// With --py-stacks the finding names the greenlets that keep the hub alive (an active,
// referenced hub watcher wakes them), the app line that spawned them and the global holding
// their library's client; the other greenlets are listed apart, not blamed.
import { formatDuration } from '../../core/duration.js';
import { greenletName } from '../../core/format.js';
import type { PythonGreenlet, PythonState } from '../../core/types.js';
import { appFrameOf, describeHolders, describePythonLine, libraryFrameOf, libraryOfStack, listNames, pythonLocation } from '../python-frames.js';
import type { Rule, RuleFinding } from '../rule.js';

const KNOWN_LIBRARIES = ['pymongo', 'kombu', 'redis', 'apscheduler'];

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
    const why = `with gevent-wait-for-hub a worker exits on reload only when the gevent hub dies, i.e. when every greenlet has ended, monkey-patched threads included. Greenlets that never end (pymongo ≥ 3's monitor and pool threads, any background loop) hold it until worker-reload-mercy (${mercy}) kills it: "taking too much time to die...NO MERCY !!!".`;
    const fix = 'drop gevent-wait-for-hub and keep the greenlets that matter in a gevent Pool or Group that you join on reload; or close your clients on reload (MongoClient.close() stops pymongo\'s threads). A uwsgi.atexit hook is too late: under gevent-wait-for-hub uWSGI waits for the hub before it runs atexit hooks';
    const python = snapshot.python;
    const keepers = python?.greenlets.filter((g) => g.keepsHubAlive) ?? [];
    if (!python || keepers.length === 0) {
      return [{
        title: `uWSGI worker waits for every greenlet (gevent-wait-for-hub)${mongo.length > 0 ? ' — MongoDB client still open' : ''}`,
        severity: 'blocks', why: `${why} ${evidence}`.trim(), fix, handles,
      }];
    }
    return [keepersFinding(keepers, python, why, evidence, fix, handles), ...otherGreenlets(python)];
  },
};

function keepersFinding(keepers: PythonGreenlet[], python: PythonState, why: string, evidence: string, fix: string, handles: RuleFinding['handles']): RuleFinding {
  const library = mostCommon(keepers.map((g) => libraryOfStack(g.stack, KNOWN_LIBRARIES)));
  const names = keepers.map(greenletName);
  // gevent keeps 10 frames of each spawning stack: the app line may be in only some of them.
  const spawn = keepers.map((g) => appFrameOf(g.spawnedAt)).find((frame) => frame !== undefined);
  const held = describeHolders(python.holders, library);
  const n = keepers.length;
  const whose = library ? `${library} ` : '';
  const title = `${n} greenlet${n === 1 ? ' keeps' : 's keep'} the gevent hub alive: ${whose}${listNames(names.map((name) => `\`${name}\``))}${spawn ? `, spawned at ${describePythonLine(spawn)}` : ''}${held ? `, held by ${held}` : ''}`;
  const waits = keepers.map((g) => libraryFrameOf(g.stack, library) ?? appFrameOf(g.stack)).find((frame) => frame !== undefined);
  const found = `reload-doctor read the worker (--py-stacks): ${n === 1 ? 'this greenlet is' : 'these greenlets are'} what it waits for — an active hub watcher wakes ${n === 1 ? 'it' : 'each'} again${waits ? ` (${describePythonLine(waits)})` : ''}.`;
  const client = python.holders.find((holder) => holder.type.split('.')[0] === 'pymongo' && !holder.name.includes('.'))?.name ?? 'client';
  const libraryFix = library === 'pymongo'
    ? `close the client when the worker is told to stop: \`gevent.signal_handler(signal.SIGHUP, ${client}.close)\` in the module that creates it (uWSGI sends each worker SIGHUP on a graceful reload; MongoClient.close() ends pymongo's greenlets and the worker is replaced at once); or drop gevent-wait-for-hub. A uwsgi.atexit hook is too late: under gevent-wait-for-hub uWSGI waits for the hub before it runs atexit hooks`
    : fix;
  return { title, severity: 'blocks', why: `${why} ${found} ${evidence}`.trim(), fix: libraryFix, handles, ...(spawn ? { location: pythonLocation(spawn) } : {}), ...(library ? { owner: { name: library } } : {}) };
}

/** Greenlets that do not keep the hub alive (uWSGI's own, the hub itself, idle pool workers): listed, not blamed. */
function otherGreenlets(python: PythonState): RuleFinding[] {
  const others = python.greenlets.filter((g) => !g.keepsHubAlive);
  if (others.length === 0) return [];
  return [{
    variant: 'other-greenlets',
    title: `${others.length} other greenlet${others.length === 1 ? '' : 's'} do${others.length === 1 ? 'es' : ''} not keep the hub alive: ${listNames(others.map(greenletName))}`,
    severity: 'harmless',
    why: 'no active referenced hub watcher wakes them: they end, or wait, with the hub',
    fix: 'nothing to do',
    handles: [],
  }];
}

function mostCommon(values: ReadonlyArray<string | undefined>): string | undefined {
  const counts = new Map<string, number>();
  for (const value of values) if (value) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}
