// A plain Python process that does not exit after the signal, read with --py-stacks: its main
// thread still runs (where, and in what), or it has finished and the interpreter waits at exit
// for threads that are not daemon threads (threading._shutdown joins every one, and
// concurrent.futures joins its pools' threads). Each such thread is named with its library and
// the library's usual fix: an APScheduler job, a kombu consumer loop, or the app's own thread.
import type { PythonFrame, PythonState, PythonThread } from '../../core/types.js';
import { appFrameOf, describePythonLine, libraryOfStack, pythonLocation } from '../python-frames.js';
import type { Rule, RuleFinding } from '../rule.js';

interface Family { why: string; fix: string }

const FAMILIES: Record<string, Family> = {
  apscheduler: {
    why: 'APScheduler runs each job in a concurrent.futures thread pool, and at exit the interpreter joins the pool\'s threads: it waits for the job to return',
    fix: 'call scheduler.shutdown(wait=False) when the signal comes, and have long jobs return when asked (a threading.Event they check); or run them in a process pool',
  },
  kombu: {
    why: 'a kombu consumer loop (ConsumerMixin.run → consume → drain_events) never returns by itself',
    fix: 'set should_stop = True on the consumer when the signal comes (ConsumerMixin checks it between drain_events timeouts) and join its thread; or start that thread with daemon=True',
  },
  pymongo: {
    why: 'pymongo\'s monitor threads run until the client is closed',
    fix: 'call client.close() in your shutdown',
  },
};
const KNOWN = Object.keys(FAMILIES);

export const pythonThreadsRule: Rule = {
  id: 'python-threads',
  explain(_handles, snapshot): RuleFinding[] {
    const python = snapshot.python;
    // A gevent worker's greenlet-threads are the hub rule's (uwsgi.ts).
    if (!python || python.greenlets.length > 0) return [];
    const main = python.threads.find((t) => t.main);
    const atExit = main === undefined || isWaitingAtExit(main);
    const findings: RuleFinding[] = [];
    if (main && !atExit) findings.push(mainThreadFinding(main));
    // concurrent.futures joins its pools' threads at exit, daemon or not (they inherit daemon from their creator).
    const joinsPools = main !== undefined && main.stack.some(isPoolExitHook);
    const waitedFor = python.threads.filter((t) => !t.main && (t.daemon === false || (joinsPools && t.stack.some(isPoolWorker))));
    for (const thread of waitedFor) findings.push(threadFinding(thread, atExit, python));
    return findings;
  },
};

const isPoolExitHook = (f: PythonFrame) => f.function === '_python_exit' && /concurrent\/futures\/thread\.py$/.test(f.file);
const isPoolWorker = (f: PythonFrame) => f.function === '_worker' && /concurrent\/futures\/thread\.py$/.test(f.file);

/** Finished, in threading._shutdown (or concurrent.futures' exit hook), joining the other threads. */
function isWaitingAtExit(main: PythonThread): boolean {
  return main.stack.some((f) => (f.function === '_shutdown' && /threading\.py$/.test(f.file)) || isPoolExitHook(f));
}

function mainThreadFinding(main: PythonThread): RuleFinding {
  const here = appFrameOf(main.stack) ?? main.stack.at(-1);
  const inner = main.stack.at(-1);
  return {
    variant: 'main-thread',
    title: `the main thread is still running${here ? ` at ${describePythonLine(here)}` : ''}${inner && inner !== here ? ` (in ${inner.function})` : ''}`,
    severity: 'blocks',
    why: 'the signal did not end the main thread: a handler that returns without stopping it, a loop that never checks a stop flag, or a call that never returns',
    fix: 'make the signal stop the main loop (raise SystemExit from the handler, or set a flag the loop checks), then close what it opened',
    handles: [],
    ...(here ? { location: pythonLocation(here) } : {}),
  };
}

function threadFinding(thread: PythonThread, atExit: boolean, python: PythonState): RuleFinding {
  const library = libraryOfStack(thread.stack, KNOWN);
  const family = library ? FAMILIES[library] : undefined;
  const app = appFrameOf(thread.stack);
  const inner = thread.stack.at(-1);
  const name = thread.name ?? `thread ${thread.ident}`;
  const owner = library ? `${library}'s` : 'your';
  const waiting = atExit ? 'the main thread has finished and Python waits for it at exit (threading._shutdown)' : 'when the main thread ends, Python will wait for it at exit (threading._shutdown)';
  const holders = library ? python.holders.filter((h) => h.type.split('.')[0] === library) : [];
  return {
    variant: library && family ? library : 'thread',
    title: `${owner} thread \`${name}\` is still running and Python waits for it at exit${app ? `: ${describePythonLine(app)}` : ''}`,
    severity: 'blocks',
    why: `${waiting}${inner ? `; it is in ${inner.function} (${describePythonLine(inner)})` : ''}${family ? `. ${family.why}` : ''}${holders.length > 0 ? `. Held by module global ${holders.map((h) => `\`${h.name}\``).join(', ')}` : ''}`,
    fix: family?.fix ?? 'tell the thread to stop (a threading.Event its loop checks) and join it in your shutdown; or start it with daemon=True if it may be cut off',
    handles: [],
    ...(app ? { location: pythonLocation(app) } : {}),
    ...(library ? { owner: { name: library } } : {}),
  };
}
