// What we turned on inside a target must be turned off on every path, Ctrl-C included.
import { bestEffort } from './debug.js';

const cleanups = new Set<() => Promise<unknown>>();

export function addCleanup(cleanup: () => Promise<unknown>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export async function runCleanups(): Promise<void> {
  const pending = [...cleanups];
  cleanups.clear();
  await Promise.all(pending.map((cleanup) => cleanup().catch(bestEffort('a cleanup on interrupt'))));
}

/** On SIGINT/SIGTERM to reload-doctor itself: clean up, then exit 128 + signal number. */
export function cleanUpOnInterrupt(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nreload-doctor: interrupted (${signal}); closing what we opened in the target\n`);
      void runCleanups().finally(() => process.exit(code));
    });
  }
}
